"""Handles into a Machine: pages, kernel threads, sf_bufs, buffers, files and calls whose
thread sleeps (PendingSfBuf, PendingCall).

A handle is only ever made by its Machine (page_alloc, thread, sf_buf_alloc, bread, file_create,
...). It stops working, with MachineClosedError, when the Machine is closed; an SfBuf handle also
stops, with StaleHandleError, once its pool slot is recycled for another page, and a Buf handle
refuses calls that need the buffer locked once it was released and locked again."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from . import _checks
from ._display import size_text
from .errors import ArgumentError, ArgumentTypeError, KvaError, MachineClosedError, StaleHandleError, StateError

if TYPE_CHECKING:  # pragma: no cover
    from .flags import BufFlags
    from .machine import Machine

__all__ = ["Page", "Thread", "SfBuf", "PendingSfBuf", "Buf", "File", "PendingCall"]


class _Handle:
    """Common plumbing: the raw _core handle, its Machine, and the checks before each use."""

    _made_by = "a Machine"
    _raw: Any = None
    _machine: Optional["Machine"] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise StateError(f"{type(self).__name__} objects are made by {self._made_by}")

    @classmethod
    def _wrap(cls, machine: "Machine", raw: Any) -> Any:
        self = object.__new__(cls)
        self._machine, self._raw = machine, raw
        machine._track(self)
        return self

    def _same_raw(self, other: "_Handle") -> bool:
        if self._raw is None or other._raw is None:
            return self is other
        return bool(self._raw == other._raw)

    def __hash__(self) -> int:
        return hash(self._raw) if self._raw is not None else id(self)

    def _h(self) -> Any:
        raw = self._raw
        if raw is None:
            if self._machine is None:
                raise StateError(f"this {type(self).__name__} was not made by a Machine: use {self._made_by}")
            raise MachineClosedError(f"the Machine of this {type(self).__name__} is closed")
        return raw

    def _release(self) -> None:
        """Called by Machine.close(): drop the raw handle so the machine's memory can go."""
        self._raw = None

    @property
    def machine(self) -> "Machine":
        """The Machine this handle belongs to."""
        self._h()
        assert self._machine is not None
        return self._machine

    def _where(self) -> str:
        return f"({self._machine.arch})" if self._machine is not None and self._raw is not None else "(closed)"


class Page(_Handle):
    """A vm_page of the machine's physical memory (Machine.page_alloc()).

    Its bytes are read and written through physical memory (like DMA), never through a TLB."""

    _made_by = "Machine.page_alloc()"

    @property
    def pa(self) -> int:
        """Physical address (VM_PAGE_TO_PHYS)."""
        return self._h().pa

    @property
    def index(self) -> int:
        """Position in the machine's physical memory."""
        return self._h().index

    @property
    def wire_count(self) -> int:
        """vm_page wire count."""
        return self._h().wire_count

    @property
    def wired(self) -> bool:
        """wire_count > 0 (sf_buf_alloc requires a wired page)."""
        return self._h().wire_count > 0

    @property
    def kmap_count(self) -> int:
        """Kernel mappings made with kenter/qenter in kva_alloc reservations (page_free refuses
        a page while any remain)."""
        return self._h().kmap_count

    @property
    def valid(self) -> int:
        """DEV_BSIZE-granular valid bits (VM_PAGE_BITS_ALL when fully valid)."""
        return self._h().valid

    @valid.setter
    def valid(self, bits: int) -> None:
        self._h().valid = _checks.integer("valid", bits, 0, 0xFFFFFFFF)

    @property
    def dirty(self) -> int:
        """DEV_BSIZE-granular dirty bits."""
        return self._h().dirty

    @dirty.setter
    def dirty(self, bits: int) -> None:
        self._h().dirty = _checks.integer("dirty", bits, 0, 0xFFFFFFFF)

    def wire(self) -> None:
        """vm_page_wire."""
        self._h().wire()

    def unwire(self) -> None:
        """vm_page_unwire (KvaError if not wired)."""
        self._h().unwire()

    def read(self, offset: int = 0, n: Optional[int] = None) -> bytes:
        """n bytes (default: to the end of the page) at offset, from physical memory."""
        from .machine import PAGE_SIZE

        offset = _checks.integer("offset", offset, 0, PAGE_SIZE)
        n = PAGE_SIZE - offset if n is None else _checks.integer("n", n, 0, PAGE_SIZE)
        if offset + n > PAGE_SIZE:
            raise ArgumentError(f"[{offset}, {offset + n}) does not fit in a {PAGE_SIZE}-byte page", "n")
        return self._h().read(offset, n)

    def write(self, data: bytes, offset: int = 0) -> None:
        """Write bytes into physical memory at offset."""
        from .machine import PAGE_SIZE

        offset = _checks.integer("offset", offset, 0, PAGE_SIZE)
        if isinstance(data, str):
            raise ArgumentTypeError("expected bytes, not str (encode it first)", "data")
        if hasattr(data, "__len__") and offset + len(data) > PAGE_SIZE:
            raise ArgumentError(f"{len(data)} bytes at offset {offset} do not fit in a {PAGE_SIZE}-byte page", "data")
        self._h().write(data, offset)

    def free(self) -> None:
        """Machine.page_free(self)."""
        self.machine.page_free(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Page):
            return NotImplemented
        return self._same_raw(other)

    __hash__ = _Handle.__hash__

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<Page {self._where()}>"
        r = self._raw
        wired = f"wired={r.wire_count}" if r.wire_count else "unwired"
        return f"<Page {r.index} pa={r.pa:#x} {wired} {self._where()}>"


