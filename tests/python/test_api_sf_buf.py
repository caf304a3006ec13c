"""sf_buf(9) through the kvabench Python API on every registered arch: pool vs direct-map mode,
the hash, NOWAIT, sleeping allocations, CPUPRIVATE, handle lifetime and misuse."""
import gc

import pytest

import kvabench
from test_api import ARCHS, filled_page, make_machine, random_bytes


@pytest.fixture(params=ARCHS)
def machine(request):
    return make_machine(request.param, cpus=2, nsfbufs=2)


def require_pool(m):
    if m.has_direct_map:
        pytest.skip(f"{m.arch} has a direct map: sf_bufs are direct-map addresses, no pool")


def test_mode_follows_the_direct_map(machine):
    td = machine.thread("td0", cpu=0)
    page = filled_page(machine, seed=1)
    sf = machine.sf_buf_alloc(td, page)
    assert machine.sf_buf_direct_map == machine.has_direct_map
    if machine.has_direct_map:
        assert sf.kva == machine.phys_to_dmap(page.pa)
        assert machine.stats().sf_buf.nsfbufs == 0 and machine.mode == "dmap"
    else:
        start, end = machine.kva_space
        assert start <= sf.kva < end
        assert machine.stats().sf_buf.nsfbufs == 2 and machine.mode == "pool"
        assert sf.cpumask == list(range(machine.cpus))  # a shared mapping is valid everywhere
    assert sf.page == page and sf.ref_count == 1
    for cpu in range(machine.cpus):
        assert machine.load(cpu, sf.kva, 32) == random_bytes(1)[:32]
    assert machine.stale() == []


def test_hash_hit_returns_the_same_kva(machine):
    td0, td1 = machine.thread("td0", cpu=0), machine.thread("td1", cpu=1)
    page, other = filled_page(machine, seed=2), filled_page(machine, seed=3)
    first = machine.sf_buf_alloc(td0, page)
    second = machine.sf_buf_alloc(td1, page)
    assert second.kva == first.kva and second == first
    assert first.ref_count == 2
    assert machine.sf_buf_alloc(td0, other).kva != first.kva
    if not machine.has_direct_map:
        assert machine.stats().sf_buf.hash_hits == 1
    assert second.thread == td1 and first.thread == td0
    machine.sf_buf_free(first)   # by the allocating thread, as YAML's default
    second.free()
    assert first.ref_count == 0
    # A freed sf_buf keeps its mapping (pool mode: cached on the free list): found again.
    assert machine.sf_buf_alloc(td0, page).kva == first.kva


def test_nowait_on_an_empty_pool_returns_none(machine):
    require_pool(machine)
    td = machine.thread("td0", cpu=0)
    held = [machine.sf_buf_alloc(td, filled_page(machine, seed=s)) for s in (4, 5)]
    assert all(isinstance(sf, kvabench.SfBuf) for sf in held)
    assert machine.sf_buf_alloc(td, filled_page(machine, seed=6), "NOWAIT") is None
    assert machine.stats().sf_buf.sf_allocfail == 1


def test_sleeping_alloc_completes_after_a_free_and_run(machine):
    require_pool(machine)
    holder, waiter = machine.thread("holder", cpu=0), machine.thread("waiter", cpu=1)
    held = [machine.sf_buf_alloc(holder, filled_page(machine, seed=s)) for s in (7, 8)]
    wanted = filled_page(machine, seed=9)
    pending = machine.sf_buf_alloc(waiter, wanted)
    assert isinstance(pending, kvabench.PendingSfBuf) and not pending.done
    assert waiter.state == "sleeping"
    with pytest.raises(kvabench.KvaError, match="run"):
        pending.result
    freed_kva = held[0].kva
    machine.sf_buf_free(held[0], holder)
    assert machine.run() >= 1
    assert pending.done and waiter.state == "idle"
    sf = pending.result
    assert sf.kva == freed_kva  # the only slot that was freed
    with pytest.raises(kvabench.StaleHandleError, match="slot .* was recycled"):
        held[0].kva  # its slot now maps `wanted`
    assert sf.page == wanted
    assert machine.load(1, sf.kva, 16) == random_bytes(9)[:16]
    assert machine.stats().sf_buf.sf_allocwait == 1
    assert sf.thread == waiter


