"""The TLB-model operations and views of the Python API on every registered arch: kenter
attributes, large pages, protect, growkernel, replace_table, flush_local, capabilities, the
structured walk, the model's per-CPU view and the stale reports' holding and rule. Operations an
arch lacks are skipped by capability, never by arch name."""
import pytest

import kvabench

REGISTERED = [a["name"] for a in kvabench.archs()]
PAGE = kvabench.PAGE_SIZE


@pytest.fixture(params=REGISTERED)
def m(request):
    return kvabench.Machine(request.param, cpus=4, memory="16M")


def pages(m, *fills):
    return [m.page_alloc(fill=f, wired=True) for f in fills]


def model_oracle(m):
    """The oracle that reports a CPU holding a translation replaced valid->valid: bbm where the
    ISA requires break-before-make, architectural elsewhere."""
    return "bbm" if "bbm" in m.features else "architectural"


def test_capabilities_and_features_agree(m):
    caps = m.capabilities()
    feats = set(m.features)
    assert ("large_pages" in feats) == bool(caps["large_page_sizes"])
    for size in caps["large_page_sizes"]:
        assert f"large_{size >> 20}m" in feats or f"large_{size >> 30}g" in feats
    assert ("growkernel" in feats) == caps["growable_kva"]
    start, end = m.growable_kva
    assert (end > start) == caps["growable_kva"]
    assert ("walk_cache" in feats) == caps["walk_cache"]
    # The reference MMUs are exactly the registry's archs that are not emulated.
    emulated = {a.name: a.emulated for a in kvabench.archs()}[m.arch]
    assert ("reference" in feats) == caps["reference"] == (not emulated)


def test_unsupported_operations_raise_kva_error(m):
    caps = m.capabilities()
    va = m.kva_alloc()
    if not caps["growable_kva"]:
        with pytest.raises(kvabench.KvaError):
            m.growkernel(va)
    if not caps["table_reach"]:
        with pytest.raises(kvabench.KvaError):
            m.replace_table(va, 1)
    with pytest.raises(ValueError):
        m.kenter(va, pages(m, 1)[0], cache="write-combining")


def test_speculative_holder_report_names_holding_and_rule(m):
    a, b = pages(m, 0x11, 0x22)
    va = m.kva_alloc()
    m.kenter(va, a)
    assert m.load(0, va, 1) == b"\x11"
    m.kenter(va, b)
    m.invalidate(0, va)
    assert m.load(3, va, 1) == b"\x22"  # never cached on cpu 3
    stale = m.stale()
    bbm = "bbm" in m.features  # the valid->valid change is reported as such
    assert [s["oracle"] for s in stale] == ["bbm" if bbm else "architectural"]
    assert stale[0]["holding"] == "speculative"
    assert stale[0]["cpu"] == 3
    assert stale[0]["cached_pa"] == a.pa and stale[0]["expected_pa"] == b.pa
    assert ("break-before-make" if bbm else "speculative fill") in stale[0]["rule"]
    view = [e for e in m.tlb(3) if e["va"] == va and e["stale"]]
    assert len(view) == 1 and view[0]["holding"] == "speculative" and view[0]["pa"] == a.pa
    assert m.stale_counts()["speculative"] == 1
    m.invalidate_range(0, va)
    assert [e for e in m.tlb(3) if e["stale"]] == []


def test_kenter_attributes_show_in_pte_and_walk(m):
    caps = m.capabilities()
    (a,) = pages(m, 0x33)
    va = m.kva_alloc()
    cache = "uc" if caps["cache_modes"] else "wb"
    m.kenter(va, a, global_=caps["global_entries"], writable=False, cache=cache)
    pte = m.pte(va)
    assert pte["valid"] and not pte["writable"]
    assert pte["global"] == caps["global_entries"]
    assert pte["cache"] == cache
    assert pte["page_size"] == PAGE and pte["pa"] == a.pa
    levels = m.walk_levels(va)
    assert levels[-1]["leaf"] and levels[-1]["next"] == a.pa
    assert len(levels) == len(caps["table_reach"]) + 1
    assert all(not lv["leaf"] and lv["present"] for lv in levels[:-1])
    with pytest.raises(kvabench.PageFault):
        m.store(1, va, b"\x00")


def test_protect_without_invalidation_reports_rights(m):
    (a,) = pages(m, 0x44)
    va = m.kva_alloc()
    m.kenter(va, a)
    m.store(1, va, b"\x01")
    m.protect(va, writable=False)
    m.store(1, va, b"\x02")  # lands through cpu 1's cached writable entry
    counts = m.stale_counts()
    assert counts["observed"] == 1 and counts["architectural"] == 1 and counts["rights"] == 2
    assert all(s["rights"] for s in m.stale())
    m.invalidate_range(0, va)
    with pytest.raises(kvabench.PageFault):
        m.store(1, va, b"\x03")