class Thread(_Handle):
    """A kernel thread of the machine's deterministic scheduler (Machine.thread())."""

    _made_by = "Machine.thread()"

    @property
    def name(self) -> str:
        return self._h().name

    @property
    def tid(self) -> int:
        """Thread id, in creation order."""
        return self._h().tid

    @property
    def cpu(self) -> int:
        """The CPU it runs on (curcpu while it runs)."""
        return self._h().cpu

    @property
    def pinned(self) -> bool:
        """sched_pin'ed (SFB_CPUPRIVATE requires it)."""
        return self._h().pinned

    @property
    def state(self) -> str:
        """'idle', 'runnable' or 'sleeping'."""
        return self._h().state

    @property
    def wmesg(self) -> str:
        """What it sleeps on ('sfbufa' for a free sf_buf), '' when awake."""
        return self._h().wmesg

    @property
    def signal_pending(self) -> bool:
        """A signal arrived and waits for the next PCATCH sleep."""
        return self._h().signal_pending

    def sched_pin(self) -> None:
        """sched_pin: stay on this CPU (nests)."""
        self._h().sched_pin()

    def sched_unpin(self) -> None:
        """KvaError if not pinned."""
        self._h().sched_unpin()

    def signal(self) -> None:
        """Machine.signal(self): interrupts a PCATCH (SFB_CATCH) sleep."""
        self.machine.signal(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Thread):
            return NotImplemented
        return self._same_raw(other)

    __hash__ = _Handle.__hash__

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<Thread {self._where()}>"
        r = self._raw
        sleep = f" on {r.wmesg}" if r.state == "sleeping" and r.wmesg else ""
        pin = "pinned" if r.pinned else "unpinned"
        return f"<Thread {r.name} tid={r.tid} cpu={r.cpu} {pin} {r.state}{sleep} {self._where()}>"


