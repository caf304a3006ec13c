"""Mapping exploration on every arch: the kernel page tables as merged runs with owners
(mappings), a walk with every level (walk), every VA of a physical page (aliases), and
snapshots with diffs of mappings, PTE bits and TLB-model entries.

The arch-specific decoding (entry names, bits, levels) comes from the C++ arch modules through
Pmap::walk / mapped_leaves; nothing here knows an arch."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _checks
from ._display import Record, Table, flag_text, html_table, size_text, text_table
from .flags import PteFlags
from .results import TlbEntry

if TYPE_CHECKING:  # pragma: no cover
    from .machine import Machine

__all__ = ["WalkLevel", "Walk", "Mapping", "Mappings", "Alias", "Snapshot", "SnapshotDiff", "Change", "diff"]

PAGE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class WalkLevel(Record):
    """One entry a page-table walk read, decoded by the arch."""

    level: int
    name: str                #: the arch's name ('PML4E', 'PDE', 'PTE', ...)
    table: int               #: physical address of the table holding the entry
    index: Optional[int]     #: its index in that table (None where there are no tables)
    slot: int                #: physical address of the entry
    raw: int                 #: the entry as stored
    present: bool
    leaf: bool               #: maps a page (4K, or large at this level)
    writable: bool
    user: bool
    accessed: bool
    dirty: bool
    global_: bool
    executable: bool
    cache: str
    next: int                #: the next table page, or the frame of a leaf
    reach: int               #: VA bytes the entry covers
    _hex_fields = ("table", "slot", "raw", "next")

    @property
    def flags(self) -> PteFlags:
        """present/writable/accessed/dirty/global/executable as PteFlags."""
        f = PteFlags.NONE
        for attr, flag in (("present", PteFlags.VALID), ("writable", PteFlags.WRITABLE),
                           ("accessed", PteFlags.ACCESSED), ("dirty", PteFlags.MODIFIED),
                           ("global_", PteFlags.GLOBAL), ("executable", PteFlags.EXECUTABLE)):
            if getattr(self, attr):
                f |= flag
        return f

    _size_fields = ("reach",)

    def _cells(self) -> Dict[str, str]:
        cells = super()._cells()
        cells["index"] = "-" if self.index is None else str(self.index)
        return cells

    @classmethod
    def from_raw(cls, d: Dict[str, Any]) -> "WalkLevel":
        d = dict(d)
        d["global_"] = d.pop("global")
        return cls(**d)


class WalkLevels(Table[WalkLevel]):
    """The levels of a walk, root first."""


@dataclasses.dataclass(frozen=True)
class Walk:
    """A software walk of the real tables for one VA: every level read, root first, and where
    it ends: the physical address, or the level at which it faults.

    str(walk) is the arch's one-line-per-level text; in Jupyter it renders as a table."""

    va: int
    levels: WalkLevels
    text: str

    @property
    def leaf(self) -> Optional[WalkLevel]:
        """The leaf entry, or None when the walk faults."""
        last = self.levels[-1] if self.levels else None
        return last if last is not None and last.present and last.leaf else None

    @property
    def pa(self) -> Optional[int]:
        """The physical address va translates to (offset kept), or None."""
        leaf = self.leaf
        return None if leaf is None else leaf.next + (self.va & (leaf.reach - 1))

    @property
    def fault(self) -> Optional[str]:
        """Why the walk faults ('PTE not present at level 1'), or None when it maps."""
        if self.leaf is not None:
            return None
        last = self.levels[-1] if self.levels else None
        return "no table" if last is None else f"{last.name} not present at level {last.level}"

    def to_dict(self) -> Dict[str, Any]:
        """va, pa, fault and the levels as dicts."""
        return {"va": self.va, "pa": self.pa, "fault": self.fault, "levels": self.levels.to_dicts()}

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        end = f"-> pa {self.pa:#x}" if self.pa is not None else f"-> fault: {self.fault}"
        columns = ["level", "name", "table", "index", "raw", "flags", "next", "reach"]
        rows = [{**lv._cells(), "flags": flag_text(lv.flags)} for lv in self.levels]
        return f"walk of {self.va:#x} {end}\n" + text_table(columns, rows)

    def _repr_html_(self) -> str:
        end = f"pa {self.pa:#x}" if self.pa is not None else f"fault: {self.fault}"
        columns = ["level", "name", "table", "index", "slot", "raw", "flags", "cache", "next", "reach"]
        rows = [{**lv._cells(), "flags": flag_text(lv.flags)} for lv in self.levels]
        return html_table(columns, rows, f"walk of {self.va:#x} -> {end}")


