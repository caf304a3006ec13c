"""Argument checks shared by the API: every failure names the argument (kvabench.errors)."""
from __future__ import annotations

import operator
from typing import Any, Iterable, Optional

from .errors import ArgumentError, ArgumentTypeError

U64 = 1 << 64


def integer(name: str, value: Any, lo: Optional[int] = None, hi: Optional[int] = None) -> int:
    """value as an int in [lo, hi] (bounds inclusive; None: unbounded)."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise ArgumentTypeError(f"expected an int, not {type(value).__name__}", name)
    value = operator.index(value)
    if lo is not None and value < lo or hi is not None and value > hi:
        if lo is not None and hi is not None:
            bounds = f"between {lo} and {hi}"
        elif lo is not None:
            bounds = f"at least {lo}"
        else:
            bounds = f"at most {hi}"
        raise ArgumentError(f"{value} is out of range: must be {bounds}", name)
    return value


def address(name: str, value: Any) -> int:
    """A 64-bit address (VA or PA) as an int."""
    value = integer(name, value)
    if not 0 <= value < U64:
        raise ArgumentError(f"{value:#x} is not a 64-bit address", name)
    return value


def count(name: str, value: Any, lo: int = 1, hi: int = (1 << 31) - 1) -> int:
    return integer(name, value, lo, hi)


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"expected True or False, not {type(value).__name__}", name)
    return value


def string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"expected a str, not {type(value).__name__}", name)
    return value


def names(name: str, value: Any) -> list:
    """One name or an iterable of names, as a list of str (None: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise ArgumentTypeError(f"expected a name or a list of names, not {type(value).__name__}", name)
    out = []
    for item in value:
        out.append(string(name, item))
    return out


def choice(name: str, value: Any, valid: Iterable[str]) -> str:
    valid = list(valid)
    value = string(name, value)
    if value not in valid:
        raise ArgumentError(f"unknown value {value!r}; valid: {', '.join(valid)}", name)
    return value
