"""The kvabench Python API on every registered arch: mappings, accesses, TLB model, oracles,
errors. Expected values come from the pages the tests fill, never from earlier output."""
import random

import pytest

import kvabench

REGISTERED = [a["name"] for a in kvabench.archs()]
# Emulated archs this suite expects; each is skipped only while it is absent from the registry.
EXPECTED_EMULATED = ("amd64", "i386", "i386-pae")
ARCHS = REGISTERED + [name for name in EXPECTED_EMULATED if name not in REGISTERED]


def make_machine(arch, **kwargs):
    if arch not in REGISTERED:
        pytest.skip(f"{arch} is not registered in kvabench.archs()")
    return kvabench.Machine(arch, **kwargs)


def random_bytes(seed, n=kvabench.PAGE_SIZE):
    return random.Random(seed).randbytes(n)


def filled_page(m, seed):
    """A wired page holding random_bytes(seed)."""
    return m.page_alloc(fill=random_bytes(seed), wired=True)


@pytest.fixture(params=ARCHS)
def machine(request):
    return make_machine(request.param, cpus=2)


def test_registry_listing():
    archs = kvabench.archs()
    assert "ref" in REGISTERED
    assert len(set(REGISTERED)) == len(REGISTERED)
    for a in archs:
        assert set(a) == {"name", "description", "emulated", "default"}
        assert a["description"] and isinstance(a["emulated"], bool) and isinstance(a["default"], bool)
    assert not next(a for a in archs if a["name"] == "ref")["emulated"]
    faults = kvabench.faults()
    assert faults
    for f in faults:
        assert set(f) == {"name", "description", "pool_only", "subsystem"}
        assert isinstance(f["pool_only"], bool) and f["subsystem"] in ("pmap", "sf_buf", "buf")
    assert {f["name"] for f in faults if f["subsystem"] == "buf"} >= {"skip-bogus-page", "relbuf-delwri"}


def test_machine_properties(machine):
    start, end = machine.kva_space
    assert machine.arch in REGISTERED
    assert machine.ncpus == 2
    assert 0 < end - start and start % kvabench.PAGE_SIZE == 0
    assert isinstance(machine.has_direct_map, bool)
    assert machine.memory == 16 << 20


def test_kenter_then_load_sees_the_page(machine):
    page = filled_page(machine, seed=1)
    va = machine.kva_alloc()
    machine.kenter(va, page)
    expected = random_bytes(1)
    for cpu in range(machine.ncpus):
        assert machine.load(cpu, va, kvabench.PAGE_SIZE) == expected
        assert machine.load(cpu, va + 100, 8) == expected[100:108]
    assert machine.extract(va + 100) == page.pa + 100
    pte = machine.pte(va)
    assert pte["valid"] and pte["writable"] and pte["pa"] == page.pa
    assert pte["accessed"]  # the loads walked the tables
    assert machine.stale() == []


def test_store_lands_in_the_page(machine):
    page = filled_page(machine, seed=2)
    va = machine.kva_alloc()
    machine.kenter(va, page)
    machine.store(1, va + 8, b"kvabench")
    assert page.read(8, 8) == b"kvabench"
    assert machine.load(0, va + 8, 8) == b"kvabench"
    # The store's walk sets the dirty flag, except where no hardware updates the flags (af_fault).
    assert machine.pte(va)["modified"] == ("af_fault" not in machine.features)


def remap_without_invalidation(m, va, cpu):
    """va -> old page, loaded by cpu (so cached), then va -> new page without TLB maintenance."""
    old, new = filled_page(m, seed=10), filled_page(m, seed=11)
    m.kenter(va, old)
    assert m.load(cpu, va, 16) == random_bytes(10)[:16]
    m.kenter(va, new)
    return old, new


