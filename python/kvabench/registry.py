"""The arch and fault registries, as the C++ core defines them."""
from __future__ import annotations

from . import _core
from ._display import Table
from .results import ArchInfo, FaultInfo

__all__ = ["archs", "faults"]


class _Registry(Table):
    def names(self) -> list:
        """The names, in registry order."""
        return [r.name for r in self]


def archs() -> "_Registry":
    """Arch variants in registry order (emulated first): name, description, emulated, default."""
    return _Registry([ArchInfo(**a) for a in _core.archs()], "arch registry")


def faults() -> "_Registry":
    """Fault-injection switches: name, description, pool_only."""
    return _Registry([FaultInfo(**f) for f in _core.faults()], "fault switches")
