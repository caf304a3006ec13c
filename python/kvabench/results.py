"""What Machine methods return: frozen dataclasses (Record) and tables of them."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Dict, Iterator, NamedTuple, Optional, Tuple

from ._display import Record, Table, flag_text, html_table, text_table
from .flags import PteFlags

__all__ = [
    "ArchInfo", "FaultInfo", "VaRange", "PteState", "TlbEntry", "TlbView", "StaleReport",
    "StaleReports", "SfBufSlot", "SfBufPool", "CounterGroup", "Counters",
]


@dataclasses.dataclass(frozen=True)
class ArchInfo(Record):
    """An arch variant of the registry (kvabench.archs())."""

    name: str
    description: str
    emulated: bool   #: False for the pure-software reference pmaps
    default: bool    #: in the default set (run when a testcase names no arch)


@dataclasses.dataclass(frozen=True)
class FaultInfo(Record):
    """A fault-injection switch (kvabench.faults())."""

    name: str
    description: str
    pool_only: bool  #: changes nothing on archs with a direct map (sf_buf pool mode only)


class VaRange(NamedTuple):
    """[start, end) of virtual addresses."""

    start: int
    end: int

    @property
    def size(self) -> int:
        """end - start, in bytes."""
        return self.end - self.start

    def __contains__(self, va: object) -> bool:  # type: ignore[override]
        return isinstance(va, int) and self.start <= va < self.end

    def __repr__(self) -> str:
        return f"VaRange({self.start:#x}, {self.end:#x})"


@dataclasses.dataclass(frozen=True)
class PteState(Record):
    """The leaf page-table entry for a VA, decoded (Machine.pte())."""

    va: int
    valid: bool
    pa: int          #: page frame address (0 when not valid)
    writable: bool
    accessed: bool   #: set by a hardware walk (x86 PG_A)
    modified: bool   #: set by a write (x86 PG_M)
    global_: bool    #: survives an address-space switch
    _hex_fields = ("va", "pa")

    @property
    def flags(self) -> PteFlags:
        """The boolean attributes as PteFlags."""
        f = PteFlags.NONE
        for name in ("valid", "writable", "accessed", "modified", "global"):
            if self[name]:
                f |= PteFlags[name.upper()]
        return f

    def __repr__(self) -> str:
        if not self.valid:
            return f"PteState(va={self.va:#x}, invalid)"
        return f"PteState(va={self.va:#x}, pa={self.pa:#x}, flags={flag_text(self.flags)})"


@dataclasses.dataclass(frozen=True)
class TlbEntry(Record):
    """A translation the architectural TLB model says a CPU may hold (Machine.tlb()).

    ``stale`` marks an entry that differs from what the page tables map now, and ``reason``
    says why the ISA still lets the CPU use it."""

    cpu: int
    va: int
    pa: int
    writable: bool
    global_: bool
    stale: bool
    reason: str
    _hex_fields = ("va", "pa")


class TlbView(Table[TlbEntry]):
    """TLB entries of one CPU, or of every CPU (Machine.tlb()); stale rows are highlighted."""

    highlight = "stale"

    def stale(self) -> "TlbView":
        """Only the entries that differ from the current tables."""
        return self.where(stale=True)

    def by_cpu(self) -> Dict[int, "TlbView"]:
        """{cpu: its entries}, in CPU order."""
        return {cpu: self.where(cpu=cpu) for cpu in sorted({e.cpu for e in self})}

    def side_by_side(self) -> "tuple[list[str], list[dict]]":
        """(columns, rows): one row per VA, one column per CPU (the PA it may use, '*' stale)."""
        cpus = sorted({e.cpu for e in self})
        rows: Dict[int, Dict[str, str]] = {}
        for e in self:
            row = rows.setdefault(e.va, {"va": f"{e.va:#x}"})
            row[f"cpu{e.cpu}"] = f"{e.pa:#x}" + (" *stale" if e.stale else "")
        return ["va"] + [f"cpu{c}" for c in cpus], [rows[va] for va in sorted(rows)]

    def __repr__(self) -> str:
        if len({e.cpu for e in self}) <= 1:
            return super().__repr__()
        columns, rows = self.side_by_side()
        return (f"{self.caption}\n" if self.caption else "") + text_table(columns, rows)

    def _repr_html_(self) -> str:
        if len({e.cpu for e in self}) <= 1:
            return super()._repr_html_()
        columns, rows = self.side_by_side()
        return html_table(columns, rows, self.caption)


@dataclasses.dataclass(frozen=True)
class StaleReport(Record):
    """One stale access found by an oracle (Machine.stale()).

    ``oracle`` is 'observed' (the guest really got the old page's bytes, or its store landed
    there) or 'architectural' (the ISA permits the CPU to still hold a translation that differs
    from the tables, even if the emulator flushed it)."""

    oracle: str
    access: str                 #: 'load' or 'store'
    cpu: int
    va: int
    expected_pa: Optional[int]  #: what the tables map now (None: unmapped)
    cached_pa: Optional[int]    #: the translation the CPU used or may use
    expected: bytes             #: observed oracle: the bytes the current mapping holds
    observed: bytes             #: observed oracle: the bytes the guest saw
    step: str                   #: Machine.set_step() label when it happened
    description: str
    _hex_fields = ("va", "expected_pa", "cached_pa")


class StaleReports(Table[StaleReport]):
    """Stale accesses, oldest first."""


@dataclasses.dataclass(frozen=True)
class SfBufSlot(Record):
    """One slot of the sf_buf pool (Machine.sf_buf_pool())."""

    index: int
    kva: int
    page_pa: Optional[int]     #: the page it maps (or keeps cached while free); None if never used
    ref_count: int
    cpumask: Tuple[int, ...]   #: CPUs whose TLB cannot hold a stale translation for kva
    lru: Optional[int]         #: position on the free list (0 = next to be recycled); None if in use
    generation: int            #: times the slot was recycled for another page
    _hex_fields = ("kva", "page_pa")


class SfBufPool(Table[SfBufSlot]):
    """The pool's slots in slot order; free ones carry their LRU position."""

    highlight = "ref_count"

    def free_list(self) -> "SfBufPool":
        """Free slots, least recently used (next to be recycled) first."""
        return SfBufPool(sorted((s for s in self if s.lru is not None), key=lambda s: s.lru), self.caption)


