"""Flag sets as :class:`enum.IntFlag`: sf_buf_alloc flags and decoded PTE attributes."""
from __future__ import annotations

import enum
from typing import Any, Iterable, Union

from . import _core
from .errors import ArgumentError, ArgumentTypeError

__all__ = ["SfBufFlags", "PteFlags", "SfBufFlagsLike"]


class SfBufFlags(enum.IntFlag):
    """sf_buf_alloc(9) flags, with FreeBSD's values (sys/sf_buf.h); SFB_DEFAULT is 0.

    Anywhere flags are taken, an int, a name ('NOWAIT'), 'NOWAIT|CATCH' or a list of names
    (the SFB_ prefix optional) also works."""

    DEFAULT = 0
    CATCH = 1        #: a signal interrupts the sleep: sf_buf_alloc returns NULL
    CPUPRIVATE = 2   #: the mapping need only be valid on the current CPU
    NOWAIT = 4       #: return NULL instead of sleeping when the pool is empty


SfBufFlagsLike = Union[SfBufFlags, int, str, Iterable[Union[str, int]]]


def sf_buf_flags(value: Any, argument: str = "flags") -> SfBufFlags:
    """Any accepted spelling of sf_buf flags, as SfBufFlags (errors name `argument`)."""
    try:
        return SfBufFlags(_core.parse_sf_buf_flags(value))
    except TypeError as e:
        raise ArgumentTypeError(str(e), argument) from None
    except ValueError as e:
        raise ArgumentError(str(e), argument) from None


class PteFlags(enum.IntFlag):
    """A leaf entry's attributes, decoded into machine-independent terms (PteState.flags)."""

    NONE = 0
    VALID = 1 << 0
    WRITABLE = 1 << 1
    ACCESSED = 1 << 2    #: x86 PG_A, arm64 AF, riscv A
    MODIFIED = 1 << 3    #: x86 PG_M, arm64 DBM-dirty, riscv D
    GLOBAL = 1 << 4      #: survives an address-space switch (x86 PG_G, arm64 !nG, riscv G)
    EXECUTABLE = 1 << 5

    @classmethod
    def parse(cls, value: Any, argument: str = "flags") -> "PteFlags":
        """PteFlags from PteFlags/int, 'VALID|WRITABLE' or a list of names."""
        if isinstance(value, bool):
            raise ArgumentTypeError("expected PteFlags, an int or names, not bool", argument)
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, str):
            value = [v for v in value.replace(",", "|").split("|") if v.strip()]
        out = cls.NONE
        try:
            for name in value:
                out |= cls[name.strip().upper()] if isinstance(name, str) else cls(name)
        except KeyError as e:
            raise ArgumentError(f"unknown PTE flag {e}; valid: {', '.join(m.name for m in cls if m.name != 'NONE')}",
                                argument) from None
        except TypeError:
            raise ArgumentTypeError(f"expected PteFlags, an int or names, not {type(value).__name__}",
                                    argument) from None
        return out
