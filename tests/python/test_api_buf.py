"""buf(9), files and sendfile through the kvabench Python API on every registered arch: buffer
handles, sleeping calls, the device, the lost-write oracle, fault switches. Expected bytes come
from what the tests write or fill, never from earlier output."""
import pytest

import kvabench
from test_api import ARCHS, make_machine, random_bytes

PAGE = kvabench.PAGE_SIZE


@pytest.fixture(params=ARCHS)
def machine(request):
    return make_machine(request.param, cpus=2)


def pattern_file(m, name="f", bsize=4096, size=64 * 1024, seed=1):
    """A file whose contents are random_bytes(seed) repeated."""
    return m.file_create(name, bsize=bsize, size=size, fill=random_bytes(seed, 4096))


def expected(seed, off, n):
    data = random_bytes(seed, 4096)
    return bytes(data[(off + i) % 4096] for i in range(n))


def test_bread_returns_a_locked_mapped_buffer_of_the_file(machine):
    f = pattern_file(machine, bsize=16384, seed=2)
    bp = machine.bread(0, f, 2)
    assert isinstance(bp, kvabench.Buf)
    assert bp.lblkno == 2 and bp.offset == 2 * 16384 and bp.bcount == 16384 and bp.npages == 4
    assert "B_CACHE" in bp.flag_names and bp.locked and bp.mapped and bp.error == 0
    assert bp.data == bp.kvabase  # page-aligned block
    for cpu in range(machine.cpus):
        assert machine.load(cpu, bp.data + 5000, 64) == expected(2, 2 * 16384 + 5000, 64)
    machine.brelse(bp)
    assert not bp.locked and bp.queue == "clean"
    again = machine.bread(1, f, 2)
    assert again == bp and machine.stats()["buf"]["reads"] == 1
    machine.brelse(again)
    assert machine.stale() == [] and machine.buf_violations() == []


def test_subpage_block_data_starts_inside_its_page(machine):
    f = pattern_file(machine, bsize=512, size=8192, seed=3)
    bp = machine.bread(0, f, 5)
    assert bp.data - bp.kvabase == 5 * 512 % PAGE
    assert machine.load(1, bp.data, 32) == expected(3, 5 * 512, 32)
    assert bp.pages[0] == f.page(0)
    machine.brelse(bp)


def test_getblk_flags_and_a_sleeping_getblk(machine):
    f = pattern_file(machine)
    t0, t1 = machine.thread("t0", 0), machine.thread("t1", 1)
    assert machine.getblk(t0, f, 3, flags="NOCREAT") is None
    held = machine.getblk(t0, f, 3)
    assert "B_CACHE" not in held.flag_names
    assert machine.getblk(t1, f, 3, flags=["NOWAIT"]) is None
    pending = machine.getblk(t1, f, 3)
    assert isinstance(pending, kvabench.PendingCall) and not pending.done
    assert t1.state == "sleeping" and t1.wmesg == "getblk"
    with pytest.raises(kvabench.KvaError):
        pending.result
    machine.brelse(held)
    assert pending.done and pending.result == held and pending.result.owner == t1
    machine.brelse(pending.result)


def test_stale_handles_and_misuse_raise(machine):
    f = pattern_file(machine)
    bp = machine.bread(0, f, 0)
    machine.brelse(bp)
    with pytest.raises(kvabench.KvaError):
        machine.brelse(bp)  # released: no holder
    again = machine.bread(1, f, 0)
    assert bp.stale and not again.stale
    with pytest.raises(kvabench.KvaError, match="stale"):
        machine.bawrite(bp)
    with pytest.raises(kvabench.KvaError):
        machine.allocbuf(again, 64 * 1024)  # beyond the block size
    with pytest.raises(ValueError):
        machine.getblk(0, f, 0, flags="SOMETIMES")
    machine.brelse(again)
    other = kvabench.Machine("ref")
    with pytest.raises(ValueError, match="another Machine"):
        other.bread(0, f, 0)


