"""The Pythonic layer over buf(9) and files: typed handles and results, flags as IntFlag,
context managers, PendingCall results, and every misuse raising a documented exception that
names the argument. Expected bytes come from what the tests write or fill."""
import pytest

import kvabench
from kvabench import ArgumentError, ArgumentTypeError, BufFlags, GbFlags, KvaError

PAGE = kvabench.PAGE_SIZE


@pytest.fixture
def m():
    with kvabench.Machine("ref", cpus=2) as machine:
        yield machine


@pytest.fixture
def f(m):
    return m.file_create("f", bsize=16384, size="64K", fill=0x5A)


def test_buf_handle_is_typed_and_its_repr_says_where_it_is(m, f):
    bp = m.bread(0, f, 1)
    assert isinstance(bp, kvabench.Buf) and isinstance(bp.flags, BufFlags)
    assert BufFlags.CACHE in bp.flags and BufFlags.DELWRI not in bp.flags
    assert sorted(f"B_{x.name}" for x in BufFlags if x in bp.flags) == sorted(bp.flag_names)
    assert isinstance(bp.owner, kvabench.Thread) and bp.owner.cpu == 0
    assert all(isinstance(p, kvabench.Page) for p in bp.pages) and len(bp.pages) == 4
    assert bp.pages[0] == f.page(4)  # block 1 of 16K blocks starts at page 4
    text = repr(bp)
    assert text.startswith(f"<Buf {bp.index} lblkno=1 bcount=16384 data={bp.data:#x} ")
    assert "locked by " in text and "(ref)" in text
    m.brelse(bp)
    assert "released (clean)" in repr(bp)
    assert repr(f) == "<File 'f' bsize=16K size=64K (ref)>"


def test_buf_context_manager_releases_only_what_it_holds(m, f):
    with m.bread(0, f, 0) as bp:
        assert bp.locked
        assert m.read(1, bp.data, 4) == b"\x5a" * 4
    assert not bp.locked and bp.queue == "clean"
    with m.bread(0, f, 0) as again:
        m.bdwrite(again)  # released inside: nothing left to release on exit
    assert not again.locked and BufFlags.DELWRI in again.flags and again.queue == "dirty"


def test_getblk_flags_as_int_flag_names_and_lists(m, f):
    assert m.getblk(0, f, 2, flags=GbFlags.NOCREAT) is None
    assert m.getblk(0, f, 2, flags="gb_nocreat") is None
    bp = m.getblk(0, f, 2, flags=["UNMAPPED"])
    assert not bp.mapped and bp.data == 0
    assert m.buf_map(bp) == 0 and bp.mapped and bp.data != 0
    m.brelse(bp)
    assert GbFlags.parse("NOWAIT|NOCREAT") == GbFlags.NOWAIT | GbFlags.NOCREAT


def test_pending_calls_return_what_the_call_would(m, f):
    m.device_hold()
    read = m.file_read(1, f, 100, 8)
    assert isinstance(read, kvabench.PendingCall) and read.call == "file_read" and not read.done
    assert "sleeping" in repr(read) and "thread=cpu1" in repr(read)
    with pytest.raises(KvaError, match="has not returned yet"):
        read.result
    m.device_release()
    assert read.done and read.result == b"\x5a" * 8
    m.pageout(release_buffers=True)
    m.device_hold()
    sent = m.sendfile(0, f, 0, 3 * PAGE)
    assert isinstance(sent, kvabench.PendingCall)
    m.device_release()
    assert isinstance(sent.result, kvabench.SendfileResult)
    assert (sent.result.bytes, sent.result.pages, sent.result.first_mismatch) == (3 * PAGE, 3, None)


def test_results_are_records_and_tables(m, f):
    r = m.sendfile(0, f, checksum_cpu=1)
    assert r.to_dict() == {"bytes": 65536, "pages": 16, "checksum": r.checksum, "first_mismatch": None}
    assert m.lost_writes() == [] and m.buf_violations() == []
    assert m.lost_writes().to_pandas().empty
    c = m.stats()
    assert c.buf.nbuf == c["buf"]["nbuf"] == 64 and c.vfs.sendfile_pages == 16


@pytest.mark.parametrize("inject", [["relbuf-delwri"], []])
def test_lost_write_is_a_record_naming_file_and_offset(inject):
    with kvabench.Machine("ref", inject=inject) as m:
        f = m.file_create("f", size="16K", fill=0)
        m.file_write(0, f, 4096 + 10, b"\x33" * 20)        # delayed: B_DELWRI
        m.brelse(m.getblk(0, f, 1), flags="RELBUF")       # the fault drops its pages unwritten
        m.pageout()
        m.fsync(0, f)
        lost = m.lost_writes()
        if not inject:
            assert lost == [] and f.on_device(4096 + 10, 20) == b"\x33" * 20
            return
        assert len(lost) >= 1 and isinstance(lost[0], kvabench.LostWrite)
        w = lost[0]
        assert (w.file, w.offset) == ("f", 4096 + 10) and w.length > 0
        assert w.expected.startswith(b"\x33") and w.device.startswith(b"\x00") and "fsync" in w.when
        assert lost.to_pandas()["offset"].tolist()[0] == 4096 + 10


