"""Every misuse listed in issue 11, and the argument checks around them: each raises a clear
exception of the documented hierarchy whose message names the argument, and none crashes the
interpreter or returns a silently wrong answer."""
import subprocess
import sys

import pytest

import kvabench
from kvabench import ArgumentError, ArgumentTypeError, KvaError, StateError

ARCHS = kvabench.archs().names()
PAGE = kvabench.PAGE_SIZE


def mapped(m, fill=0x5C):
    page = m.page_alloc(fill=fill)
    va = m.kva_alloc()
    m.kenter(va, page)
    return page, va


# --- crashes: objects made without their constructor ---------------------------------------

CRASH_SNIPPET = """
import kvabench
for cls, attr in [(kvabench.Machine, "arch"), (kvabench.Page, "pa"), (kvabench.SfBuf, "kva"),
                  (kvabench.Thread, "name"), (kvabench.PendingSfBuf, "done"), (kvabench.Buf, "data"),
                  (kvabench.File, "size"), (kvabench.PendingCall, "result")]:
    obj = cls.__new__(cls)
    repr(obj)
    try:
        getattr(obj, attr)
    except kvabench.StateError as e:
        print(cls.__name__, "|", e)
"""


def test_objects_made_with_new_raise_instead_of_crashing():
    # In a subprocess: before the fix this was a segfault, which would take pytest down too.
    proc = subprocess.run([sys.executable, "-c", CRASH_SNIPPET], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" | ") for line in proc.stdout.splitlines())
    assert lines["Machine"] == "this Machine is not initialised: create one with Machine(arch, ...)"
    assert lines["Page"] == "this Page was not made by a Machine: use Machine.page_alloc()"
    assert lines["SfBuf"] == "this SfBuf was not made by a Machine: use Machine.sf_buf_alloc()"
    assert lines["Thread"] == "this Thread was not made by a Machine: use Machine.thread()"
    assert lines["PendingSfBuf"] == "this PendingSfBuf was not made by a Machine: use Machine.sf_buf_alloc()"
    assert lines["Buf"] == "this Buf was not made by a Machine: use Machine.getblk(), bread() or geteblk()"
    assert lines["File"] == "this File was not made by a Machine: use Machine.file_create()"
    assert lines["PendingCall"].startswith("this PendingCall was not made by a Machine: use Machine calls")


@pytest.mark.parametrize("cls", [kvabench.Page, kvabench.SfBuf, kvabench.Thread, kvabench.PendingSfBuf,
                                 kvabench.Buf, kvabench.File, kvabench.PendingCall])
def test_handles_cannot_be_constructed_directly(cls):
    with pytest.raises(StateError, match=f"{cls.__name__} objects are made by Machine"):
        cls()


def test_machine_methods_on_an_uninitialised_machine_raise():
    m = kvabench.Machine.__new__(kvabench.Machine)
    assert repr(m) == "<Machine (not initialised)>"
    for call in (lambda: m.page_alloc(), lambda: m.read(0, 0), lambda: m.tlb(), lambda: m.stats()):
        with pytest.raises(StateError, match="not initialised"):
            call()
    m.close()  # nothing to close


def test_init_twice_is_refused():
    m = kvabench.Machine("ref")
    with pytest.raises(StateError, match=r"Machine.__init__ called again on an initialised Machine"):
        m.__init__("ref", cpus=4)
    assert m.cpus == 2


# --- silent wrong answers ----------------------------------------------------------------

def test_memory_too_large_for_64_bits_is_refused_not_wrapped():
    with pytest.raises(ArgumentError, match=r"^memory: size '17179869185G' does not fit in 64 bits$") as info:
        kvabench.Machine("ref", memory="17179869185G")
    assert info.value.argument == "memory"
    with pytest.raises(ArgumentError, match=r"memory: '2G' is out of range: must be between 1M and 1G"):
        kvabench.Machine("ref", memory="2G")
    with pytest.raises(ArgumentError, match=r"memory: 18446744073709551616 is out of range|memory: size .* does not fit"):
        kvabench.Machine("ref", memory=2**64)
    assert kvabench.parse_size("1G") == 1 << 30


@pytest.mark.parametrize("arch", ARCHS)
def test_vas_beyond_the_arch_format_are_refused_not_truncated(arch):
    """Asked of the pmap (va_format), never of the arch's name: a 32-bit format refuses
    va + 2**32 instead of reading va; a 64-bit one refuses non-canonical addresses."""
    with kvabench.Machine(arch) as m:
        page, va = mapped(m)
        width, bits = m.va_format
        bad = va + (1 << 32) if width == 32 else (va ^ (1 << (bits - 1))) if bits < 64 else None
        if bad is None:
            pytest.skip(f"{arch} translates all 64 bits")
        what = f"not a {width}-bit virtual address" if width < 64 else "not a canonical virtual address"
        for call in (lambda: m.read(0, bad, 4), lambda: m.write(0, bad, b"x"), lambda: m.pte(bad),
                     lambda: m.walk(bad), lambda: m.extract(bad), lambda: m.kenter(bad, page),
                     lambda: m.invalidate(0, bad), lambda: m.shootdown(0, "all", bad),
                     lambda: m.copy(0, va, bad, 4)):
            with pytest.raises(ArgumentError, match=what) as info:
                call()
            assert info.value.argument in ("va", "src")
        assert m.read(0, va, 4) == b"\x5c" * 4  # nothing was written through the truncated VA
        assert m.stale() == []