class CounterGroup(Mapping):
    """Counters of one subsystem: a read-only mapping that also allows ``group.ipis``."""

    def __init__(self, name: str, values: Mapping) -> None:
        self._name = name
        self._values = dict(values)

    def __getitem__(self, key: str) -> int:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> int:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no counter {self._name}.{key}; counters: {', '.join(self._values)}") from None

    def __sub__(self, other: "CounterGroup") -> "CounterGroup":
        return CounterGroup(self._name, {k: v - other.get(k, 0) for k, v in self._values.items()})

    def to_dict(self) -> Dict[str, int]:
        """{counter: value}."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"{self._name}(" + ", ".join(f"{k}={v}" for k, v in self._values.items()) + ")"


class Counters(Mapping):
    """Every counter, grouped as in YAML `expect:` / `check: counters:` (pmap, sf_buf, stale).

    ``c.pmap.ipis``, ``c['pmap']['ipis']`` and ``c.flat()['pmap.ipis']`` are the same value;
    ``after - before`` gives the difference (a YAML `since:`)."""

    def __init__(self, groups: Mapping) -> None:
        self._groups = {k: v if isinstance(v, CounterGroup) else CounterGroup(k, v) for k, v in groups.items()}

    def __getitem__(self, key: str) -> CounterGroup:
        return self._groups[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def __getattr__(self, key: str) -> CounterGroup:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._groups[key]
        except KeyError:
            raise AttributeError(f"no counter group {key}; groups: {', '.join(self._groups)}") from None

    def __sub__(self, other: "Counters") -> "Counters":
        return Counters({k: g - other[k] for k, g in self._groups.items() if k in other})

    def flat(self) -> Dict[str, int]:
        """{'pmap.ipis': n, ...}: the names of `kvabench run --json` results."""
        return {f"{g}.{k}": v for g, group in self._groups.items() for k, v in group.items()}

    def to_dict(self) -> Dict[str, Dict[str, int]]:
        """{group: {counter: value}}."""
        return {k: g.to_dict() for k, g in self._groups.items()}

    def to_pandas(self):
        """A one-column DataFrame indexed by 'group.counter'."""
        import pandas as pd

        return pd.Series(self.flat(), name="value").to_frame()

    def __repr__(self) -> str:
        return "Counters(\n" + "".join(f"  {g!r}\n" for g in self._groups.values()) + ")"

    def _repr_html_(self) -> str:
        rows = [{"counter": k, "value": str(v)} for k, v in self.flat().items()]
        return html_table(["counter", "value"], rows, "counters")