def test_geteblk_and_allocbuf(machine):
    e = machine.geteblk(0, 10000)
    assert e.npages == 3 and e.data == e.kvabase and "B_MALLOC" in e.flag_names
    machine.store(1, e.data + 9000, b"xyz")
    assert machine.load(0, e.data + 9000, 3) == b"xyz"
    machine.brelse(e)
    f = pattern_file(machine, bsize=16384)
    bp = machine.getblk(0, f, 1, size=2048)
    machine.allocbuf(bp, 12000)
    assert (bp.npages, bp.bcount, bp.bufsize) == (3, 12000, 12288)
    machine.allocbuf(bp, 1024)
    assert bp.npages == 1
    machine.brelse(bp)


def test_async_write_completes_on_the_next_cpu(machine):
    f = pattern_file(machine, seed=4)
    bp = machine.bread(0, f, 1)
    machine.store(0, bp.data, b"\x77" * 32)
    machine.device_hold()
    machine.bawrite(bp)
    assert bp.locked and bp.owner is None and machine.device_in_flight == 1
    machine.device_release()
    assert not bp.locked and bp.queue == "clean"
    assert f.on_device(4096, 32) == b"\x77" * 32
    assert machine.stats()["vfs"]["remote_completions"] == 2  # the read and the write


def test_bstrategy_bufwait_and_bogus_page(machine):
    f = pattern_file(machine, bsize=16384, seed=5)
    assert machine.file_write_mapped(0, f, PAGE, b"\x42" * 64) == 0
    assert machine.pageout(release_buffers=True) == 3
    bp = machine.getblk(0, f, 0)
    assert "B_CACHE" not in bp.flag_names
    machine.device_hold()
    machine.bstrategy(bp, "read")
    assert bp.bogus == 1 and bp.pages[1] == machine.bogus_page
    assert machine.extract(bp.data + PAGE) == machine.bogus_page.pa
    pending = machine.bufwait(bp)
    assert isinstance(pending, kvabench.PendingCall)
    machine.device_release()
    assert pending.done and pending.result == 0
    assert bp.bogus == 0 and machine.extract(bp.data + PAGE) == f.page(1).pa
    assert machine.load(1, bp.data + PAGE, 64) == b"\x42" * 64
    assert machine.load(1, bp.data, 64) == expected(5, 0, 64)
    machine.brelse(bp)
    assert machine.buf_violations() == []


def test_byte_ranges_and_their_hole_rules(machine):
    f = machine.file_create("f", size="16K")
    bp = machine.getblk(0, f, 0)
    machine.buf_set_valid(bp, 0, 1024)
    machine.buf_set_dirty(bp, 0, 100)
    machine.buf_set_dirty(bp, 200, 100)
    assert bp.dirty == (0, 300)
    vb = machine.getblk(0, f, 1)
    machine.buf_set_valid(vb, 0, 100)
    machine.buf_set_valid(vb, 200, 100)
    assert vb.valid == (0, 100)
    machine.brelse(bp)
    machine.brelse(vb)


def test_files_fsync_crash_and_the_oracle(machine):
    f = machine.file_create("f", bsize=4096, size="32K", fill=0)
    assert machine.file_write(0, f, 100, b"A" * 5000) == 0
    assert machine.file_write(1, f, 20000, b"B" * 300, mode="async") == 0
    assert machine.file_read(1, f, 98, 6) == b"\0\0AAAA"
    assert f.model(20000, 3) == b"BBB"
    assert machine.fsync(0, f) == 0
    assert f.on_device(0, 32768) == f.model(0, 32768)
    assert machine.file_write(0, f, 8192, b"C" * 10) == 0  # never synced
    machine.crash()
    assert machine.lost_writes() == []
    assert machine.file_read(0, f, 100, 4) == b"AAAA"
    assert machine.file_read(0, f, 8192, 10) == b"\0" * 10
    assert machine.stats()["vfs"]["crashes"] == 1