def walk(m: "Machine", va: int) -> Walk:
    va = m._va(va)
    raw = m._m()
    return Walk(va, WalkLevels([WalkLevel.from_raw(d) for d in raw.walk_levels(va)]), raw.walk(va))


# ----------------------------------------------------------------------------- mappings


@dataclasses.dataclass(frozen=True)
class Mapping(Record):
    """A run of contiguous leaves (VA and PA both contiguous, same attributes and owner)."""

    va: int                  #: first VA
    va_end: int              #: last VA + 1
    pa: int                  #: first PA
    pa_end: int
    size: int                #: bytes
    pages: int               #: leaves merged into the run
    page_size: int           #: bytes per leaf
    level: int
    entry: str               #: the arch's name of the leaves ('PTE', 'PDE', ...)
    flags: PteFlags
    cache: str
    owner: str               #: 'direct map', 'sf_buf #n', 'buf #n', 'raw reservation', 'page-table page', ...
    _hex_fields = ("va", "va_end", "pa", "pa_end")
    _size_fields = ("size", "page_size")


class Mappings(Table[Mapping]):
    """Kernel mappings as merged runs; filter with where(), in_range() or with_flags()."""

    def in_range(self, start: int, end: int) -> "Mappings":
        """Runs that overlap [start, end)."""
        return self.where(lambda r: r.va < end and start < r.va_end)

    def with_flags(self, flags: Union[PteFlags, int, str, Iterable[str]]) -> "Mappings":
        """Runs whose flags include every one of `flags`."""
        want = PteFlags.parse(flags)
        return self.where(lambda r: r.flags & want == want)

    def plot(self, ax: Any = None) -> Any:
        """plots.plot_va_map: the VA space coloured by owner."""
        from .plots import plot_va_map

        return plot_va_map(self, ax)

    def owners(self) -> Dict[str, int]:
        """{owner: bytes mapped}."""
        out: Dict[str, int] = {}
        for r in self:
            out[r.owner] = out.get(r.owner, 0) + r.size
        return out


def _leaf_flags(d: Dict[str, Any]) -> PteFlags:
    f = PteFlags.VALID
    for key, flag in (("writable", PteFlags.WRITABLE), ("accessed", PteFlags.ACCESSED), ("dirty", PteFlags.MODIFIED),
                      ("global", PteFlags.GLOBAL), ("executable", PteFlags.EXECUTABLE)):
        if d[key]:
            f |= flag
    return f


def _va_spans(m: "Machine") -> List[Tuple[int, int]]:
    """The address space as [first, last] spans of valid VAs (two halves when canonical)."""
    width, bits = m.va_format
    if bits >= width:
        return [(0, (1 << width) - 1)]
    half = 1 << (bits - 1)
    return [(0, half - 1), ((1 << 64) - half, (1 << 64) - 1)]


class _Owners:
    """Who a VA (or, failing that, a PA) belongs to."""

    def __init__(self, m: "Machine", page_tables: Sequence[int]) -> None:
        raw = m._m()
        self.slots = {slot.kva: slot.index for slot in m.sf_buf_pool()}
        self.reserved = sorted(raw.raw_reservations())
        self.buffers = sorted((base, base + size, index) for index, base, size in raw.buffer_kva())
        self.ram_base, self.ram_size = raw.ram
        self.dmap: Optional[Tuple[int, int]] = None
        if m.has_direct_map:  # PHYS_TO_DMAP is linear from PA 0
            start = raw.phys_to_dmap(self.ram_base) - self.ram_base
            self.dmap = (start, start + self.ram_base + self.ram_size)
        self.kva = m.kva_space
        self.page_tables = set(page_tables)

    def __call__(self, va: int, pa: int) -> str:
        if self.dmap and self.dmap[0] <= va < self.dmap[1]:
            return "direct map"
        if va in self.slots:
            return f"sf_buf #{self.slots[va]}"
        for start, npages in self.reserved:
            if start <= va < start + npages * PAGE_SIZE:
                return "raw reservation"
        for start, end, index in self.buffers:
            if start <= va < end:
                return f"buf #{index}"
        if pa in self.page_tables:
            return "page-table page"
        if not self.ram_base <= pa < self.ram_base + self.ram_size:
            return "firmware"
        return "unreserved kva" if va in self.kva else "other"