def test_kva_free_of_the_sf_buf_pool_is_refused():
    for arch in ARCHS:
        with kvabench.Machine(arch, nsfbufs=4) as m:
            pool = m.sf_buf_pool()
            if not pool:
                continue  # direct-map mode: no pool
            start = pool[0].kva
            with pytest.raises(KvaError, match="kva_free: no raw KVA reservation starts at this address"):
                m.kva_free(start, len(pool))
            va = m.kva_alloc()
            assert all(va != slot.kva for slot in pool), "kva_alloc handed out an sf_buf's KVA"


def test_run_with_every_thread_asleep_is_a_deadlock():
    pool_archs = [a for a in ARCHS if kvabench.Machine(a).mode == "pool"]
    with kvabench.Machine(pool_archs[0], nsfbufs=1) as m:
        holder, waiter = m.thread("holder", cpu=0), m.thread("waiter", cpu=1)
        held = m.sf_buf_alloc(holder, m.page_alloc())
        pending = m.sf_buf_alloc(waiter, m.page_alloc())
        with pytest.raises(kvabench.DeadlockError, match=r"run\(\): every thread with work sleeps .*waiter \(sfbufa\)") as info:
            m.run()
        assert isinstance(info.value, KvaError) and info.value.sleeping == ("waiter",)
        held.free()
        assert m.run() == 1 and pending.done
    with kvabench.Machine("ref") as m:
        assert m.run() == 0  # no thread has work: nothing to do, no deadlock


def test_stale_sf_buf_handle_after_recycling():
    pool_archs = [a for a in ARCHS if kvabench.Machine(a).mode == "pool"]
    with kvabench.Machine(pool_archs[0], nsfbufs=1) as m:
        td = m.thread("td0", cpu=0)
        old = m.sf_buf_alloc(td, m.page_alloc(fill=1))
        old_kva = old.kva
        m.sf_buf_free(old)
        new = m.sf_buf_alloc(td, m.page_alloc(fill=2))  # the only slot, recycled
        assert new.kva == old_kva
        assert old != new and old.stale and not new.stale
        assert repr(old).startswith("<SfBuf 0 stale")
        with pytest.raises(kvabench.StaleHandleError, match=r"slot 0 was recycled for another page") as info:
            m.sf_buf_free(old)
        assert isinstance(info.value, StateError)
        with pytest.raises(kvabench.StaleHandleError):
            old.page
        with pytest.raises(kvabench.StaleHandleError, match="sf: this SfBuf handle is stale"):
            m._raw.sf_buf_free(td._raw, old._raw)  # the core-side check behind the handle's
        assert new.ref_count == 1  # the new user's reference survived


# --- out-of-range and wrongly typed arguments name the argument ----------------------------

@pytest.fixture
def m():
    with kvabench.Machine("ref", cpus=2) as machine:
        yield machine