def test_failed_write_leaves_the_buffer_dirty(machine):
    f = machine.file_create("f", size="16K", fill=0)
    machine.device_fail_next("write")
    assert machine.file_write(0, f, 0, b"\x3c" * 4096, mode="sync") == 5  # EIO
    bp = machine.getblk(0, f, 0)
    assert "B_DELWRI" in bp.flag_names
    machine.brelse(bp)
    assert machine.fsync(0, f) == 0 and f.on_device(0, 4096) == b"\x3c" * 4096
    assert machine.lost_writes() == []


def test_a_fault_on_a_chosen_block_fails_only_the_io_covering_it(machine):
    f = machine.file_create("f", size="16K", fill=0)
    assert machine.file_write(0, f, 0, b"\x21" * 16384) == 0
    machine.device_fail_next("write", block=f.blkno(2))
    for lblkno in range(4):
        machine.bawrite(machine.getblk(0, f, lblkno))
    assert f.on_device(0, 8192) == b"\x21" * 8192 and f.on_device(3 * 4096, 4096) == b"\x21" * 4096
    assert f.on_device(8192, 16) == b"\0" * 16
    assert machine.stats()["buf"]["io_errors"] == 1
    assert machine.fsync(0, f) == 0 and f.on_device(0, 16384) == b"\x21" * 16384
    assert machine.lost_writes() == []
    with pytest.raises(kvabench.ArgumentError, match="block"):
        machine.device_fail_next("read", block=-1)


def test_a_store_through_b_data_is_a_change_of_the_file(machine):
    """The file system writing its buffer directly (store, bdwrite, fsync) is no lost write,
    and the file model has the stored bytes; past EOF, nothing changes."""
    f = machine.file_create("f", bsize=4096, size=6000, fill=0)
    bp = machine.bread(0, f, 1)
    machine.store(1, bp.data + 16, b"stored by cpu 1")
    machine.store(1, bp.data + 1900, b"0123456789ABCDEFGHIJ")  # 4 bytes before EOF
    assert f.model(4096 + 16, 15) == b"stored by cpu 1"
    assert f.size == 6000 and f.model(5996, 4) == b"0123"
    machine.bdwrite(bp)
    assert machine.fsync(0, f) == 0
    assert f.on_device(4096 + 16, 15) == b"stored by cpu 1"
    assert machine.lost_writes() == []


def test_a_store_into_a_buffer_never_written_is_a_lost_write(machine):
    f = machine.file_create("f", size="8K", fill=0)
    bp = machine.bread(0, f, 0)
    machine.store(0, bp.data + 8, b"never written")
    machine.brelse(bp)  # not dirtied: the change never reaches the device
    machine.fsync(0, f)
    lost = machine.lost_writes()
    assert lost and lost[0].offset == 8 and lost[0].expected.startswith(b"never written")


def test_sendfile_reads_the_file_through_sf_bufs(machine):
    f = pattern_file(machine, bsize=8192, size=100000, seed=6)
    r = machine.sendfile(0, f, 1000, 50000, checksum_cpu=1)
    assert (r["bytes"], r["pages"], r["first_mismatch"]) == (50000, 13, None)
    assert machine.sendfile(1, f, 1000, 50000)["checksum"] == r["checksum"]
    s = machine.stats()
    assert s["vfs"]["sendfile_pages"] == 26 and s["sf_buf"]["nsfbufsused"] == 0
    assert machine.stale() == []


def test_unmapped_mode_never_maps_a_buffer(machine):
    m = make_machine(machine.arch, cpus=2, buf={"unmapped": True, "nbuf": 8})
    f = pattern_file(m, bsize=16384, seed=7)
    assert m.file_write(0, f, 3000, b"u" * 9000) == 0
    assert m.file_read(1, f, 2999, 3) == expected(7, 2999, 1) + b"uu"
    assert m.fsync(0, f) == 0
    s = m.stats()["buf"]
    assert s["kva_maps"] == 0 and s["mapped_ios"] == 0 and s["unmapped_ios"] > 0