def _leaves(m: "Machine") -> Tuple[List[Dict[str, Any]], List[int]]:
    raw = m._m()
    leaves: List[Dict[str, Any]] = []
    tables: List[int] = []
    for first, last in _va_spans(m):
        got, t = raw.mapped_leaves(first, last)
        leaves += got
        tables += t
    return leaves, sorted(set(tables))


def mappings(m: "Machine", start: Optional[int] = None, end: Optional[int] = None,
             flags: Union[PteFlags, int, str, Iterable[str], None] = None, owner: Optional[str] = None) -> Mappings:
    leaves, tables = _leaves(m)
    who = _Owners(m, tables)
    runs: List[Mapping] = []
    for leaf in leaves:
        va, pa, size = leaf["va"], leaf["next"], leaf["reach"]
        f = _leaf_flags(leaf)
        own = who(va, pa)
        prev = runs[-1] if runs else None
        if (prev is not None and prev.va_end == va and prev.pa_end == pa and prev.page_size == size
                and prev.flags == f and prev.cache == leaf["cache"] and prev.owner == own
                and prev.level == leaf["level"] and not own.startswith("sf_buf")):  # each slot a row
            runs[-1] = dataclasses.replace(prev, va_end=va + size, pa_end=pa + size, size=prev.size + size,
                                           pages=prev.pages + 1)
        else:
            runs.append(Mapping(va=va, va_end=va + size, pa=pa, pa_end=pa + size, size=size, pages=1,
                                page_size=size, level=leaf["level"], entry=leaf["name"], flags=f,
                                cache=leaf["cache"], owner=own))
    out = Mappings(runs, f"{m.arch} kernel mappings")
    if start is not None or end is not None:
        lo = 0 if start is None else _checks.address("start", start)
        hi = 1 << 64 if end is None else _checks.integer("end", end, 0, 1 << 64)
        out = out.in_range(lo, hi)
    if flags is not None:
        out = out.with_flags(flags)
    if owner is not None:
        out = out.where(lambda r: r.owner == owner or r.owner.startswith(owner + " #"))
    return out


# ----------------------------------------------------------------------------- aliases


@dataclasses.dataclass(frozen=True)
class Alias(Record):
    """A VA through which a physical page is reachable: in the tables now, or through a
    translation a CPU's TLB may still hold (source 'cpu N', stale)."""

    va: int
    pa: int
    source: str              #: 'tables' or 'cpu N'
    owner: str
    page_size: int
    writable: bool
    stale: bool
    rule: Optional[str]
    _hex_fields = ("va", "pa")
    _size_fields = ("page_size",)


class Aliases(Table[Alias]):
    """Every VA that maps a physical page."""

    highlight = "stale"


def aliases(m: "Machine", pa: Any) -> Aliases:
    from .handles import Page

    if isinstance(pa, Page):
        pa = pa.pa
    pa = _checks.address("pa", pa) & ~(PAGE_SIZE - 1)
    leaves, tables = _leaves(m)
    who = _Owners(m, tables)
    rows = []
    for leaf in leaves:
        base, size = leaf["next"], leaf["reach"]
        if base <= pa < base + size:
            va = leaf["va"] + (pa - base)
            rows.append(Alias(va=va, pa=pa, source="tables", owner=who(va, pa), page_size=size,
                              writable=leaf["writable"], stale=False, rule=None))
    for e in m.tlb():
        if e.kind == "leaf" and e.stale and e.pa <= pa < e.pa + e.span:
            va = e.va + (pa - e.pa)
            rows.append(Alias(va=va, pa=pa, source=f"cpu {e.cpu}", owner=who(va, pa), page_size=e.span,
                              writable=e.writable, stale=True, rule=e.rule))
    return Aliases(rows, f"{m.arch} aliases of pa {pa:#x}")