def test_mappings_name_buffer_owners(m, f):
    bp = m.bread(0, f, 2)
    rows = m.mappings(start=bp.kvabase, end=bp.kvabase + bp.kvasize)
    assert {r.owner for r in rows} == {f"buf #{bp.index}"}
    assert sum(r.size for r in rows) == 4 * PAGE
    assert rows[0].pa == bp.pages[0].pa
    m.brelse(bp)


@pytest.mark.parametrize("call, argument, message", [
    (lambda m, f: m.bread(5, f, 0), "thread", "cpu 5 does not exist"),
    (lambda m, f: m.bread(0, f, -1), "lblkno", "-1 is out of range"),
    (lambda m, f: m.getblk(0, f, 0, flags="SOMETIMES"), "flags", "unknown getblk flag 'SOMETIMES'"),
    (lambda m, f: m.getblk(0, f, 0, flags=0x40), "flags", "no getblk flag"),
    (lambda m, f: m.getblk(0, f, 0, size=0), "size", "0 is out of range"),
    (lambda m, f: m.bread(0, f, 0, rablkno=[-2]), "rablkno", "-2 is out of range"),
    (lambda m, f: m.brelse(m.bread(0, f, 0), flags="SOON"), "flags", "unknown value 'SOON'"),
    (lambda m, f: m.bstrategy(m.getblk(0, f, 0), "erase"), "cmd", "unknown value 'erase'"),
    (lambda m, f: m.buf_set_valid(m.getblk(0, f, 0), 0, 1 << 20), "n", "is out of range"),
    (lambda m, f: m.file_write(0, f, 0, b"x", mode="later"), "mode", "unknown value 'later'"),
    (lambda m, f: m.file_read(0, f, -5, 4), "offset", "-5 is out of range"),
    (lambda m, f: m.sendfile(0, f, checksum_cpu=7), "checksum_cpu", "cpu 7 does not exist"),
    (lambda m, f: m.device_fail_next("erase"), "cmd", "unknown value 'erase'"),
    (lambda m, f: m.file_create("f"), "name", "exists already"),
    (lambda m, f: m.file_create("g", bsize=3000), "bsize", "power of two"),
    (lambda m, f: m.file_create("g", fill=300), "fill", "300 is out of range"),
    (lambda m, f: f.blkno(99), "lblkno", "99 is out of range"),
    (lambda m, f: kvabench.Machine("ref", buf={"nbufs": 4}), "buf", "unknown option 'nbufs'"),
    (lambda m, f: kvabench.Machine("ref", buf={"nbuf": 0}), "buf['nbuf']", "0 is out of range"),
    (lambda m, f: kvabench.Machine("ref", buf={"maxbufspace": "6K"}), "buf['maxbufspace']", "multiple of 4K"),
    (lambda m, f: kvabench.Machine("ref", buf={"daemon_cpu": 2}), "buf['daemon_cpu']", "2 is out of range"),
    (lambda m, f: kvabench.Machine("ref", device={"completion": "later"}), "device['completion']",
     "unknown value 'later'"),
    (lambda m, f: kvabench.Machine("ref", device={"completion": 9}), "device['completion']", "9 is out of range"),
    (lambda m, f: kvabench.Machine("ref", device={"size": 1000}), "device['size']", "multiple of 512"),
])
def test_bad_values_name_the_argument(m, f, call, argument, message):
    with pytest.raises(ArgumentError, match=message) as info:
        call(m, f)
    assert info.value.argument == argument and str(info.value).startswith(f"{argument}: ")


@pytest.mark.parametrize("call, argument", [
    (lambda m, f: m.bread("cpu0", f, 0), "thread"),
    (lambda m, f: m.bread(0, "f", 0), "file"),
    (lambda m, f: m.bread(0, f, 0, flags=True), "flags"),
    (lambda m, f: m.brelse(f), "buf"),
    (lambda m, f: m.file_write(0, f, 0, "text"), "data"),
    (lambda m, f: m.fsync(0, f, n="all"), "n"),
    (lambda m, f: kvabench.Machine("ref", buf=[("nbuf", 4)]), "buf"),
    (lambda m, f: kvabench.Machine("ref", buf={"unmapped": "yes"}), "buf['unmapped']"),
])
def test_bad_types_name_the_argument(m, f, call, argument):
    with pytest.raises(ArgumentTypeError) as info:
        call(m, f)
    assert info.value.argument == argument


def test_handles_of_another_machine_or_a_closed_one_are_refused(m, f):
    bp = m.bread(0, f, 0)
    with kvabench.Machine("ref") as other:
        with pytest.raises(ArgumentError, match="file: file belongs to another Machine"):
            other.bread(0, f, 0)
        with pytest.raises(ArgumentError, match="buf: buffer belongs to another Machine"):
            other.brelse(bp)
    m.close()
    for call in (lambda: bp.data, lambda: f.size, lambda: f.model(0, 4)):
        with pytest.raises(kvabench.MachineClosedError):
            call()
    assert "closed" in repr(bp) and "closed" in repr(f)


def test_kernel_misuse_is_a_kva_error_not_a_crash(m, f):
    bp = m.bread(0, f, 0)
    m.brelse(bp)
    with pytest.raises(KvaError):
        m.brelse(bp)  # not held any more
    again = m.bread(1, f, 0)
    assert bp == again and bp.stale and not again.stale
    with pytest.raises(KvaError, match="stale"):
        m.bdwrite(bp)
    with pytest.raises(KvaError):
        m.allocbuf(again, 1 << 20)  # beyond its KVA
    m.brelse(again)