def test_a_signal_interrupts_a_catch_sleep(machine):
    require_pool(machine)
    holder, waiter = machine.thread("holder", cpu=0), machine.thread("waiter", cpu=1)
    for s in (10, 11):
        machine.sf_buf_alloc(holder, filled_page(machine, seed=s))
    pending = machine.sf_buf_alloc(waiter, filled_page(machine, seed=12), ["CATCH"])
    machine.signal(waiter)
    machine.run()
    assert pending.done and pending.result is None


def test_cpuprivate_mapping_is_valid_on_its_cpu_only(machine):
    require_pool(machine)
    td = machine.thread("td1", cpu=1)
    sf = machine.sf_buf_alloc(td, filled_page(machine, seed=13), "SFB_CPUPRIVATE")
    assert sf.cpumask == [1] and sf.cpuprivate


def test_recycling_without_tlb_work_is_caught(machine):
    """skip-abit-check recycles an accessed slot without invalidating: cpu 1 keeps the old page."""
    require_pool(machine)
    td = machine.thread("td0", cpu=0)
    old = [filled_page(machine, seed=s) for s in (14, 15)]
    for page in old:
        sf = machine.sf_buf_alloc(td, page)
        machine.load(1, sf.kva, 4)
        machine.sf_buf_free(sf)
    healthy = machine.sf_buf_alloc(td, filled_page(machine, seed=16))  # recycles the LRU slot
    assert machine.load(1, healthy.kva, 4) == random_bytes(16)[:4]
    assert machine.stale() == []

    machine.inject("skip-abit-check")
    buggy = machine.sf_buf_alloc(td, filled_page(machine, seed=17))  # recycles the other slot
    assert machine.load(1, buggy.kva, 4) == random_bytes(15)[:4]
    assert {s.oracle for s in machine.stale()} == {"observed", "architectural"}


def test_flags_are_an_int_flag_with_the_cores_values():
    from kvabench import _core
    from kvabench.flags import sf_buf_flags

    F = kvabench.SfBufFlags
    assert {f.name: f.value for f in F} | {"DEFAULT": 0} == _core.SF_BUF_FLAGS
    assert sf_buf_flags("NOWAIT|CPUPRIVATE") == F.NOWAIT | F.CPUPRIVATE
    assert sf_buf_flags(["catch", "SFB_NOWAIT"]) == F.CATCH | F.NOWAIT
    assert sf_buf_flags(0) == F.DEFAULT and sf_buf_flags(F.CATCH) is F.CATCH
    with pytest.raises(kvabench.ArgumentError, match="flags: unknown sf_buf flag 'SOMETIMES'; valid flags"):
        sf_buf_flags("NOWAIT|SOMETIMES")
    with pytest.raises(kvabench.ArgumentTypeError, match="flags"):
        sf_buf_flags(1.0)


def test_misuse_raises_kva_error():
    m = kvabench.Machine("ref", nsfbufs=2)
    td = m.thread("td0", cpu=0)
    with pytest.raises(kvabench.KvaError, match="not wired"):
        m.sf_buf_alloc(td, m.page_alloc(wired=False))
    sf = m.sf_buf_alloc(td, m.page_alloc())
    m.sf_buf_free(sf)
    with pytest.raises(kvabench.StateError, match="holds no reference"):
        m.sf_buf_free(sf)
    with pytest.raises(kvabench.KvaError, match="not referenced"):
        m._raw.sf_buf_free(td._raw, sf._raw)  # what the handle check stands in front of
    with pytest.raises(kvabench.KvaError, match="already exists"):
        m.thread("td0", cpu=1)
    with pytest.raises(ValueError, match="cpu 5"):
        m.thread("td5", cpu=5)
    with pytest.raises(TypeError):
        m.sf_buf_alloc(td, "not a page")


def test_handles_keep_their_machine_alive():
    def only_an_sf_buf():
        m = kvabench.Machine("ref", nsfbufs=2)
        page = m.page_alloc(fill=0x5A, wired=True)
        return m.sf_buf_alloc(m.thread("td0", cpu=0), page)

    sf = only_an_sf_buf()
    gc.collect()
    assert sf.page.read(0, 4) == b"\x5a" * 4
    machine = sf.page.machine
    assert machine.load(0, sf.kva, 4) == b"\x5a" * 4
    assert machine.sf_buf_alloc(machine.thread("td1", cpu=1), sf.page, "NOWAIT") == sf


def test_handles_lead_back_to_the_same_machine():
    m = kvabench.Machine("ref")
    page = m.page_alloc(wired=True)
    assert page.machine is m
    assert m.sf_buf_alloc(m.thread("td0", cpu=0), page).page.machine is m
