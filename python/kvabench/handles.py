"""Handles into a Machine: pages, kernel threads, sf_bufs and sleeping sf_buf_alloc calls.

A handle is only ever made by its Machine (page_alloc, thread, sf_buf_alloc...). It stops
working, with MachineClosedError, when the Machine is closed; an SfBuf handle also stops, with
StaleHandleError, once its pool slot is recycled for another page."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

from . import _checks
from .errors import ArgumentError, ArgumentTypeError, KvaError, MachineClosedError, StaleHandleError, StateError

if TYPE_CHECKING:  # pragma: no cover
    from .machine import Machine

__all__ = ["Page", "Thread", "SfBuf", "PendingSfBuf"]


class _Handle:
    """Common plumbing: the raw _core handle, its Machine, and the checks before each use."""

    _made_by = "a Machine"
    _raw: Any = None
    _machine: Optional["Machine"] = None

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise StateError("Page objects are made by Machine.page_alloc()")

    @classmethod
    def _wrap(cls, machine: "Machine", raw: Any) -> "Page":
        self = object.__new__(cls)
        self._machine, self._raw = machine, raw
        machine._track(self)
        return self

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
        if self._raw is None or other._raw is None:
            return self is other
        return bool(self._raw == other._raw)

    def __hash__(self) -> int:
        return hash(self._raw) if self._raw is not None else id(self)

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<Page {self._where()}>"
        r = self._raw
        wired = f"wired={r.wire_count}" if r.wire_count else "unwired"
        return f"<Page {r.index} pa={r.pa:#x} {wired} {self._where()}>"


class Thread(_Handle):
    """A kernel thread of the machine's deterministic scheduler (Machine.thread())."""

    _made_by = "Machine.thread()"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise StateError("Thread objects are made by Machine.thread()")

    @classmethod
    def _wrap(cls, machine: "Machine", raw: Any) -> "Thread":
        self = object.__new__(cls)
        self._machine, self._raw = machine, raw
        machine._track(self)
        return self

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
        if self._raw is None or other._raw is None:
            return self is other
        return bool(self._raw == other._raw)

    def __hash__(self) -> int:
        return hash(self._raw) if self._raw is not None else id(self)

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise StateError("SfBuf objects are made by Machine.sf_buf_alloc()")

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise StateError("PendingSfBuf objects are made by Machine.sf_buf_alloc()")

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
