"""Flag sets as :class:`enum.IntFlag`: sf_buf_alloc and getblk flags, b_flags, decoded PTE
attributes. Values come from the C++ core (FreeBSD's where FreeBSD defines them)."""
from __future__ import annotations

import enum
from typing import Any, Iterable, Union

from . import _core
from .errors import ArgumentError, ArgumentTypeError

__all__ = ["SfBufFlags", "PteFlags", "SfBufFlagsLike", "GbFlags", "BufFlags", "GbFlagsLike"]


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


def _names(value: Any, argument: str, prefix: str) -> list:
    """'A|B', 'A,B', one name or a list of names, upper-cased and without `prefix`."""
    if isinstance(value, str):
        value = value.replace(",", "|").split("|")
    elif isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise ArgumentTypeError(f"expected an int, a name or a list of names, not {type(value).__name__}", argument)
    out = []
    for name in value:
        if not isinstance(name, str):
            raise ArgumentTypeError(f"expected flag names, not {type(name).__name__}", argument)
        name = name.strip().upper()
        out.append(name[len(prefix):] if name.startswith(prefix) else name)
    return [n for n in out if n]


_GB = _core.GB_FLAGS


class GbFlags(enum.IntFlag):
    """getblk(9) flags (Machine.getblk/bread/geteblk): GB_NOWAIT is FreeBSD's GB_LOCK_NOWAIT.

    Anywhere they are taken, an int, 'NOCREAT', 'UNMAPPED|NOWAIT' or a list of names (the GB_
    prefix optional) also works."""

    NONE = 0
    NOWAIT = _GB["NOWAIT"]      #: NULL rather than sleep on a held buffer or for a free one
    NOCREAT = _GB["NOCREAT"]    #: NULL when the block is not in the cache
    UNMAPPED = _GB["UNMAPPED"]  #: the caller needs no KVA

    @classmethod
    def parse(cls, value: Any, argument: str = "flags") -> "GbFlags":
        """Any accepted spelling of getblk flags, as GbFlags (errors name `argument`)."""
        if isinstance(value, bool):
            raise ArgumentTypeError("expected getblk flags, not bool", argument)
        if isinstance(value, int):
            if value & ~int(cls.NOWAIT | cls.NOCREAT | cls.UNMAPPED) or value < 0:
                raise ArgumentError(f"{value:#x} has bits that are no getblk flag", argument)
            return cls(value)
        out = cls.NONE
        for name in _names(value, argument, "GB_"):
            if name not in cls.__members__ or name == "NONE":
                raise ArgumentError(f"unknown getblk flag {name!r}; valid: NOWAIT, NOCREAT, UNMAPPED", argument)
            out |= cls[name]
        return out


GbFlagsLike = Union[GbFlags, int, str, Iterable[str]]

#: b_flags bits front ends name (Buf.flags), B_ prefix dropped: BufFlags.DELWRI is B_DELWRI.
BufFlags = enum.IntFlag("BufFlags", {k[2:]: v for k, v in sorted(_core.BUF_FLAGS.items(), key=lambda kv: kv[1])},
                        module=__name__)
BufFlags.__doc__ = "struct buf b_flags (B_CACHE, B_DELWRI, ...; Buf.flags), with the core's values."


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
