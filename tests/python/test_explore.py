"""Mapping exploration on every arch of the registry (32-bit ones included): walk, mappings,
aliases, the TLB-model view, snapshots and their diff, and the plots. Expected values come from
what each test maps (pages it allocates, VAs it reserves), never from earlier output."""
import pytest

import kvabench
from kvabench import PteFlags

ARCHS = kvabench.archs().names()
PAGE = kvabench.PAGE_SIZE


@pytest.fixture(params=ARCHS)
def m(request):
    with kvabench.Machine(request.param, cpus=2) as machine:
        yield machine


def mapped(m, n=1, fill=0x5A):
    pages = [m.page_alloc(fill=fill + i) for i in range(n)]
    va = m.kva_alloc(n)
    for i, p in enumerate(pages):
        m.kenter(va + i * PAGE, p)
    return va, pages


def test_walk_shows_every_level_and_ends_at_the_frame(m):
    va, (page,) = mapped(m)
    w = m.walk(va + 0x123)
    assert w.pa == page.pa + 0x123 == m.extract(va + 0x123)
    assert w.fault is None and w.leaf is w.levels[-1] and w.leaf.next == page.pa
    assert len(w.levels) == len(m.capabilities().table_reach) + 1
    for upper, lower in zip(w.levels, w.levels[1:]):
        assert upper.present and not upper.leaf
        assert upper.next == lower.table, "each level points at the table the next one is in"
    for lv in w.levels:
        if lv.index is not None:
            assert lv.slot >= lv.table and (lv.slot - lv.table) % max(lv.index, 1) == 0
            assert (va // lv.reach) % (1 << 20) % max(1, lv.reach) >= 0
    assert w.leaf.flags & PteFlags.VALID and bool(w.leaf.flags & PteFlags.WRITABLE) == m.pte(va).writable
    assert str(w) == m._raw.walk(va + 0x123)
    assert "<table" in w._repr_html_() and f"pa {page.pa + 0x123:#x}" in repr(w)
    assert w.to_dict()["levels"][-1]["next"] == page.pa


def test_walk_of_an_unmapped_va_names_the_fault(m):
    va = m.kva_alloc()
    w = m.walk(va)
    assert w.pa is None and w.leaf is None
    last = w.levels[-1]
    assert not last.present and w.fault == f"{last.name} not present at level {last.level}"
    assert "fault" in repr(w)


def test_walk_index_is_the_vas_index_at_each_level(m):
    if not m.capabilities().table_reach:
        pytest.skip("no page-table levels")
    va, _ = mapped(m)
    width, bits = m.va_format
    levels = m.walk(va).levels
    # The root table's reach: no arch translates more than 48 bits (arm64's format also counts
    # bit 48, which selects the TTBR half).
    parent_reach = 1 << min(bits, 48)
    for lv in levels:
        assert lv.index == (va % parent_reach) // lv.reach, lv.name
        parent_reach = lv.reach


def test_mappings_merge_runs_and_name_owners(m):
    contiguous = [m.page_alloc(fill=i) for i in range(4)]
    if [p.pa for p in contiguous] != [contiguous[0].pa + i * PAGE for i in range(4)]:
        pytest.skip("the allocator did not hand out consecutive frames")
    va = m.kva_alloc(6)
    m.qenter(0, va, contiguous)                              # VA and PA contiguous: one run
    m.kenter(va + 5 * PAGE, contiguous[0])                   # PA not contiguous: a run of its own
    runs = m.mappings(start=va, end=va + 6 * PAGE)
    assert [(r.va, r.pages, r.pa, r.size, r.owner) for r in runs] == [
        (va, 4, contiguous[0].pa, 4 * PAGE, "raw reservation"),
        (va + 5 * PAGE, 1, contiguous[0].pa, PAGE, "raw reservation")]
    assert runs[0].va_end == va + 4 * PAGE and runs[0].pa_end == contiguous[0].pa + 4 * PAGE
    assert runs[0].page_size == PAGE and runs[0].flags & PteFlags.VALID
    everything = m.mappings()
    assert all(a.va_end <= b.va for a, b in zip(everything, everything[1:])), "VA order, no overlap"
    if m.has_direct_map:
        dmap = everything.where(owner="direct map")
        assert sum(r.size for r in dmap) >= m.memory
        assert any(r.va <= m.phys_to_dmap(contiguous[0].pa) < r.va_end for r in dmap)


def test_mappings_show_sf_buf_slots(m):
    td = m.thread("td0", cpu=0)
    sfs = [m.sf_buf_alloc(td, m.page_alloc(fill=i)) for i in range(3)]
    runs = m.mappings(owner="sf_buf")
    if m.mode == "dmap":
        assert runs == [] and m.sf_buf_pool() == []
        return
    assert sorted((r.owner, r.va, r.pa) for r in runs) == sorted((f"sf_buf #{sf.index}", sf.kva, sf.page.pa) for sf in sfs)
    assert all(r.pages == 1 for r in runs), "slots are never merged: each is its own sf_buf"


def covers(runs, va):
    return any(r.va <= va < r.va_end for r in runs)


def test_mappings_filter_by_flags_and_owner(m):
    caps = m.capabilities()
    va, (plain,) = mapped(m)
    if caps.global_entries:
        g = m.page_alloc()
        gva = m.kva_alloc()
        m.kenter(gva, g, global_=True)
        assert covers(m.mappings(flags=PteFlags.GLOBAL), gva)
        assert covers(m.mappings(flags="GLOBAL|VALID"), gva)
    ro = m.kva_alloc()
    m.kenter(ro, m.page_alloc(), writable=False)
    writable = m.mappings(flags=["writable"])
    assert covers(writable, va) and not covers(writable, ro)
    with pytest.raises(kvabench.ArgumentError, match="flags: unknown PTE flag"):
        m.mappings(flags="SPARKLY")
    assert {r.owner for r in m.mappings(owner="raw reservation")} == {"raw reservation"}
    df = m.mappings().to_pandas()
    assert {"va", "va_end", "pa", "size", "level", "page_size", "flags", "owner"} <= set(df.columns)


def test_a_mapped_page_table_page_is_named(m):
    va, _ = mapped(m)
    table = m.walk(va).levels[-1].table
    if not m.capabilities().table_reach:
        pytest.skip("no page-table pages")
    spy = m.kva_alloc()
    m.kenter(spy, table & ~(PAGE - 1))
    (run,) = m.mappings(start=spy, end=spy + PAGE)
    assert run.owner == "raw reservation"  # the VA's owner first ...
    spy_unreserved = m.kva_space.end - PAGE
    m.kenter(spy_unreserved, table & ~(PAGE - 1))
    (run,) = m.mappings(start=spy_unreserved, end=spy_unreserved + PAGE)
    assert run.owner == "page-table page"  # ... then what the PA is


def test_aliases_list_every_va_of_a_page_including_stale_ones(m):
    td = m.thread("td0", cpu=0)
    va, (page,) = mapped(m)
    sf = m.sf_buf_alloc(td, page)
    found = {(a.va, a.source) for a in m.aliases(page)}
    expected = {(va, "tables"), (sf.kva, "tables")}
    if m.has_direct_map:
        expected.add((m.phys_to_dmap(page.pa), "tables"))
    assert found == expected
    m.read(1, va, 1)                      # cpu 1 walks va -> page
    m.kenter(va, m.page_alloc())          # remapped without invalidation
    stale = m.aliases(page.pa).where(stale=True)
    assert [(a.va, a.source) for a in stale if a.source == "cpu 1"] == [(va, "cpu 1")]
    assert stale.where(source="cpu 1")[0].rule


def test_tlb_view_marks_stale_entries_with_their_rule(m):
    va, (old,) = mapped(m)
    assert m.read(1, va, 1) == b"\x5a"
    new = m.page_alloc(fill=0x77)
    m.kenter(va, new)
    view = m.tlb(1).leaves().where(va=va)
    assert [(e.pa, e.stale) for e in view] == [(old.pa, True)]
    assert view[0].rule and view[0].holding == "demand"
    assert m.tlb(1).stale() == view
    everyone = m.tlb()
    assert {e.cpu for e in everyone} <= {0, 1}
    columns, rows = everyone.side_by_side()
    assert columns[:2] == ["va", "entry"] and "cpu1" in columns
    assert any(row.get("cpu1", "").endswith(" !") for row in rows)
    m.invalidate_range(0, va)
    assert m.tlb(1).stale() == []


def test_snapshot_diff_after_a_remap(m):
    va, (old,) = mapped(m)
    m.read(1, va, 1)
    m.set_step("before")
    before = m.snapshot()
    new = m.page_alloc()
    m.kenter(va, new)
    m.read(1, va, 1)
    m.set_step("after remap")
    after = m.snapshot()
    d = after - before
    assert d == kvabench.diff(before, after)
    (remap,) = d.mappings()
    assert (remap.what, remap.va) == ("remapped", va)
    assert remap.before.startswith(f"{old.pa:#x}") and remap.after.startswith(f"{new.pa:#x}")
    stale_rows = d.tlb().where(what="tlb stale", cpu=1)
    assert [r.va for r in stale_rows] == [va] and stale_rows[0].detail
    # The model reports the remap as architectural, or as bbm where the ISA requires break-before-make.
    assert d.counters.get("stale.architectural", 0) + d.counters.get("stale.bbm", 0) >= 1
    assert d.counters["pmap.loads"] == 1
    assert "before -> after remap" in d.caption
    m.invalidate_range(0, va)
    gone = (m.snapshot() - after).tlb().where(what="tlb -")
    assert va in {r.va for r in gone}


def test_snapshot_diff_shows_pte_bits(m):
    va, _ = mapped(m)
    m.write(0, va, b"x")  # the walk sets A (and D for the write)
    before = m.snapshot()
    m.clear_accessed(va)
    bits = (m.snapshot() - before).bits()
    assert [(r.va, r.detail) for r in bits] == [(va, "-ACCESSED")]
    assert "ACCESSED" in bits[0].before and "ACCESSED" not in bits[0].after


def test_plots_draw_what_the_tables_hold(m):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    va, _ = mapped(m)
    m.read(1, va, 1)
    m.kenter(va, m.page_alloc())
    view = m.tlb()
    ax = view.plot()
    heights = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        heights[x] = heights.get(x, 0) + bar.get_height()
    assert heights == {c: len(view.where(cpu=c)) for c in range(m.cpus)}
    mappings = m.mappings()
    ax = mappings.plot()
    assert len([p for p in ax.patches if p.get_gid() == "run"]) == len(mappings)
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {r.owner.split(" #")[0] for r in mappings}
    plt.close("all")