# ----------------------------------------------------------------------------- snapshots


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The tables' leaves (per page, with raw entries), every CPU's TLB-model view and the
    counters at one moment (Machine.snapshot()); ``after - before`` or diff(before, after)."""

    arch: str
    step: str
    leaves: Dict[int, Tuple[int, int, PteFlags, str, int]]  #: va -> (pa, size, flags, entry, raw)
    tlb: Tuple[TlbEntry, ...]
    counters: Dict[str, int]

    def __sub__(self, before: "Snapshot") -> "SnapshotDiff":
        return diff(before, self)

    def __repr__(self) -> str:
        return (f"<Snapshot {self.arch} step={self.step!r}: {len(self.leaves)} leaves, "
                f"{len(self.tlb)} TLB-model entries>")


def snapshot(m: "Machine") -> Snapshot:
    leaves, _ = _leaves(m)
    table = {leaf["va"]: (leaf["next"], leaf["reach"], _leaf_flags(leaf), leaf["name"], leaf["raw"])
             for leaf in leaves}
    return Snapshot(m.arch, m.step, table, tuple(m.tlb()), m.stats().flat())


@dataclasses.dataclass(frozen=True)
class Change(Record):
    """One difference between two snapshots."""

    what: str        #: 'mapped', 'unmapped', 'remapped', 'bits' (PTE bits), 'tlb +', 'tlb -', 'tlb stale'
    va: int
    cpu: Optional[int]
    entry: str
    before: str
    after: str
    detail: str      #: the bits that changed, or the rule that keeps a stale entry
    _hex_fields = ("va",)


class SnapshotDiff(Table[Change]):
    """Mappings, PTE bits and TLB-model entries that changed, in VA order (then CPU)."""

    highlight = None
    counters: Dict[str, int] = {}  #: counters that moved: name -> difference

    def mappings(self) -> "SnapshotDiff":
        """Only mapped / unmapped / remapped rows."""
        return self.where(lambda c: c.what in ("mapped", "unmapped", "remapped"))

    def bits(self) -> "SnapshotDiff":
        """Only PTE-bit changes of the same mapping."""
        return self.where(what="bits")

    def tlb(self) -> "SnapshotDiff":
        """Only TLB-model changes."""
        return self.where(lambda c: c.what.startswith("tlb"))


def _leaf_text(leaf: Tuple[int, int, PteFlags, str, int]) -> str:
    pa, size, flags, _, _ = leaf
    return f"{pa:#x} {size_text(size)} {flag_text(flags)}"


def diff(before: Snapshot, after: Snapshot) -> SnapshotDiff:
    """What changed from `before` to `after`: mappings, PTE bits, TLB-model entries, and in
    the caption the counters that moved."""
    changes: List[Change] = []
    for va in sorted(set(before.leaves) | set(after.leaves)):
        b, a = before.leaves.get(va), after.leaves.get(va)
        if b == a:
            continue
        if b is None:
            changes.append(Change("mapped", va, None, a[3], "-", _leaf_text(a), ""))
        elif a is None:
            changes.append(Change("unmapped", va, None, b[3], _leaf_text(b), "-", ""))
        elif (b[0], b[1]) != (a[0], a[1]):
            changes.append(Change("remapped", va, None, a[3], _leaf_text(b), _leaf_text(a), ""))
        else:
            gained, lost = a[2] & ~b[2], b[2] & ~a[2]
            detail = " ".join([f"+{flag_text(gained)}" if gained else "", f"-{flag_text(lost)}" if lost else ""]).strip()
            raw = b[4] != a[4]
            changes.append(Change("bits", va, None, a[3], flag_text(b[2]) + (f" ({b[4]:#x})" if raw else ""),
                                  flag_text(a[2]) + (f" ({a[4]:#x})" if raw else ""), detail or "raw"))

    def key(e: TlbEntry) -> Tuple[int, int, str, int, int]:
        return (e.cpu, e.va, e.kind, e.level, e.pa)

    tb = {key(e): e for e in before.tlb}
    ta = {key(e): e for e in after.tlb}
    for k in sorted(set(tb) | set(ta), key=lambda k: (k[1], k[0], k[2], k[3], k[4])):
        b, a = tb.get(k), ta.get(k)
        if a is not None and b is None:
            changes.append(Change("tlb +", a.va, a.cpu, a.name, "-", f"{a.pa:#x}" + (" stale" if a.stale else ""),
                                  a.rule or a.holding))
        elif b is not None and a is None:
            changes.append(Change("tlb -", b.va, b.cpu, b.name, f"{b.pa:#x}" + (" stale" if b.stale else ""), "-", ""))
        elif a is not None and b is not None and a.stale != b.stale:
            changes.append(Change("tlb stale", a.va, a.cpu, a.name, f"{b.pa:#x}", f"{a.pa:#x} stale", a.rule or ""))
    moved = {k: after.counters.get(k, 0) - before.counters.get(k, 0) for k in after.counters
             if after.counters.get(k, 0) != before.counters.get(k, 0)}
    caption = f"{after.arch}: {before.step or 'start'} -> {after.step or 'now'}"
    if moved:
        caption += "; counters " + ", ".join(f"{k} {v:+d}" for k, v in moved.items())
    out = SnapshotDiff(changes, caption)
    out.counters = moved  # type: ignore[attr-defined]
    return out
