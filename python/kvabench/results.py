"""What Machine methods return: frozen dataclasses (Record) and tables of them."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Dict, Iterator, NamedTuple, Optional, Tuple

from ._display import Record, Table, flag_text, html_table, size_text, text_table
from .flags import PteFlags

__all__ = [
    "ArchInfo", "FaultInfo", "VaRange", "PteState", "Capabilities", "TlbEntry", "TlbView", "StaleReport",
    "StaleReports", "SfBufSlot", "SfBufPool", "CounterGroup", "Counters", "BufViolation", "BufViolations",
    "LostWrite", "LostWrites", "SendfileResult",
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
    subsystem: str   #: what it breaks: 'sf_buf', 'pmap', 'buf', ...


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
    pa: int          #: the 4 KiB frame va maps (0 when not valid)
    writable: bool   #: through every level of the walk
    accessed: bool   #: set by a hardware walk (x86 PG_A)
    modified: bool   #: set by a write (x86 PG_M)
    global_: bool    #: survives an address-space switch
    executable: bool
    page_size: int   #: bytes the leaf maps (4K, or a large page)
    cache: str       #: memory type: 'wb', 'wt', 'uc-' or 'uc'
    level: int       #: walk level of the leaf (0 = root); -1 when not valid
    _hex_fields = ("va", "pa")

    @property
    def flags(self) -> PteFlags:
        """The boolean attributes as PteFlags."""
        f = PteFlags.NONE
        for name in ("valid", "writable", "accessed", "modified", "global", "executable"):
            if self[name]:
                f |= PteFlags[name.upper()]
        return f

    def __repr__(self) -> str:
        if not self.valid:
            return f"PteState(va={self.va:#x}, invalid)"
        size = "" if self.page_size == 4096 else f", page_size={size_text(self.page_size)}"
        cache = "" if self.cache == "wb" else f", cache={self.cache}"
        return f"PteState(va={self.va:#x}, pa={self.pa:#x}, flags={flag_text(self.flags)}{size}{cache})"


@dataclasses.dataclass(frozen=True)
class Capabilities(Record):
    """What an arch supports (Machine.capabilities()): front ends test these, never arch names."""

    large_page_sizes: Tuple[int, ...]   #: kenter_large sizes, ascending
    global_entries: bool                #: kenter(global_=...) and flush_local(include_global)
    cache_modes: bool                   #: kenter(cache=...) other than 'wb'
    table_reach: Tuple[int, ...]        #: VA reach of the upper-level entries, lowest level first
    walk_cache: bool                    #: upper-level entries may be cached
    root_registers: bool                #: top-level entries held in registers until a root reload
    requires_break_before_make: bool
    caches_invalid_entries: bool        #: a faulting walk's result may be cached
    broadcast_invalidation: bool        #: invalidations reach every CPU at once (no IPIs)
    accessed_flag_faults: bool          #: an access through a leaf with A/AF clear faults
    sbi_invalidation: bool              #: remote fences are SBI calls with a hart mask
    page_fence_keeps_tables: bool       #: a one-address fence keeps cached upper-level entries
    software_ad: bool                   #: Machine(ad='software') is available
    growable_kva: bool                  #: growkernel() works
    write_drops_readonly_entry: bool
    reference: bool                     #: a software reference MMU (no emulator, no ISA)


@dataclasses.dataclass(frozen=True)
class TlbEntry(Record):
    """A translation the architectural TLB model says a CPU may hold (Machine.tlb()).

    ``stale`` marks a retired translation (the tables no longer say so) the ISA still lets the
    CPU use; ``rule`` says which rule permits it and ``holding`` whether the CPU walked it
    ('demand') or may hold it without having used it ('speculative')."""

    cpu: int
    va: int
    span: int        #: VA bytes covered (a page, a large page, or a table entry's reach)
    pa: int          #: leaf: the frame; table entry: the next table page
    kind: str        #: 'leaf', 'table', 'root register' or 'invalid'
    name: str        #: the arch's name of the entry ('PTE', 'PDE', ...)
    level: int
    writable: bool
    global_: bool
    asid: int
    stale: bool
    holding: str
    bbm: bool        #: written valid-to-valid without break-before-make
    rule: Optional[str]
    _hex_fields = ("va", "pa")
    _size_fields = ("span",)


class TlbView(Table[TlbEntry]):
    """TLB entries of one CPU, or of every CPU (Machine.tlb()); stale rows are highlighted."""

    highlight = "stale"

    def stale(self) -> "TlbView":
        """Only the retired translations a CPU may still use."""
        return self.where(stale=True)

    def plot(self, ax: Any = None) -> Any:
        """plots.plot_tlb_occupancy: per-CPU bars of current, stale and table entries."""
        from .plots import plot_tlb_occupancy

        return plot_tlb_occupancy(self, ax)

    def leaves(self) -> "TlbView":
        """Only page translations (no paging-structure-cache entries)."""
        return self.where(kind="leaf")

    def by_cpu(self) -> Dict[int, "TlbView"]:
        """{cpu: its entries}, in CPU order."""
        return {cpu: self.where(cpu=cpu) for cpu in sorted({e.cpu for e in self})}

    def side_by_side(self) -> "tuple[list[str], list[dict]]":
        """(columns, rows): one row per (VA, entry name), one column per CPU with the PA it may
        use ('!' marks a stale one)."""
        cpus = sorted({e.cpu for e in self})
        rows: Dict[Tuple[int, str], Dict[str, str]] = {}
        for e in self:
            row = rows.setdefault((e.va, e.name), {"va": f"{e.va:#x}", "entry": e.name})
            cell = f"{e.pa:#x}" + (" !" if e.stale else "")
            key = f"cpu{e.cpu}"
            row[key] = f"{row[key]}, {cell}" if key in row else cell
        return ["va", "entry"] + [f"cpu{c}" for c in cpus], [rows[k] for k in sorted(rows)]

    def __repr__(self) -> str:
        if len({e.cpu for e in self}) <= 1:
            return super().__repr__()
        columns, rows = self.side_by_side()
        return f"{self.caption} (! = stale)\n" + text_table(columns, rows)

    def _repr_html_(self) -> str:
        if len({e.cpu for e in self}) <= 1:
            return super()._repr_html_()
        columns, rows = self.side_by_side()
        return html_table(columns, rows, f"{self.caption} (! = stale)",
                          lambda i: "background-color:#fdd" if any(" !" in v for v in rows[i].values()) else "")


@dataclasses.dataclass(frozen=True)
class StaleReport(Record):
    """One stale access found by an oracle (Machine.stale()).

    ``oracle``: 'observed' (the guest really got the old page's bytes, or its store landed
    there), 'architectural' (the ISA permits the CPU to still hold a translation that differs
    from the tables, even if the emulator flushed it), 'bbm' (break-before-make violated) or
    'negative' (a cached invalid entry). ``rule`` names the ISA rule that permitted it."""

    oracle: str
    access: str                 #: 'load' or 'store'
    cpu: int
    va: int
    expected_pa: Optional[int]  #: what the tables map now (None: unmapped)
    cached_pa: Optional[int]    #: the translation the CPU used or may use
    expected: bytes             #: observed oracle: the bytes the current mapping holds
    observed: bytes             #: observed oracle: the bytes the guest saw
    step: str                   #: Machine.set_step() label when it happened
    holding: Optional[str]      #: 'demand' or 'speculative' (architectural)
    entry: Optional[str]        #: the held entry, in the arch's words
    rule: Optional[str]         #: the rule that permits the CPU to hold it
    rights: bool                #: stale only in its rights (e.g. a writable entry after protect)
    via_table: bool             #: reached through a stale upper-level (paging-structure) entry
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


@dataclasses.dataclass(frozen=True)
class BufViolation(Record):
    """A buffer invariant the cache broke (Machine.buf_violations()), found after the step."""

    step: str
    buf: int       #: the buffer's index (Buf.index)
    message: str


class BufViolations(Table[BufViolation]):
    """Buffer invariant violations, oldest first."""


@dataclasses.dataclass(frozen=True)
class LostWrite(Record):
    """Bytes a write put in a file that the device does not hold where it must (after fsync or
    sync: what was synced; after a crash: what was synced before it). Machine.lost_writes()."""

    step: str
    file: str
    offset: int       #: first differing byte in the file
    length: int       #: of the differing run reported
    expected: bytes   #: what the file's reference model holds (first bytes)
    device: bytes     #: what the device holds
    when: str         #: 'after fsync', 'after crash', ...


class LostWrites(Table[LostWrite]):
    """Lost writes the oracle found, oldest first."""


@dataclasses.dataclass(frozen=True)
class SendfileResult(Record):
    """What Machine.sendfile() sent through sf_bufs."""

    bytes: int
    pages: int                      #: sf_bufs used (one per page touched)
    checksum: int                   #: Adler-32 of what the guest read
    first_mismatch: Optional[int]   #: file offset where the guest read other bytes than the file's; None


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
    """Every counter, grouped as in YAML `expect:` / `check: counters:` (pmap, sf_buf, stale,
    buf, vfs).

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