class SfBuf(_Handle):
    """An sf_buf: a temporary kernel mapping of a page (Machine.sf_buf_alloc()).

    The handle stands for the reference sf_buf_alloc returned (plus any taken with ref()); as a
    context manager it frees them on exit::

        with m.sf_buf_alloc(td, page) as sf:
            m.read(1, sf.kva, 16)
    """

    _made_by = "Machine.sf_buf_alloc()"
    _thread: Optional[Thread] = None
    _refs = 0

    @classmethod
    def _wrap(cls, machine: "Machine", raw: Any, thread: Optional[Thread], refs: int = 1) -> "SfBuf":
        self = object.__new__(cls)
        self._machine, self._raw, self._thread, self._refs = machine, raw, thread, refs
        machine._track(self)
        return self

    def _h(self) -> Any:
        raw = super()._h()
        if raw.stale:
            raise StaleHandleError(
                f"this SfBuf handle is stale: slot {raw.index} was recycled for another page since "
                f"sf_buf_alloc returned it (generation {raw.generation})")
        return raw

    @property
    def stale(self) -> bool:
        """True once the slot was recycled for another page (the handle no longer works)."""
        return bool(super()._h().stale)

    @property
    def kva(self) -> int:
        """The mapping's kernel VA (sf_buf_kva)."""
        return self._h().kva

    @property
    def page(self) -> Page:
        """The page it maps (sf_buf_page)."""
        raw_page = self._h().page
        return self.machine._page(raw_page)

    @property
    def index(self) -> int:
        """Pool slot number (direct-map mode: the page's index)."""
        return self._h().index

    @property
    def ref_count(self) -> int:
        """References held by every user of this sf_buf."""
        return self._h().ref_count

    @property
    def cpumask(self) -> List[int]:
        """CPUs whose TLB cannot hold a stale translation for kva."""
        return list(self._h().cpumask)

    @property
    def cpuprivate(self) -> bool:
        """The last allocation was SFB_CPUPRIVATE."""
        return self._h().cpuprivate

    @property
    def generation(self) -> int:
        """How many times the slot had been recycled when sf_buf_alloc returned this handle."""
        return super()._h().generation

    @property
    def thread(self) -> Optional[Thread]:
        """The thread whose sf_buf_alloc returned this handle (sf_buf_free's default)."""
        return self._thread

    @property
    def refs_held(self) -> int:
        """References taken through this handle and not yet freed through it."""
        return self._refs

    def ref(self) -> None:
        """Machine.sf_buf_ref(self)."""
        self.machine.sf_buf_ref(self)

    def free(self, thread: Optional[Thread] = None) -> None:
        """Machine.sf_buf_free(self, thread)."""
        self.machine.sf_buf_free(self, thread)

    def __enter__(self) -> "SfBuf":
        self._h()
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._refs > 0 and self._raw is not None:
            self.free()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SfBuf):
            return NotImplemented
        if self._raw is None or other._raw is None:
            return self is other
        return bool(self._raw == other._raw) and self._raw.generation == other._raw.generation

    def __hash__(self) -> int:
        return hash((self._raw, self._raw.generation)) if self._raw is not None else id(self)

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<SfBuf {self._where()}>"
        r = self._raw
        if r.stale:
            return f"<SfBuf {r.index} stale: slot recycled since {self._where()}>"
        mode = "dmap" if self._machine is not None and self._machine.mode == "dmap" else f"{r.index}"
        mask = "{" + ",".join(map(str, r.cpumask)) + "}"
        page = r.page.index if r.page is not None else "-"
        return (f"<SfBuf {mode} kva={r.kva:#x} page={page} refs={r.ref_count} cpumask={mask}"
                f"{' cpuprivate' if r.cpuprivate else ''} {self._where()}>")


class PendingSfBuf(_Handle):
    """An sf_buf_alloc() whose thread went to sleep; Machine.run() lets it return."""

    _made_by = "Machine.sf_buf_alloc()"
    _thread: Optional[Thread] = None
    _result: Optional[SfBuf] = None

    @classmethod
    def _wrap(cls, machine: "Machine", raw: Any, thread: Thread) -> "PendingSfBuf":
        self = object.__new__(cls)
        self._machine, self._raw, self._thread = machine, raw, thread
        machine._track(self)
        return self

    @property
    def done(self) -> bool:
        """True once the call returned."""
        return self._h().done

    @property
    def thread(self) -> Optional[Thread]:
        """The sleeping (or, once done, returned) thread."""
        return self._thread

    @property
    def result(self) -> Optional[SfBuf]:
        """The SfBuf, or None if the call returned NULL (KvaError while still sleeping)."""
        raw = self._h()
        if not raw.done:
            raise KvaError("sf_buf_alloc has not returned yet: its thread sleeps; call Machine.run()")
        if self._result is None:
            got = raw.result
            if got is None:
                return None
            self._result = SfBuf._wrap(self.machine, got, self._thread)
        return self._result

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<PendingSfBuf {self._where()}>"
        who = self._thread.name if self._thread is not None and self._thread._raw is not None else "?"
        return f"<PendingSfBuf {'done' if self._raw.done else 'sleeping'} thread={who} {self._where()}>"