def test_missing_invalidation_reads_stale_data_on_both_oracles(machine):
    va = machine.kva_alloc()
    old, new = remap_without_invalidation(machine, va, cpu=1)
    machine.set_step("after remap")
    assert machine.load(1, va, 16) == random_bytes(10)[:16]  # the old page, really cached
    stale = machine.stale()
    # A valid->valid change is itself a violation where the ISA requires break-before-make.
    model = "bbm" if "bbm" in machine.features else "architectural"
    assert {s["oracle"] for s in stale} == {"observed", model}
    for s in stale:
        assert (s["kind"], s["cpu"], s["va"], s["step"]) == ("load", 1, va, "after remap")
        assert s["expected_pa"] == new.pa and s["cached_pa"] == old.pa
    observed = next(s for s in stale if s["oracle"] == "observed")
    assert observed["observed"] == random_bytes(10)[:16]
    assert observed["expected"] == random_bytes(11)[:16]


def test_invalidate_makes_the_load_fresh(machine):
    va = machine.kva_alloc()
    remap_without_invalidation(machine, va, cpu=1)
    machine.invalidate(1, va)
    assert machine.load(1, va, 16) == random_bytes(11)[:16]
    assert machine.stale() == []


def test_clear_stale_empties_the_log(machine):
    va = machine.kva_alloc()
    remap_without_invalidation(machine, va, cpu=1)
    machine.load(1, va, 1)
    assert machine.stale()
    machine.clear_stale()
    assert machine.stale() == []


def test_shootdown_reaches_the_target_unless_the_ipi_is_dropped(machine):
    va = machine.kva_alloc()
    remap_without_invalidation(machine, va, cpu=1)
    machine.shootdown(0, [1], va)
    assert machine.load(1, va, 16) == random_bytes(11)[:16]
    assert machine.stale() == []
    assert machine.stats()["pmap"]["shootdowns"] == 1

    machine.inject("drop-ipi")
    assert machine.faults == ["drop-ipi"]
    va2 = machine.kva_alloc()
    remap_without_invalidation(machine, va2, cpu=1)
    machine.shootdown(0, [1], va2)
    assert machine.load(1, va2, 16) == random_bytes(10)[:16]
    assert {s["va"] for s in machine.stale()} == {va2}
    assert machine.stats()["pmap"]["dropped_ipis"] == 1


def tlb_entry(m, cpu, va):
    return [(e["va"], e["pa"], e["global"], e["writable"]) for e in m.tlb(cpu)
            if e["va"] == va and e["kind"] == "leaf"]


def test_tlb_model_holds_the_entry_after_a_load_and_not_after_invalidate(machine):
    page = filled_page(machine, seed=3)
    va = machine.kva_alloc()
    machine.kenter(va, page)
    assert tlb_entry(machine, 1, va) == []
    machine.load(1, va, 4)
    glob = machine.pte(va)["global"]  # FreeBSD's kenter: pg_g on amd64, not on i386
    assert tlb_entry(machine, 1, va) == [(va, page.pa, glob, True)]
    assert tlb_entry(machine, 0, va) == []  # cpu 0 never touched it
    machine.invalidate(1, va)
    assert tlb_entry(machine, 1, va) == []


def test_qenter_and_qremove_invalidate_everywhere(machine):
    pages = [filled_page(machine, seed=20 + i) for i in range(3)]
    va = machine.kva_alloc(3)
    machine.qenter(0, va, pages)
    for i in range(3):
        assert machine.load(1, va + i * kvabench.PAGE_SIZE, 4) == random_bytes(20 + i)[:4]
    machine.qenter(0, va, list(reversed(pages)))  # replaces valid PTEs: must invalidate cpu 1
    assert machine.load(1, va, 4) == random_bytes(22)[:4]
    machine.qremove(0, va, 3)
    assert machine.extract(va) is None
    assert all(tlb_entry(machine, cpu, va) == [] for cpu in range(machine.ncpus))
    assert machine.stale() == []


def test_page_fault_on_an_unmapped_va(machine):
    va = machine.kva_alloc()
    with pytest.raises(kvabench.PageFault) as info:
        machine.load(1, va + 0x10, 4)
    fault = info.value
    assert isinstance(fault, kvabench.KvaError)
    assert (fault.cpu, fault.va, fault.access) == (1, va + 0x10, "read")
    assert isinstance(fault.walk, str) and fault.walk
    assert fault.walk == machine.walk(va + 0x10)
    assert f"{va + 0x10:x}" in str(fault)
    with pytest.raises(kvabench.PageFault) as info:
        machine.store(0, va, b"x")
    assert info.value.access == "write"