@pytest.mark.parametrize("call, argument, message", [
    (lambda m, va: m.read(0, 2**64, 4), "va", "is not a 64-bit address"),
    (lambda m, va: m.read(0, -1, 4), "va", "is not a 64-bit address"),
    (lambda m, va: m.read(2**70, va, 4), "cpu", f"cpu {2**70} does not exist"),
    (lambda m, va: m.read(0, va, 0), "n", "0 is out of range"),
    (lambda m, va: m.read(0, va, 2**80), "n", "is out of range"),
    (lambda m, va: m.kva_alloc(2**40), "npages", "is out of range"),
    (lambda m, va: m.kva_alloc(0), "npages", "0 is out of range"),
    (lambda m, va: m.invalidate(0, va, 0), "npages", "0 is out of range"),
    (lambda m, va: m.qremove(0, va, -3), "count", "-3 is out of range"),
    (lambda m, va: m.shootdown(0, [0, 9], va), "targets", "cpu 9 does not exist"),
    (lambda m, va: m.shootdown(0, "everyone", va), "targets", "expected 'all' or a list of CPUs"),
    (lambda m, va: m.page_alloc(fill=-1), "fill", "-1 is out of range"),
    (lambda m, va: m.page_alloc(fill=b"x" * (PAGE + 1)), "fill", "do not fit"),
    (lambda m, va: m.thread("t", cpu=-1), "cpu", "cpu -1 does not exist"),
    (lambda m, va: m.kenter(va, -5), "page", "is not a 64-bit address"),
    (lambda m, va: m.phys_to_dmap(2**64), "pa", "is not a 64-bit address"),
    (lambda m, va: m.sf_buf_alloc(m.thread("t", 0), m.page_alloc(), 1 << 20), "flags", "out of range"),
    (lambda m, va: m.sf_buf_alloc(m.thread("t", 0), m.page_alloc(), "SOMETIMES"), "flags", "unknown sf_buf flag"),
    (lambda m, va: m.inject("no-such-fault"), "fault", "unknown value 'no-such-fault'; valid: "),
    (lambda m, va: kvabench.Machine("ref", cpus=2**70), "cpus", "is out of range: must be between 1 and 64"),
    (lambda m, va: kvabench.Machine("ref", cpus=0), "cpus", "0 is out of range"),
    (lambda m, va: kvabench.Machine("ref", nsfbufs=10**9), "nsfbufs", "is out of range"),
    (lambda m, va: kvabench.Machine("ref", seed=-1), "seed", "-1 is out of range"),
    (lambda m, va: kvabench.Machine("nope"), "arch", "unknown value 'nope'; valid: "),
    (lambda m, va: kvabench.Machine("ref", inject=["drop-ipi", "nope"]), "inject", "unknown value 'nope'"),
])
def test_bad_values_raise_argument_error_naming_the_argument(m, call, argument, message):
    va = m.kva_alloc()
    with pytest.raises(ArgumentError, match=message) as info:
        call(m, va)
    assert info.value.argument == argument
    assert str(info.value).startswith(f"{argument}: ")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("call, argument", [
    (lambda m, va: m.read("0", va, 4), "cpu"),
    (lambda m, va: m.read(True, va, 4), "cpu"),
    (lambda m, va: m.read(0, 1.5, 4), "va"),
    (lambda m, va: m.write(0, va, "text"), "data"),
    (lambda m, va: m.kenter(va, "page"), "page"),
    (lambda m, va: m.sf_buf_alloc("td0", m.page_alloc()), "thread"),
    (lambda m, va: m.sf_buf_alloc(m.thread("t", 0), 0x1000), "page"),
    (lambda m, va: m.sf_buf_free(m.page_alloc()), "sf"),
    (lambda m, va: m.qenter(0, va, m.page_alloc()), "pages"),
    (lambda m, va: m.page_alloc(wired="yes"), "wired"),
    (lambda m, va: kvabench.Machine("ref", memory=1.5), "memory"),
    (lambda m, va: kvabench.Machine("ref", inject=5), "inject"),
    (lambda m, va: kvabench.Machine(5), "arch"),
])
def test_bad_types_raise_argument_type_error_naming_the_argument(m, call, argument):
    va = m.kva_alloc()
    with pytest.raises(ArgumentTypeError) as info:
        call(m, va)
    assert info.value.argument == argument and str(info.value).startswith(f"{argument}: ")
    assert isinstance(info.value, TypeError)


def test_handles_of_another_machine_are_refused(m):
    with kvabench.Machine("ref") as other:
        with pytest.raises(ArgumentError, match="page: page belongs to another Machine"):
            m.kenter(m.kva_alloc(), other.page_alloc())
        with pytest.raises(ArgumentError, match="thread: thread belongs to another Machine"):
            m.sf_buf_alloc(other.thread("t", 0), m.page_alloc())


def test_closed_machine_and_its_handles_refuse_use():
    m = kvabench.Machine("ref")
    page, va = mapped(m)
    td = m.thread("td0", cpu=0)
    sf = m.sf_buf_alloc(td, page)
    m.close()
    m.close()  # twice is fine
    assert m.closed and repr(m) == "<Machine ref (closed)>"
    for call in (lambda: m.read(0, va, 1), lambda: m.arch, lambda: page.pa, lambda: td.state,
                 lambda: sf.kva, lambda: sf.free()):
        with pytest.raises(kvabench.MachineClosedError, match="closed"):
            call()
    assert "closed" in repr(page) and "closed" in repr(sf)


def test_a_closed_machine_frees_its_memory_even_while_handles_live():
    import weakref

    m = kvabench.Machine("ref")
    page = m.page_alloc()
    raw = weakref.ref(m._raw)
    m.close()
    assert raw() is None and page._raw is None


def test_equality_with_other_types_is_false_not_an_error(m):
    page = m.page_alloc()
    td = m.thread("td0", cpu=0)
    sf = m.sf_buf_alloc(td, page)
    for handle in (page, td, sf):
        assert (handle == 1) is False and (handle != "x") is True
        assert handle == handle and hash(handle) == hash(handle)
    assert len({page, page, m.page_alloc()}) == 2


def test_double_free_through_one_handle_is_caught_before_the_core(m):
    td = m.thread("td0", cpu=0)
    page = m.page_alloc()
    first = m.sf_buf_alloc(td, page)
    second = m.sf_buf_alloc(td, page)  # hash hit: same sf_buf, one more reference
    assert first == second and first.ref_count == 2
    first.free()
    with pytest.raises(StateError, match="sf: this handle holds no reference any more"):
        first.free()  # would otherwise drop second's reference
    assert second.ref_count == 1


def test_page_free_refuses_a_mapped_page_and_frees_an_unmapped_one(m):
    page, va = mapped(m)
    page.unwire()
    with pytest.raises(KvaError, match="mapped"):
        m.page_free(page)
    m.kremove(va)
    m.page_free(page)
    with pytest.raises(KvaError):
        m.page_free(page)