class Buf(_Handle):
    """A struct buf returned by getblk, bread or geteblk (Machine.getblk()...).

    Equal handles name the same buffer. The handle remembers the lock it came with: once the
    buffer was released and locked again (by anyone), ``stale`` is True and calls that need it
    locked raise KvaError. As a context manager it brelse()s the buffer on exit if the handle
    still holds it::

        with m.bread(0, f, 1) as bp:
            m.read(1, bp.data, 16)
    """

    _made_by = "Machine.getblk(), bread() or geteblk()"

    @property
    def index(self) -> int:
        """Slot in the buffer array."""
        return self._h().index

    @property
    def flags(self) -> "BufFlags":
        """b_flags as BufFlags (the bits front ends name)."""
        from .flags import BufFlags

        raw = self._h().flags
        known = 0
        for f in BufFlags:
            known |= f.value
        return BufFlags(raw & known)

    @property
    def flag_names(self) -> List[str]:
        """b_flags as names: ['B_CACHE', 'B_DELWRI', ...]."""
        return list(self._h().flag_names)

    @property
    def error(self) -> int:
        """b_error when BIO_ERROR is set (EIO for an injected device error), else 0."""
        return self._h().error

    @property
    def lblkno(self) -> int:
        """Logical block in the file."""
        return self._h().lblkno

    @property
    def blkno(self) -> int:
        """Device block (DEV_BSIZE units); -1 while not allocated."""
        return self._h().blkno

    @property
    def offset(self) -> int:
        """b_offset: byte offset of the block in the file."""
        return self._h().offset

    @property
    def bcount(self) -> int:
        """Valid bytes of the request."""
        return self._h().bcount

    @property
    def bufsize(self) -> int:
        """Allocated bytes (bcount rounded up to DEV_BSIZE)."""
        return self._h().bufsize

    @property
    def kvabase(self) -> int:
        """Page-aligned start of its buffer-map KVA; 0 when unmapped."""
        return self._h().kvabase

    @property
    def kvasize(self) -> int:
        """Bytes of buffer-map KVA it holds."""
        return self._h().kvasize

    @property
    def data(self) -> int:
        """b_data: kvabase + (offset & PAGE_MASK); 0 when unmapped."""
        return self._h().data

    @property
    def mapped(self) -> bool:
        """Whether b_data maps its pages (False for GB_UNMAPPED or lazily unmapped buffers)."""
        return self._h().mapped

    @property
    def npages(self) -> int:
        """b_npages."""
        return self._h().npages

    @property
    def pages(self) -> List[Page]:
        """b_pages as Page handles (bogus_page appears as itself during a read over partly valid
        pages: Machine.bogus_page)."""
        machine = self.machine
        return [Page._wrap(machine, p) for p in self._h().pages]

    @property
    def bogus(self) -> int:
        """How many b_pages slots hold bogus_page now."""
        return self._h().bogus

    @property
    def dirty(self) -> Tuple[int, int]:
        """(b_dirtyoff, b_dirtyend), bytes relative to offset; end 0: nothing dirty."""
        return tuple(self._h().dirty)  # type: ignore[return-value]

    @property
    def valid(self) -> Tuple[int, int]:
        """(b_validoff, b_validend), bytes relative to offset; end 0: nothing valid."""
        return tuple(self._h().valid)  # type: ignore[return-value]

    @property
    def locked(self) -> bool:
        """BUF_LOCK is held (by a thread, or by an I/O in flight)."""
        return self._h().locked

    @property
    def owner(self) -> Optional[Thread]:
        """The thread holding it; None when unlocked or owned by an I/O (BUF_KERNPROC)."""
        raw = self._h().owner
        return None if raw is None else Thread._wrap(self.machine, raw)

    @property
    def queue(self) -> str:
        """The free queue it is on: 'none' (locked), 'clean', 'dirty' or 'empty'."""
        return self._h().queue

    @property
    def stale(self) -> bool:
        """True once the buffer was locked again after this handle was returned."""
        return self._h().stale

    def release(self, flags: Any = ()) -> None:
        """Machine.brelse(self, flags)."""
        self.machine.brelse(self, flags)

    def __enter__(self) -> "Buf":
        self._h()
        return self

    def __exit__(self, *exc: Any) -> None:
        raw = self._raw
        if raw is not None and not raw.stale and raw.locked and raw.owner is not None:
            self.machine.brelse(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Buf):
            return NotImplemented
        return self._same_raw(other)

    __hash__ = _Handle.__hash__

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<Buf {self._where()}>"
        r = self._raw
        if r.stale:
            state = "stale handle"
        elif r.locked:
            state = "locked by " + (r.owner.name if r.owner is not None else "I/O")
        else:
            state = f"released ({r.queue})"
        names = ",".join(n[2:] for n in r.flag_names) or "-"
        where = "unmapped" if not r.mapped else f"data={r.data:#x}"
        return (f"<Buf {r.index} lblkno={r.lblkno} bcount={r.bcount} {where} flags={names} {state} "
                f"{self._where()}>")