def test_buffer_options_are_checked():
    with pytest.raises(ValueError, match="unknown option"):
        kvabench.Machine("ref", buf={"nbufs": 4})
    with pytest.raises(ValueError):
        kvabench.Machine("ref", buf={"maxbufspace": "32K"})
    with pytest.raises(ValueError, match="completion"):
        kvabench.Machine("ref", device={"completion": "later"})
    m = kvabench.Machine("ref", buf={"nbuf": 3, "hidirtybuffers": 2, "lodirtybuffers": 1},
                         device={"completion": "issuer", "size": "1M"})
    assert m.stats()["buf"]["nbuf"] == 3


def test_file_backed_device(tmp_path):
    path = tmp_path / "disk.img"
    m = kvabench.Machine("ref", device={"file": str(path), "size": "1M"})
    f = m.file_create("f", size="16K", fill=0)
    assert m.file_write(0, f, 4096, b"\x12" * 4096, mode="sync") == 0
    raw = path.read_bytes()
    assert raw[f.blkno(1) * 512:f.blkno(1) * 512 + 4096] == b"\x12" * 4096


@pytest.mark.parametrize("fault", [f["name"] for f in kvabench.faults() if f["subsystem"] == "buf"])
def test_every_buf_fault_loses_or_corrupts_data_and_the_correct_kernel_does_not(fault):
    """One scenario touching every buf fault's path: with the fault some detector reports (a lost
    write, wrong bytes, staleness or an invariant), without it none does."""
    def scenario(inject):
        wrong, lost, stale, violations = [], [], [], []

        def done(m):
            lost.extend(m.lost_writes())
            stale.extend(m.stale())
            violations.extend(m.buf_violations())

        # One buffer reused for other sub-page blocks (b_data's offset, KVA reuse).
        m = kvabench.Machine("ref", inject=inject, buf={"nbuf": 1}, device={"pio": False})
        g = m.file_create("g", bsize=512, size="8K", fill=random_bytes(9, 4096))
        a = m.bread(0, g, 1)
        m.load(1, a.data, 16)
        m.brelse(a)
        b = m.bread(0, g, 2)
        wrong.append(m.load(1, b.data, 16) != expected(9, 1024, 16))
        m.brelse(b)
        done(m)

        m = kvabench.Machine("ref", inject=inject)
        f = m.file_create("f", bsize=16384, size="64K", fill=random_bytes(8, 4096))
        # bogus_page: a dirty page in a block whose other pages went
        m.file_write_mapped(0, f, PAGE + 8, b"\x99" * 100)
        m.pageout(release_buffers=True)
        bp = m.bread(1, f, 0)
        wrong.append(m.load(1, bp.data + PAGE + 8, 100) != b"\x99" * 100)
        m.brelse(bp)
        # the dirty range's hole, a store during a write, B_DELWRI|B_RELBUF
        m.file_write(0, f, 32768, b"\x11" * 100)
        m.file_write(0, f, 33768, b"\x22" * 100)
        c = m.getblk(0, f, 2)
        m.device_hold()
        m.bawrite(c)
        m.file_write_mapped(1, f, 32768 + 1050, b"\x77" * 16)
        m.device_release()
        m.file_write(0, f, 49152, b"\x33" * 64)
        d = m.getblk(0, f, 3)
        m.brelse(d, flags=["RELBUF"])
        m.pageout()
        m.fsync(0, f)
        m.crash()
        wrong.append(m.file_read(0, f, 0, 65536) != f.model(0, 65536))
        done(m)
        return any(wrong), lost, stale, violations

    bad, lost, stale, violations = scenario([fault])
    assert bad or lost or stale or violations, f"{fault} went unnoticed"
    assert bad or lost or stale, f"{fault} was only caught by the invariants"
    good = scenario([])
    assert good == (False, [], [], [])