def test_copy_between_mappings(machine):
    src, dst = filled_page(machine, seed=4), filled_page(machine, seed=5)
    va = machine.kva_alloc(2)
    machine.qenter(0, va, [src, dst])
    machine.copy(1, va + kvabench.PAGE_SIZE, va, 64)
    assert dst.read(0, 64) == random_bytes(4)[:64]
    assert dst.read(64, 8) == random_bytes(5)[64:72]


def test_trace_shows_the_guest_instructions_of_an_emulated_access():
    emulated = [a["name"] for a in kvabench.archs() if a["emulated"]]
    if not emulated:
        pytest.skip("no emulated arch is registered")
    for arch in emulated:
        m = kvabench.Machine(arch, trace=True)
        page = filled_page(m, seed=6)
        va = m.kva_alloc()
        m.kenter(va, page)
        m.load(1, va, 4)
        trace = m.trace()
        assert "cpu1" in trace and trace.count("\n") > 1
        assert m.trace() == ""  # taken
    assert kvabench.Machine("ref").trace() == ""


def test_unknown_arch_lists_the_valid_names():
    with pytest.raises(ValueError) as info:
        kvabench.Machine("no-such-arch")
    for name in REGISTERED:
        assert name in str(info.value)


def test_bad_arguments_raise_clear_errors():
    m = kvabench.Machine("ref", cpus=2, memory="4M")
    assert m.memory == 4 << 20
    va = m.kva_alloc()
    with pytest.raises(ValueError, match="cpu 2 does not exist"):
        m.load(2, va, 1)
    with pytest.raises(ValueError, match="cpu -1 does not exist"):
        m.invalidate(-1, va)
    with pytest.raises(ValueError, match="cpu 7"):
        m.shootdown(0, [1, 7], va)
    with pytest.raises(TypeError, match="not str"):
        m.store(0, va, "text")
    with pytest.raises(ValueError) as info:
        m.inject("no-such-fault")
    assert all(f["name"] in str(info.value) for f in kvabench.faults())
    with pytest.raises(ValueError, match="memory"):
        kvabench.Machine("ref", memory="lots")
    with pytest.raises(TypeError, match="memory"):
        kvabench.Machine("ref", memory=1.5)
    with pytest.raises(ValueError, match="cpus"):
        kvabench.Machine("ref", cpus=0)
    with pytest.raises(ValueError, match="nsfbufs"):
        kvabench.Machine("ref", nsfbufs=(m.kva_space[1] - m.kva_space[0]) // kvabench.PAGE_SIZE + 1)
    with pytest.raises(ValueError, match="fill byte"):
        m.page_alloc(fill=256)
    with pytest.raises(ValueError, match="does not fit"):
        m.page_alloc().read(kvabench.PAGE_SIZE - 2, 4)
    with pytest.raises(kvabench.KvaError, match="outside"):
        m.kenter(m.kva_space[1], 0)


def test_faults_are_injected_by_name():
    names = [f["name"] for f in kvabench.faults()]
    assert kvabench.Machine("ref", inject=names[0]).faults == names[:1]
    assert kvabench.Machine("ref", inject=names[:2]).faults == names[:2]
    assert kvabench.Machine("ref").faults == []
    with pytest.raises(TypeError, match="inject"):
        kvabench.Machine("ref", inject=5)


def test_pages_of_another_machine_are_refused():
    a, b = kvabench.Machine("ref"), kvabench.Machine("ref")
    with pytest.raises(ValueError, match="another Machine"):
        b.kenter(b.kva_alloc(), a.page_alloc())


def test_memory_sizes_parse():
    assert kvabench.parse_size("16M") == 16 << 20
    assert kvabench.parse_size("512k") == 512 << 10
    assert kvabench.parse_size("1GiB") == 1 << 30
    assert kvabench.parse_size(8192) == 8192
    with pytest.raises(ValueError):
        kvabench.parse_size("0")