class File(_Handle):
    """A file: a vnode with a VM object and a block map on the machine's device
    (Machine.file_create())."""

    _made_by = "Machine.file_create()"

    @property
    def name(self) -> str:
        return self._h().name

    @property
    def bsize(self) -> int:
        """Block size in bytes (the buffers' size)."""
        return self._h().bsize

    @property
    def size(self) -> int:
        """File size in bytes."""
        return self._h().size

    def _lblkno(self, lblkno: Any) -> int:
        return _checks.integer("lblkno", lblkno, 0, (self.size + self.bsize - 1) // self.bsize)

    def blkno(self, lblkno: int) -> int:
        """Device block (DEV_BSIZE units) of logical block lblkno; -1 for a hole."""
        return self._h().blkno(self._lblkno(lblkno))

    def page(self, pindex: int) -> Optional[Page]:
        """The cached page at page index pindex, or None."""
        raw = self._h().page(_checks.integer("pindex", pindex, 0, _checks.U64 - 1))
        return None if raw is None else Page._wrap(self.machine, raw)

    def _span(self, offset: Any, n: Any) -> "tuple[int, int]":
        offset = _checks.integer("offset", offset, 0, _checks.U64 - 1)
        n = _checks.integer("n", n, 0, self.machine.memory + self.size)
        return offset, n

    def model(self, offset: int, n: int) -> bytes:
        """What the file holds at [offset, offset + n) (its reference model: every write)."""
        return self._h().model(*self._span(offset, n))

    def on_device(self, offset: int, n: int) -> bytes:
        """What the device holds for those bytes of the file."""
        return self._h().on_device(*self._span(offset, n))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, File):
            return NotImplemented
        return self._same_raw(other)

    __hash__ = _Handle.__hash__

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<File {self._where()}>"
        r = self._raw
        return f"<File {r.name!r} bsize={size_text(r.bsize)} size={size_text(r.size)} {self._where()}>"


class PendingCall(_Handle):
    """A buffer-cache or file call whose thread sleeps (getblk on a held buffer, bwrite with
    the device held, ...); Machine.run() or releasing what it waits for completes it."""

    _made_by = "Machine calls that may sleep (getblk, bread, bwrite, fsync, ...)"
    _call = "?"
    _thread: Any = None

    @classmethod
    def _wrap_call(cls, machine: "Machine", raw: Any, call: str, thread: Any) -> "PendingCall":
        self = cls._wrap(machine, raw)
        self._call, self._thread = call, thread
        return self

    @property
    def done(self) -> bool:
        """True once the call returned."""
        return self._h().done

    @property
    def call(self) -> str:
        """The Machine method that slept ('getblk', 'bwrite', ...)."""
        return self._call

    @property
    def error(self) -> int:
        """The error number once done (0: success)."""
        return self._h().error

    @property
    def result(self) -> Any:
        """What the call returned, as the call itself would have: a Buf or None (getblk, bread,
        geteblk), bytes (file_read), a SendfileResult (sendfile), else the error number (0:
        success). KvaError while the thread still sleeps."""
        return self.machine._result(self._h().result)

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<PendingCall {self._where()}>"
        t = self._thread
        who = f" thread={t.name if isinstance(t, Thread) else f'cpu{t}'}" if t is not None else ""
        return f"<PendingCall {self._call} {'done' if self._raw.done else 'sleeping'}{who} {self._where()}>"