def test_large_page_is_one_entry(m):
    sizes = m.capabilities()["large_page_sizes"]
    if not sizes:
        pytest.skip("no large pages")
    size = sizes[0]
    f1 = m.page_alloc(fill=0x55, wired=True, align=size)
    f2 = m.page_alloc(fill=0x66, wired=True, align=size)
    start, end = m.growable_kva
    if end > start:
        va = (start + size - 1) & ~(size - 1)
    else:
        kva = m.kva_space
        va = (kva[0] + size - 1) & ~(size - 1)
    m.kenter_large(va, f1)
    assert m.pte(va + PAGE)["page_size"] == size
    assert m.load(1, va, 1) == b"\x55"
    m.kenter_large(va, f2)
    m.load(1, va + 2 * PAGE, 1)
    assert m.stale_counts()[model_oracle(m)] == 1
    m.invalidate(1, va + size - PAGE)  # anywhere inside drops the whole entry
    m.clear_stale()
    assert m.load(1, va, 1) == b"\x66"
    assert m.stale() == []


def test_global_entry_and_flush_local(m):
    if not m.capabilities()["global_entries"]:
        pytest.skip("no global entries")
    a, b = pages(m, 0x77, 0x78)
    va = m.kva_alloc()
    m.kenter(va, a, global_=True)
    m.load(2, va, 1)
    m.kenter(va, b, global_=True)
    m.flush_local(2)
    m.load(2, va, 1)
    assert m.stale_counts()[model_oracle(m)] == 1
    assert "global" in [s for s in m.stale() if s["oracle"] == model_oracle(m)][0]["rule"]
    m.flush_local(2, include_global=True)
    m.clear_stale()
    assert m.load(2, va, 1) == b"\x78"
    assert m.stale() == []


def test_growkernel_and_replace_table(m):
    caps = m.capabilities()
    if not caps["growable_kva"] or not caps["table_reach"]:
        pytest.skip("no growable KVA or table levels")
    a, b = pages(m, 0x12, 0x34)
    start, _ = m.growable_kva
    with pytest.raises(kvabench.KvaError):
        m.kenter(start, a)
    assert m.growkernel(start) >= 1
    assert m.growkernel(start) == 0
    m.kenter(start, a)
    m.clear_accessed(start)
    m.invalidate_range(0, start)
    new_table = m.replace_table(start, level=1, copy=True)
    assert any(lv["next"] == new_table for lv in m.walk_levels(start))
    m.kenter(start, b)
    assert m.load(1, start, 1) == b"\x34"
    stale = m.stale()
    if "af_fault" in m.features:  # the old table's entry has AF=0: a walk through it faults
        assert stale == []
    else:
        assert len(stale) == 1 and stale[0]["via_table"]


def test_stale_capacity_bounds_reports_not_counts(m):
    a, b = pages(m, 1, 2)
    va = m.kva_alloc()
    m.kenter(va, a)
    m.load(1, va, 1)
    m.kenter(va, b)
    m.stale_capacity = 5
    for _ in range(50):
        m.load(1, va, 1)
    counts = m.stale_counts()
    assert counts["total"] == 100 and counts["kept"] == 5
    assert len(m.stale()) == 5
    assert m.stale_capacity == 5


@pytest.mark.parametrize("arch", REGISTERED)
def test_machine_ad_option(arch):
    """ad='software' (Svade) makes an access through a clear accessed bit fault where the arch
    offers the mode; the default (the arch's own, hardware) sets the bit instead. Elsewhere
    'software' is refused with a clear error."""
    probe = kvabench.Machine(arch)
    if "software_ad" not in probe.features:
        with pytest.raises(ValueError, match="software"):
            kvabench.Machine(arch, ad="software")
        return
    for ad, faults in (("software", True), ("hardware", False), (None, False)):
        mc = kvabench.Machine(arch, cpus=2, ad=ad)
        va = mc.kva_alloc()
        mc.kenter(va, mc.page_alloc(fill=0x5C))
        mc.clear_accessed(va)
        mc.invalidate_range(0, va)
        if faults:
            with pytest.raises(kvabench.PageFault):
                mc.read(1, va, 4)
        else:
            assert mc.read(1, va, 4) == b"\x5c" * 4
    with pytest.raises(kvabench.ArgumentError, match="ad"):
        kvabench.Machine(arch, ad="sometimes")


@pytest.mark.parametrize("arch", REGISTERED)
def test_machine_bbm_option(arch):
    """bbm=True makes the pmap break before make where the ISA requires it: the valid->valid
    kenter that FreeBSD's pmap does (and the bbm oracle reports) becomes silent, and the CPU
    that used the old entry reads the new page. Elsewhere the option changes nothing."""
    reports = {}
    for bbm in (False, True):
        mc = kvabench.Machine(arch, cpus=4, bbm=bbm)
        va = mc.kva_alloc()
        mc.kenter(va, mc.page_alloc(fill=0x01))
        assert mc.read(1, va, 1) == b"\x01"
        mc.kenter(va, mc.page_alloc(fill=0x02))
        got = mc.read(1, va, 1)
        reports[bbm] = (mc.stats()["stale"]["bbm"], got)
    if "bbm" in kvabench.Machine(arch).features:
        assert reports[False] == (1, b"\x01")
        assert reports[True] == (0, b"\x02")
    else:
        assert reports[False] == reports[True]
    with pytest.raises(kvabench.ArgumentTypeError):
        kvabench.Machine(arch, bbm="yes")
