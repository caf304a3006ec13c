"""Argument parsing for the friendly forms the API accepts: "16M" memory sizes and
"NOWAIT|CPUPRIVATE" sf_buf flags."""
import re

from ._core import SF_BUF_FLAGS

_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(size):
    """Bytes from an int or a string such as "16M", "512K", "1G", "16MiB" or "4096"."""
    if isinstance(size, bool):
        raise TypeError("memory must be an int or a size string such as '16M', not bool")
    if isinstance(size, int):
        if size <= 0:
            raise ValueError(f"memory must be positive, got {size}")
        return size
    if not isinstance(size, str):
        raise TypeError(f"memory must be an int or a size string such as '16M', not {type(size).__name__}")
    match = _SIZE_RE.match(size)
    if not match:
        raise ValueError(f"memory {size!r} is not a size: use bytes or a K/M/G suffix, e.g. '16M'")
    return parse_size(int(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def _flag_value(flag):
    if isinstance(flag, bool):
        raise TypeError("sf_buf flags must be names or ints, not bool")
    if isinstance(flag, int):
        if flag < 0:
            raise ValueError(f"sf_buf flags must be non-negative, got {flag}")
        return flag
    if not isinstance(flag, str):
        raise TypeError(f"sf_buf flags must be names or ints, not {type(flag).__name__}")
    name = flag.strip().upper()
    name = name[len("SFB_"):] if name.startswith("SFB_") else name
    if name not in SF_BUF_FLAGS:
        raise ValueError(f"unknown sf_buf flag {flag!r}; valid flags: {', '.join(SF_BUF_FLAGS)}")
    return SF_BUF_FLAGS[name]


def parse_sf_buf_flags(flags):
    """An sf_buf_alloc flags int from an int, "NOWAIT|CPUPRIVATE" (SFB_ prefix optional), or a
    list of names/ints."""
    if isinstance(flags, str):
        flags = [part for part in re.split(r"[|,\s]+", flags) if part]
    elif isinstance(flags, (list, tuple, set, frozenset)):
        flags = list(flags)
    else:
        flags = [flags]
    value = 0
    for flag in flags:
        value |= _flag_value(flag)
    return value
