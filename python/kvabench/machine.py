"""kvabench.Machine: one emulated machine (an arch's pmap from the registry, a deterministic
scheduler, sf_buf(9), the buffer cache (buf(9)), a block device and files), scripted with the
names and defaults of the YAML testcases."""
from __future__ import annotations

import weakref
from collections.abc import Mapping as _Mapping
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _checks, _core, explore
from ._display import size_text
from .errors import ArgumentError, ArgumentTypeError, DeadlockError, MachineClosedError, StateError
from .flags import GbFlags, GbFlagsLike, PteFlags, SfBufFlags, SfBufFlagsLike, sf_buf_flags
from .handles import Buf, File, Page, PendingCall, PendingSfBuf, SfBuf, Thread
from .registry import archs, faults
from .results import (BufViolation, BufViolations, Capabilities, Counters, LostWrite, LostWrites, PteState,
                      SendfileResult, SfBufPool, SfBufSlot, StaleReport, StaleReports, TlbEntry, TlbView, VaRange)

__all__ = ["Machine", "PAGE_SIZE"]

PAGE_SIZE: int = _core.PAGE_SIZE
LIMITS: Dict[str, int] = dict(_core.TESTCASE_LIMITS)
EXEC_MODES = ("fast", "reference")

PageLike = Union[Page, int]  # a Page, or a physical address
Targets = Union[str, Iterable[int]]
ThreadLike = Union[Thread, int]  # a Thread, or a CPU number: that CPU's own kernel thread
WRITE_MODES = ("delayed", "async", "sync")  # bdwrite, bawrite, bwrite (YAML file_write mode:)
BRELSE_FLAGS = ("RELBUF", "NOCACHE", "INVAL")

# machine.buf / machine.device keys of a YAML testcase, with the same limits (runner/machine_spec.cpp).
_SPACE = ("size", 1 << 12, 256 << 20, 1 << 12)   # kind, min, max, multiple
_BUF_OPTIONS: Dict[str, tuple] = {
    "nbuf": ("int", 1, 4096), "maxbufspace": _SPACE, "hibufspace": _SPACE, "lobufspace": _SPACE,
    "hidirtybuffers": ("int", 1, 4096), "lodirtybuffers": ("int", 0, 4096), "unmapped": ("bool",),
    "check_invariants": ("bool",), "daemon_cpu": ("cpu",),
}
_DEVICE_OPTIONS: Dict[str, tuple] = {
    "size": ("size", 512, 1 << 30, 512), "file": ("str",), "completion": ("completion",), "pio": ("bool",),
}


def parse_size(size: Union[int, str], argument: str = "size") -> int:
    """Bytes from an int or a string such as '16M', '512K', '1G', '16MiB' or '4096'."""
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise ArgumentTypeError(f"expected an int or a size string such as '16M', not {type(size).__name__}",
                                argument)
    try:
        return _core.parse_size(size)
    except (ValueError, TypeError) as e:
        raise ArgumentError(str(e).replace("memory ", "").replace("memory", "size"), argument) from None


def _options(argument: str, options: Any, schema: Dict[str, tuple], cpus: int) -> Optional[Dict[str, Any]]:
    """buf= / device= checked against their YAML schema; errors name argument['key']."""
    if options is None:
        return None
    if not isinstance(options, _Mapping):
        raise ArgumentTypeError(f"expected a dict of options ({', '.join(schema)}), not {type(options).__name__}",
                                argument)
    out: Dict[str, Any] = {}
    for key, value in options.items():
        if key not in schema:
            raise ArgumentError(f"unknown option {key!r}; options: {', '.join(schema)}", argument)
        where = f"{argument}[{key!r}]"
        kind = schema[key]
        if kind[0] == "int":
            value = _checks.integer(where, value, kind[1], kind[2])
        elif kind[0] == "bool":
            value = _checks.boolean(where, value)
        elif kind[0] == "str":
            value = _checks.string(where, value)
        elif kind[0] == "cpu":
            value = _checks.integer(where, value, 0, cpus - 1)
        elif kind[0] == "completion":
            if isinstance(value, str):
                value = _checks.choice(where, value, ("next", "issuer", "seeded"))
            else:
                value = _checks.integer(where, value, 0, cpus - 1)
        else:  # a size: bytes or '64K', within [min, max], a multiple of kind[3]
            nbytes = parse_size(value, where)
            if not kind[1] <= nbytes <= kind[2] or nbytes % kind[3]:
                raise ArgumentError(f"{value!r} must be a multiple of {size_text(kind[3])} between "
                                    f"{size_text(kind[1])} and {size_text(kind[2])}", where)
            value = nbytes
        out[key] = value
    return out


class Machine:
    """An emulated machine: one arch's pmap, a scheduler and the sf_buf subsystem.

    Arguments and defaults are those of a YAML testcase's ``machine:`` (cpus 2, memory 16M,
    nsfbufs 64, with the same limits); ``seed`` is the scheduler seed, ``inject`` fault switches
    (kvabench.faults()), ``trace`` collects the guest trace (Machine.trace()) and ``exec_mode``
    picks how emulated archs run guest code ('fast', or 'reference' to cross-check it).
    ``buf`` and ``device`` are YAML's ``machine: buf:`` and ``device:`` (same keys and limits):
    buf {nbuf, maxbufspace, hibufspace, lobufspace, hidirtybuffers, lodirtybuffers, unmapped,
    check_invariants (True by default here), daemon_cpu}; device {size, file (a host file to
    hold the disk), completion ('next', 'issuer', 'seeded' or a cpu), pio}. ``ad`` is YAML's
    ``machine: ad:`` ('hardware' or 'software' accessed/dirty bits, where the arch has feature
    software_ad) and ``bbm`` its ``machine: bbm:`` (break before make where the ISA requires it,
    feature bbm; FreeBSD does not, so False by default).

    Use it as a context manager, or call close(): that makes it and its handles unusable and
    frees its memory::

        with kvabench.Machine(kvabench.archs().names()[0], cpus=2) as m:
            page = m.page_alloc(fill=0xAA)
            va = m.kva_alloc()
            m.kenter(va, page)
            m.read(1, va, 4)
    """

    _raw: Any = None
    _initialised = False

    def __init__(self, arch: str, cpus: int = 2, memory: Union[int, str] = "16M", nsfbufs: int = 64,
                 seed: int = 1, inject: Union[str, Iterable[str], None] = (), trace: bool = False,
                 exec_mode: str = "fast", buf: Optional[Mapping[str, Any]] = None,
                 device: Optional[Mapping[str, Any]] = None, ad: Optional[str] = None,
                 bbm: bool = False) -> None:
        if self._initialised:
            raise StateError("Machine.__init__ called again on an initialised Machine: create a new Machine instead")
        arch = _checks.choice("arch", arch, [a.name for a in archs()])
        cpus = _checks.integer("cpus", cpus, 1, LIMITS["max_cpus"])
        mem_bytes = parse_size(memory, "memory")
        if not LIMITS["min_memory"] <= mem_bytes <= LIMITS["max_memory"]:
            raise ArgumentError(f"{memory!r} is out of range: must be between {size_text(LIMITS['min_memory'])} "
                                f"and {size_text(LIMITS['max_memory'])}", "memory")
        nsfbufs = _checks.integer("nsfbufs", nsfbufs, 1, LIMITS["max_nsfbufs"])
        seed = _checks.integer("seed", seed, 0, _checks.U64 - 1)
        fault_names = _checks.names("inject", inject)
        valid_faults = [f.name for f in faults()]
        for name in fault_names:
            _checks.choice("inject", name, valid_faults)
        trace = _checks.boolean("trace", trace)
        exec_mode = _checks.choice("exec_mode", exec_mode, EXEC_MODES)
        buf = _options("buf", buf, _BUF_OPTIONS, cpus)
        device = _options("device", device, _DEVICE_OPTIONS, cpus)
        if ad is not None:  # 'software' where the arch has no such mode: the core says so (ValueError)
            ad = _checks.choice("ad", ad, ("hardware", "software"))
        bbm = _checks.boolean("bbm", bbm)
        self._raw = _core.Machine(arch, cpus, mem_bytes, nsfbufs, seed, fault_names, trace, exec_mode, buf, device,
                                  ad, bbm)
        self._arch = arch
        self._cpus = cpus
        self._nsfbufs = nsfbufs
        self._exec_mode = exec_mode
        self._handles: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._initialised = True

    # ------------------------------------------------------------------ lifetime

    def _m(self) -> Any:
        raw = self._raw
        if raw is None:
            if not self._initialised:
                raise StateError("this Machine is not initialised: create one with Machine(arch, ...)")
            raise MachineClosedError(f"this Machine ({self._arch}) is closed")
        return raw

    def _track(self, handle: Any) -> None:
        self._handles.add(handle)

    def close(self) -> None:
        """Make the machine and every handle into it unusable (MachineClosedError) and free its
        memory. Closing twice is allowed."""
        if self._raw is None:
            return
        for h in list(self._handles):
            h._release()
        self._handles = weakref.WeakSet()
        self._raw = None

    @property
    def closed(self) -> bool:
        """True after close()."""
        return self._initialised and self._raw is None

    def __enter__(self) -> "Machine":
        self._m()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if not self._initialised:
            return "<Machine (not initialised)>"
        if self._raw is None:
            return f"<Machine {self._arch} (closed)>"
        pool = f"pool nsfbufs={self._nsfbufs}" if self.mode == "pool" else "dmap"
        return (f"<Machine {self._arch} cpus={self._cpus} memory={size_text(self.memory)} {pool} "
                f"seed={self.seed}{' faults=' + ','.join(self.faults) if self.faults else ''}>")

    # ------------------------------------------------------------------ identity

    @property
    def arch(self) -> str:
        """The arch's registry name."""
        self._m()
        return self._arch

    @property
    def description(self) -> str:
        """The arch's one-line description: paging format, direct map, shootdown protocol."""
        return self._m().description

    @property
    def emulated(self) -> bool:
        """False for the pure-software reference pmaps."""
        return self._m().emulated

    @property
    def cpus(self) -> int:
        """Number of CPUs."""
        self._m()
        return self._cpus

    @property
    def memory(self) -> int:
        """Guest RAM in bytes."""
        return self._m().memory

    @property
    def nsfbufs(self) -> int:
        """sf_buf pool slots (pool mode; 0 in direct-map mode, as sf_buf's own counter says)."""
        return self._m().stats()["sf_buf"]["nsfbufs"]

    @property
    def has_direct_map(self) -> bool:
        """PMAP_HAS_DMAP."""
        return self._m().has_direct_map

    @property
    def mode(self) -> str:
        """'pool' (sf_bufs from a pool of KVA slots) or 'dmap' (direct-map addresses), as the
        YAML selectors say."""
        return "dmap" if self._m().sf_buf_direct_map else "pool"

    @property
    def sf_buf_direct_map(self) -> bool:
        """True when sf_bufs are direct-map addresses (mode == 'dmap')."""
        return self._m().sf_buf_direct_map

    @property
    def kva_space(self) -> VaRange:
        """The KVA the sf_buf pool and kva_alloc() carve from."""
        return VaRange(*self._m().kva_space)

    @property
    def va_format(self) -> "tuple[int, int]":
        """(width, bits): addresses are `width` bits wide and the low `bits` translate; the bits
        above must copy bit bits-1. Every VA argument is checked against it."""
        return tuple(self._m().va_format)  # type: ignore[return-value]

    @property
    def seed(self) -> int:
        """The scheduler seed."""
        return self._m().seed

    @property
    def exec_mode(self) -> str:
        """'fast' or 'reference': how emulated archs run guest code (same results)."""
        self._m()
        return self._exec_mode

    @property
    def faults(self) -> List[str]:
        """Names of the enabled fault switches."""
        return list(self._m().faults)

    def inject(self, fault: str) -> None:
        """Enable a fault-injection switch by name (kvabench.faults())."""
        _checks.choice("fault", fault, [f.name for f in faults()])
        self._m().inject(fault)

    @property
    def step(self) -> str:
        """The label set by set_step()."""
        return self._m().step

    def set_step(self, label: str) -> None:
        """Label recorded with every stale access from now on (a YAML step's label)."""
        self._m().set_step(_checks.string("label", label))

    def trace(self) -> str:
        """The disassembled guest trace since the last call (Machine(trace=True), emulated archs)."""
        return self._m().trace()

    # ------------------------------------------------------------------ argument checks

    def _cpu(self, cpu: Any, name: str = "cpu") -> int:
        self._m()
        if isinstance(cpu, bool) or not isinstance(cpu, int):
            raise ArgumentTypeError(f"expected a CPU number, not {type(cpu).__name__}", name)
        if not 0 <= cpu < self._cpus:
            raise ArgumentError(f"cpu {cpu} does not exist (this machine has {self._cpus} cpus)", name)
        return cpu

    def _va(self, va: Any, name: str = "va") -> int:
        va = _checks.address(name, va)
        if not self._m().va_fits(va):
            width, bits = self.va_format
            if width < 64:
                raise ArgumentError(f"{va:#x} is not a {width}-bit virtual address (the arch would "
                                    f"truncate it to {va & ((1 << width) - 1):#x})", name)
            raise ArgumentError(f"{va:#x} is not a canonical virtual address: bits {bits}..63 must "
                                f"all equal bit {bits - 1}", name)
        return va

    def _range(self, va: Any, npages: Any, name: str = "npages") -> "tuple[int, int]":
        va = self._va(va)
        npages = _checks.count(name, npages, 1, self.memory // PAGE_SIZE)
        self._va(va + npages * PAGE_SIZE - 1, "va")
        return va, npages

    def _length(self, n: Any, name: str = "n") -> int:
        return _checks.count(name, n, 1, self.memory)

    def _page_or_pa(self, page: Any, name: str = "page") -> Any:
        if isinstance(page, Page):
            raw = page._h()
            if page._machine is not self:
                raise ArgumentError("page belongs to another Machine", name)
            return raw
        if isinstance(page, int) and not isinstance(page, bool):
            return _checks.address(name, page)
        raise ArgumentTypeError(f"expected a Page or a physical address, not {type(page).__name__}", name)

    def _page_arg(self, page: Any, name: str = "page") -> Any:
        if not isinstance(page, Page):
            raise ArgumentTypeError(f"expected a Page, not {type(page).__name__}", name)
        return self._page_or_pa(page, name)

    def _thread_arg(self, thread: Any, name: str = "thread") -> Any:
        if not isinstance(thread, Thread):
            raise ArgumentTypeError(f"expected a Thread (Machine.thread()), not {type(thread).__name__}", name)
        raw = thread._h()
        if thread._machine is not self:
            raise ArgumentError("thread belongs to another Machine", name)
        return raw

    def _sf_arg(self, sf: Any, name: str = "sf") -> Any:
        if not isinstance(sf, SfBuf):
            raise ArgumentTypeError(f"expected an SfBuf, not {type(sf).__name__}", name)
        raw = sf._h()
        if sf._machine is not self:
            raise ArgumentError("sf_buf belongs to another Machine", name)
        return raw

    def _page(self, raw: Any) -> Optional[Page]:
        return None if raw is None else Page._wrap(self, raw)

    def _thread_or_cpu(self, thread: Any, name: str = "thread") -> Any:
        if isinstance(thread, Thread):
            return self._thread_arg(thread, name)
        if isinstance(thread, int) and not isinstance(thread, bool):
            return self._cpu(thread, name)
        raise ArgumentTypeError(f"expected a Thread or a CPU number, not {type(thread).__name__}", name)

    def _file_arg(self, file: Any, name: str = "file") -> Any:
        if not isinstance(file, File):
            raise ArgumentTypeError(f"expected a File (Machine.file_create()), not {type(file).__name__}", name)
        raw = file._h()
        if file._machine is not self:
            raise ArgumentError("file belongs to another Machine", name)
        return raw

    def _buf_arg(self, bp: Any, name: str = "buf") -> Any:
        if not isinstance(bp, Buf):
            raise ArgumentTypeError(f"expected a Buf (getblk, bread, geteblk), not {type(bp).__name__}", name)
        raw = bp._h()
        if bp._machine is not self:
            raise ArgumentError("buffer belongs to another Machine", name)
        return raw

    def _holder(self, thread: Any) -> Any:
        return None if thread is None else self._thread_or_cpu(thread)

    def _result(self, got: Any, call: str = "?", thread: Any = None) -> Any:
        """A raw result of a call that may sleep, as the Python type it stands for."""
        if isinstance(got, _core.Buf):
            return Buf._wrap(self, got)
        if isinstance(got, _core.PendingCall):
            return PendingCall._wrap_call(self, got, call, thread)
        if isinstance(got, dict) and "checksum" in got:
            return SendfileResult(**got)
        return got

    # ------------------------------------------------------------------ pages and KVA

    def page_alloc(self, fill: Union[int, bytes, None] = None, wired: bool = True,
                   align: Union[int, str, None] = None) -> Page:
        """vm_page_alloc: a zeroed page, wired by default (as YAML's page_alloc).

        fill: one byte value for every byte, or bytes written at offset 0. align (bytes or
        '2M'): a page whose physical address is a multiple of it (the first page of a frame for
        kenter_large)."""
        wired = _checks.boolean("wired", wired)
        if align is not None:
            align = parse_size(align, "align")
        if fill is not None and not isinstance(fill, (bytes, bytearray, memoryview)):
            fill = _checks.integer("fill", fill, 0, 255)
        elif fill is not None and len(fill) > PAGE_SIZE:
            raise ArgumentError(f"{len(fill)} bytes do not fit in a {PAGE_SIZE}-byte page", "fill")
        return Page._wrap(self, self._m().page_alloc(fill, wired, align))

    def page_free(self, page: Page) -> None:
        """vm_page_free (KvaError while the page is wired, mapped through kva_alloc KVA or busy)."""
        self._m().page_free(self._page_arg(page))

    def kva_alloc(self, npages: int = 1) -> int:
        """Reserve npages of kernel VA for kenter/qenter (YAML kva_reserve): first fit in the
        arena the sf_buf pool comes from, so the two never overlap."""
        npages = _checks.count("npages", npages, 1, self.kva_space.size // PAGE_SIZE)
        return self._m().kva_alloc(npages)

    def kva_free(self, va: int, npages: int = 1) -> None:
        """Return a kva_alloc reservation (KvaError unless va, npages is exactly one, or while it
        still maps a page)."""
        va, npages = self._range(va, npages)
        self._m().kva_free(va, npages)

    # ------------------------------------------------------------------ pmap(9)

    def kenter(self, va: int, page: PageLike, global_: Optional[bool] = None, writable: Optional[bool] = None,
               cache: Optional[str] = None) -> None:
        """pmap_kenter: map va to a Page (or a physical address). No TLB maintenance.

        global_, writable and cache ('wb', 'wt', 'uc-', 'uc') default to the arch's FreeBSD
        kernel PTE (capabilities() says which the arch supports)."""
        self._m().kenter(self._va(va), self._page_or_pa(page), *self._attrs(global_, writable, cache))

    def _attrs(self, global_: Any, writable: Any, cache: Any) -> "tuple[Any, Any, Any]":
        return (None if global_ is None else _checks.boolean("global_", global_),
                None if writable is None else _checks.boolean("writable", writable),
                None if cache is None else _checks.string("cache", cache))

    def kenter_large(self, va: int, page: PageLike, size: Union[int, str, None] = None,
                     global_: Optional[bool] = None, writable: Optional[bool] = None,
                     cache: Optional[str] = None) -> None:
        """Map one large page of `size` bytes (default: the arch's smallest, capabilities()) at
        va to the frame starting at page; both aligned to size. No TLB maintenance."""
        size = None if size is None else parse_size(size, "size")
        self._m().kenter_large(self._va(va), self._page_or_pa(page), size, *self._attrs(global_, writable, cache))

    def protect(self, va: int, npages: int = 1, *, writable: bool) -> None:
        """pmap_protect's PTE write on kernel KVA (no invalidation: invalidate_range after)."""
        va, npages = self._range(va, npages)
        self._m().protect(va, npages, writable=_checks.boolean("writable", writable))

    def growkernel(self, va: int) -> int:
        """pmap_growkernel for va: returns the number of page-table pages allocated."""
        return self._m().growkernel(self._va(va))

    def replace_table(self, va: int, level: int = 1, copy: bool = False) -> int:
        """Point the upper-level entry `level` levels above va's leaf at a new table page (empty
        or a copy of the old one); returns its physical address. No TLB maintenance."""
        return self._m().replace_table(self._va(va), _checks.integer("level", level, 1, 8),
                                       _checks.boolean("copy", copy))

    @property
    def growable_kva(self) -> VaRange:
        """Kernel VA without page tables yet (growkernel, kenter_large)."""
        return VaRange(*self._m().growable_kva)

    def capabilities(self) -> Capabilities:
        """What the arch supports: large pages, global entries, table levels, ..."""
        d = self._m().capabilities()
        return Capabilities(**{**d, "large_page_sizes": tuple(d["large_page_sizes"]),
                               "table_reach": tuple(d["table_reach"])})

    @property
    def features(self) -> List[str]:
        """Feature names, as testcase `only:` and `requires:` use them."""
        return list(self._m().features)

    def kremove(self, va: int) -> None:
        """pmap_kremove: unmap va. No TLB maintenance."""
        self._m().kremove(self._va(va))

    def qenter(self, cpu: int, va: int, pages: Sequence[PageLike]) -> None:
        """pmap_qenter from cpu: map consecutive pages; invalidates everywhere if it replaced a
        valid PTE."""
        cpu = self._cpu(cpu)
        if isinstance(pages, (Page, int)):
            raise ArgumentTypeError("expected a list of Pages", "pages")
        raw = [self._page_or_pa(p, "pages") for p in pages]
        if not raw:
            raise ArgumentError("no pages", "pages")
        va, _ = self._range(va, len(raw), "pages")
        self._m().qenter(cpu, va, raw)

    def qremove(self, cpu: int, va: int, count: int) -> None:
        """pmap_qremove from cpu: unmap count pages and invalidate them on every CPU."""
        cpu = self._cpu(cpu)
        va, count = self._range(va, count, "count")
        self._m().qremove(cpu, va, count)

    def clear_accessed(self, va: int) -> None:
        """Clear the leaf PTE's accessed bit (pmap_clear_reference's PTE write; no invalidation)."""
        self._m().clear_accessed(self._va(va))

    def clear_modified(self, va: int) -> None:
        """Clear the leaf PTE's modified bit (no invalidation)."""
        self._m().clear_modified(self._va(va))

    def phys_to_dmap(self, pa: int) -> int:
        """PHYS_TO_DMAP (KvaError on an arch without a direct map)."""
        return self._m().phys_to_dmap(_checks.address("pa", pa))

    def invalidate(self, cpu: int, va: int, npages: int = 1) -> None:
        """Invalidate va's pages in cpu's own TLB only (invlpg, ...)."""
        cpu = self._cpu(cpu)
        va, npages = self._range(va, npages)
        self._m().invalidate(cpu, va, npages)

    def invalidate_range(self, cpu: int, va: int, npages: int = 1) -> None:
        """pmap_invalidate_range: local invalidation on cpu plus a shootdown to every other CPU."""
        cpu = self._cpu(cpu)
        va, npages = self._range(va, npages)
        self._m().invalidate_range(cpu, va, npages)

    def flush_local(self, cpu: int, include_global: bool = False) -> None:
        """Full local flush (x86 CR3 reload; include_global: CR4.PGE toggle)."""
        self._m().flush_local(self._cpu(cpu), _checks.boolean("include_global", include_global))

    def shootdown(self, cpu: int, targets: Targets, va: int, npages: int = 1) -> None:
        """Invalidate on the target CPUs with the arch's shootdown protocol, initiated by cpu.

        targets: a list of CPUs, or 'all' (every CPU but the initiator), as in YAML."""
        cpu = self._cpu(cpu)
        if isinstance(targets, str):
            if targets != "all":
                raise ArgumentError(f"expected 'all' or a list of CPUs, got {targets!r}", "targets")
            target_list = [c for c in range(self._cpus) if c != cpu]
        elif isinstance(targets, Iterable):
            target_list = [self._cpu(t, "targets") for t in targets]
        else:
            raise ArgumentTypeError(f"expected 'all' or a list of CPUs, not {type(targets).__name__}", "targets")
        va, npages = self._range(va, npages)
        self._m().shootdown(cpu, target_list, va, npages)

    # ------------------------------------------------------------------ accesses by a CPU

    def read(self, cpu: int, va: int, n: int = 16) -> bytes:
        """n bytes at va as read by cpu's guest code (PageFault if unmapped). Both staleness
        oracles check the access (Machine.stale())."""
        cpu = self._cpu(cpu)
        n = self._length(n)
        va = self._va(va)
        self._va(va + n - 1)
        return self._m().load(cpu, va, n)

    def write(self, cpu: int, va: int, data: bytes) -> None:
        """Store bytes at va as cpu's guest code.

        A store into the data of a mapped file buffer (``buf.data + off``) changes the file, as
        the file system writing its buffer does: the lost-write oracle then expects those bytes
        on the device after fsync (bytes past EOF are not the file's)."""
        cpu = self._cpu(cpu)
        va = self._va(va)
        if isinstance(data, str):
            raise ArgumentTypeError("expected bytes, not str (encode it first)", "data")
        if hasattr(data, "__len__") and len(data):
            self._va(va + len(data) - 1)
        self._m().store(cpu, va, data)

    load = read    #: the pmap-level name of read()
    store = write  #: the pmap-level name of write()

    def copy(self, cpu: int, dst: int, src: int, n: int) -> None:
        """Copy n bytes from src to dst as cpu's guest code."""
        cpu = self._cpu(cpu)
        n = self._length(n)
        dst, src = self._va(dst, "dst"), self._va(src, "src")
        self._va(dst + n - 1, "dst")
        self._va(src + n - 1, "src")
        self._m().copy(cpu, dst, src, n)

    # ------------------------------------------------------------------ observation

    def pte(self, va: int) -> PteState:
        """The leaf PTE for va, decoded (software walk of the real tables)."""
        va = self._va(va)
        d = self._m().pte(va)
        return PteState(va=va & ~(PAGE_SIZE - 1), valid=d["valid"], pa=d["pa"] if d["valid"] else 0,
                        writable=d["writable"], accessed=d["accessed"], modified=d["modified"],
                        global_=d["global"], executable=d["executable"], page_size=d["page_size"],
                        cache=d["cache"], level=d["level"])

    def extract(self, va: int) -> Optional[int]:
        """pmap_extract: the physical address va maps (page offset kept), or None."""
        return self._m().extract(self._va(va))

    def walk(self, va: int) -> "explore.Walk":
        """The software walk of va through the real tables: every level (table PA, index, raw
        entry, decoded bits) and the final PA or the fault. str() is the arch's text."""
        return explore.walk(self, va)

    def walk_levels(self, va: int) -> "explore.WalkLevels":
        """walk(va).levels: the entries read, root first."""
        return explore.walk(self, va).levels

    def mappings(self, start: Optional[int] = None, end: Optional[int] = None,
                 flags: Union[PteFlags, int, str, Iterable[str], None] = None,
                 owner: Optional[str] = None) -> "explore.Mappings":
        """The kernel page tables as runs of contiguous leaves with their VA and PA ranges,
        size, level, page size, decoded attributes and owner ('direct map', 'sf_buf #n',
        'raw reservation', 'page-table page', 'firmware', ...). Filters: VA range [start, end),
        flags every run must have, owner ('sf_buf' matches every slot). to_pandas() for a
        DataFrame."""
        return explore.mappings(self, start, end, flags, owner)

    def aliases(self, pa: Union[int, Page]) -> "explore.Aliases":
        """Every VA that maps the physical page pa (or Page): in the tables, and through stale
        translations a CPU's TLB may still hold."""
        return explore.aliases(self, pa)

    def snapshot(self) -> "explore.Snapshot":
        """The tables' leaves, every CPU's TLB-model view and the counters now; subtract two
        (after - before) for what changed."""
        return explore.snapshot(self)

    def tlb(self, cpu: Optional[int] = None) -> TlbView:
        """What the architectural TLB model says cpu (default: every CPU) may hold; entries that
        differ from the current tables are marked stale, with the reason."""
        raw = self._m()
        cpus = range(self._cpus) if cpu is None else [self._cpu(cpu)]
        entries = [TlbEntry(cpu=c, global_=d.pop("global"), **d) for c in cpus for d in raw.tlb(c)]
        caption = f"{self._arch} TLB model, " + ("every cpu" if cpu is None else f"cpu {cpu}")
        return TlbView(entries, caption)

    def stats(self) -> Counters:
        """Every counter, grouped as YAML's counters: pmap, sf_buf, stale."""
        raw = self._m().stats()
        raw["stale"] = {k: v for k, v in self._m().stale_counts().items() if k not in ("total", "kept")}
        return Counters(raw)

    counters = stats

    def stale(self) -> StaleReports:
        """Stale accesses the oracles reported since the last clear_stale(), oldest first."""
        return StaleReports([StaleReport(access=d.pop("kind"), **d) for d in self._m().stale()],
                            f"{self._arch} stale accesses")

    def stale_counts(self) -> Dict[str, int]:
        """Every stale access since the last clear, counted by oracle, holding, table, rights;
        'total', and 'kept' (how many stale() still lists: see stale_capacity)."""
        return dict(self._m().stale_counts())

    @property
    def stale_capacity(self) -> int:
        """How many full reports stale() keeps (the counts are always complete)."""
        return self._m().stale_capacity

    @stale_capacity.setter
    def stale_capacity(self, n: int) -> None:
        self._m().stale_capacity = _checks.integer("stale_capacity", n, 0, 1 << 30)

    def clear_stale(self) -> None:
        """Forget the stale accesses reported so far."""
        self._m().clear_stale()

    # ------------------------------------------------------------------ threads and sf_buf(9)

    def thread(self, name: str, cpu: int, pinned: bool = True) -> Thread:
        """Create a kernel thread on cpu, sched_pin'ed unless pinned=False (as YAML threads:)."""
        return Thread._wrap(self, self._m().thread(_checks.string("name", name), self._cpu(cpu),
                                                   _checks.boolean("pinned", pinned)))

    def threads(self) -> List[Thread]:
        """Every thread, in creation order."""
        return [Thread._wrap(self, t) for t in self._m().threads()]

    def sf_buf_alloc(self, thread: Thread, page: Page,
                     flags: SfBufFlagsLike = SfBufFlags.DEFAULT) -> Union[SfBuf, PendingSfBuf, None]:
        """sf_buf_alloc(page, flags) run by thread.

        Returns an SfBuf, None (NULL: SFB_NOWAIT on an empty pool, or a pending signal with
        SFB_CATCH), or a PendingSfBuf when the thread went to sleep (Machine.run() lets it
        return). flags: SfBufFlags, an int, 'NOWAIT|CPUPRIVATE' or a list of names."""
        raw_thread = self._thread_arg(thread)
        raw_page = self._page_arg(page)
        got = self._m().sf_buf_alloc(raw_thread, raw_page, int(sf_buf_flags(flags)))
        if got is None:
            return None
        if isinstance(got, _core.PendingSfBuf):
            return PendingSfBuf._wrap(self, got, thread)
        return SfBuf._wrap(self, got, thread)

    def sf_buf_free(self, sf: SfBuf, thread: Optional[Thread] = None) -> None:
        """sf_buf_free, run by thread (default: the one whose sf_buf_alloc returned sf)."""
        raw_sf = self._sf_arg(sf)
        if sf._refs <= 0:
            raise StateError("sf: this handle holds no reference any more (freed through it already)")
        thread = sf.thread if thread is None else thread
        self._m().sf_buf_free(self._thread_arg(thread), raw_sf)
        sf._refs -= 1

    def sf_buf_ref(self, sf: SfBuf) -> None:
        """sf_buf_ref: take another reference (held by this handle; freed by sf_buf_free)."""
        self._m().sf_buf_ref(self._sf_arg(sf))
        sf._refs += 1

    def sf_buf_pool(self) -> SfBufPool:
        """The sf_buf pool, slot by slot: KVA, page, references, cpumask and LRU position
        (empty in direct-map mode, where there is no pool)."""
        raw = self._m()
        lru = {index: pos for pos, index in enumerate(raw.sf_buf_free_list())}
        slots = []
        for sf in raw.sf_buf_pool():
            page = sf.page
            slots.append(SfBufSlot(index=sf.index, kva=sf.kva, page_pa=None if page is None else page.pa,
                                   ref_count=sf.ref_count, cpumask=tuple(sf.cpumask), lru=lru.get(sf.index),
                                   generation=sf.generation))
        return SfBufPool(slots, f"{self._arch} sf_buf pool")

    def signal(self, thread: Thread) -> None:
        """Deliver a signal: interrupts a PCATCH (SFB_CATCH) sleep, else stays pending."""
        self._m().signal(self._thread_arg(thread))

    def run(self) -> int:
        """Resume runnable threads in seeded order until none is; returns how many resumed.

        DeadlockError when threads sleep and none is runnable: nothing could ever wake them
        (the YAML runner's `deadlock`); wake one first (sf_buf_free, signal)."""
        raw = self._m()
        states = [(t.name, t.state, t.wmesg) for t in raw.threads()]
        sleeping = tuple(name for name, state, _ in states if state == "sleeping")
        if sleeping and not any(state == "runnable" for _, state, _ in states):
            detail = ", ".join(f"{name} ({wmesg})" for name, state, wmesg in states if state == "sleeping")
            raise DeadlockError(f"run(): every thread with work sleeps and none is runnable: {detail}; "
                                f"wake one first (sf_buf_free, signal)", sleeping)
        return raw.run()

    # ------------------------------------------------------------------ buf(9): the buffer cache
    #
    # `thread` is a Thread or a CPU number (that CPU's own kernel thread). Calls that may sleep
    # run the scheduler once (I/O completes on interrupt threads) and return a PendingCall only
    # when their thread still sleeps. Calls on a buffer default to the thread holding it.

    def _lblkno(self, lblkno: Any) -> int:
        return _checks.integer("lblkno", lblkno, 0, (1 << 62) - 1)

    def _bufsize(self, size: Any, name: str = "size") -> Optional[int]:
        return None if size is None else _checks.integer(name, size, 1, (1 << 31) - 1)

    def getblk(self, thread: ThreadLike, file: File, lblkno: int, size: Optional[int] = None,
               flags: GbFlagsLike = GbFlags.NONE) -> Union[Buf, PendingCall, None]:
        """getblk: the locked buffer of block lblkno of file (size: the file's block size).

        flags (GbFlags, or 'NOCREAT', 'UNMAPPED|NOWAIT', a list): returns a Buf, None (NOCREAT
        and not cached, or NOWAIT and it would sleep), or a PendingCall if the thread sleeps."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        got = self._m().getblk(td, f, self._lblkno(lblkno), self._bufsize(size), int(GbFlags.parse(flags)))
        return self._result(got, "getblk", thread)

    def bread(self, thread: ThreadLike, file: File, lblkno: int, size: Optional[int] = None,
              flags: GbFlagsLike = GbFlags.NONE, rablkno: Iterable[int] = ()) -> Union[Buf, PendingCall, None]:
        """bread (breadn with read-ahead blocks rablkno): the locked buffer, read from the device
        unless B_CACHE. Buf.error tells an I/O error. A PendingCall if the thread sleeps."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        if isinstance(rablkno, (int, str)):
            raise ArgumentTypeError("expected a list of block numbers", "rablkno")
        ra = [_checks.integer("rablkno", b, 0, (1 << 62) - 1) for b in rablkno]
        got = self._m().bread(td, f, self._lblkno(lblkno), self._bufsize(size), int(GbFlags.parse(flags)), ra)
        return self._result(got, "bread", thread)

    breadn = bread  #: bread with rablkno, as YAML's breadn

    def geteblk(self, thread: ThreadLike, size: int,
                flags: GbFlagsLike = GbFlags.NONE) -> Union[Buf, PendingCall, None]:
        """geteblk: an anonymous (B_MALLOC) mapped buffer of size bytes."""
        td = self._thread_or_cpu(thread)
        got = self._m().geteblk(td, self._bufsize(size), int(GbFlags.parse(flags)))
        return self._result(got, "geteblk", thread)

    def bwrite(self, buf: Buf, thread: Optional[ThreadLike] = None) -> Union[int, PendingCall]:
        """Synchronous write: the error number (0) or a PendingCall while the I/O is held."""
        return self._result(self._m().bwrite(self._buf_arg(buf), self._holder(thread)), "bwrite", thread)

    def bawrite(self, buf: Buf, thread: Optional[ThreadLike] = None) -> None:
        """Asynchronous write; its completion releases the buffer (BUF_KERNPROC meanwhile)."""
        self._m().bawrite(self._buf_arg(buf), self._holder(thread))

    def bdwrite(self, buf: Buf, thread: Optional[ThreadLike] = None) -> None:
        """Delayed write: B_DELWRI and released; the pages' dirty bits are cleared now."""
        self._m().bdwrite(self._buf_arg(buf), self._holder(thread))

    def brelse(self, buf: Buf, flags: Union[str, Iterable[str]] = (), thread: Optional[ThreadLike] = None) -> None:
        """brelse, after setting b_flags from flags ('RELBUF', 'NOCACHE', 'INVAL'; the B_ prefix
        optional; a list or 'A|B')."""
        raw = self._buf_arg(buf)
        names = _checks.names("flags", flags.replace(",", "|").split("|") if isinstance(flags, str) else flags)
        names = [n.strip().upper().removeprefix("B_") for n in names if n.strip()]
        for n in names:
            _checks.choice("flags", n, BRELSE_FLAGS)
        self._m().brelse(raw, names, self._holder(thread))

    def bqrelse(self, buf: Buf, thread: Optional[ThreadLike] = None) -> None:
        """Release, keeping the buffer cached for reuse."""
        self._m().bqrelse(self._buf_arg(buf), self._holder(thread))

    def allocbuf(self, buf: Buf, size: int, thread: Optional[ThreadLike] = None) -> None:
        """allocbuf: grow or shrink the buffer to size bytes (KvaError beyond its KVA)."""
        self._m().allocbuf(self._buf_arg(buf), self._bufsize(size), self._holder(thread))

    def bstrategy(self, buf: Buf, cmd: str = "read", thread: Optional[ThreadLike] = None) -> None:
        """Start I/O ('read' or 'write') on a buffer the thread keeps; wait with bufwait()."""
        raw = self._buf_arg(buf)
        self._m().bstrategy(raw, _checks.choice("cmd", cmd, ("read", "write")), self._holder(thread))

    def bufwait(self, buf: Buf, thread: Optional[ThreadLike] = None) -> Union[int, PendingCall]:
        """Wait for the buffer's I/O: the error number (0) or a PendingCall."""
        return self._result(self._m().bufwait(self._buf_arg(buf), self._holder(thread)), "bufwait", thread)

    def buf_map(self, buf: Buf, thread: Optional[ThreadLike] = None) -> Union[int, PendingCall]:
        """bp_unmapped_get_kva: give an unmapped buffer KVA (may sleep for buffer-map space)."""
        return self._result(self._m().buf_map(self._buf_arg(buf), self._holder(thread)), "buf_map", thread)

    def _buf_range(self, buf: Buf, offset: Any, n: Any) -> "tuple[Any, int, int]":
        raw = self._buf_arg(buf)
        offset = _checks.integer("offset", offset, 0, raw.bufsize)
        n = _checks.integer("n", n, 0, raw.bufsize - offset)
        return raw, offset, n

    def buf_set_valid(self, buf: Buf, offset: int, n: int, thread: Optional[ThreadLike] = None) -> None:
        """A validation (vfs_bio_set_valid): page valid bits and the byte valid range, which
        never spans a hole."""
        self._m().buf_set_valid(*self._buf_range(buf, offset, n), self._holder(thread))

    def buf_set_dirty(self, buf: Buf, offset: int, n: int, thread: Optional[ThreadLike] = None) -> None:
        """Dirty [offset, offset + n): the byte dirty range grows over any hole between."""
        self._m().buf_set_dirty(*self._buf_range(buf, offset, n), self._holder(thread))

    def buf_daemon(self, cpu: int = 0, all: bool = False) -> int:
        """One buffer-daemon pass on cpu: write delayed buffers down to lodirtybuffers (or all);
        returns how many it started."""
        return self._m().buf_daemon(self._cpu(cpu), _checks.boolean("all", all))

    def buf_violations(self) -> BufViolations:
        """Buffer invariant violations found so far (checked after every buffer operation unless
        buf={'check_invariants': False})."""
        return BufViolations([BufViolation(**d) for d in self._m().buf_violations()],
                             f"{self._arch} buffer invariant violations")

    def check_buffers(self) -> None:
        """Check every buffer's invariants now (buf_violations() lists what fails)."""
        self._m().check_buffers()

    @property
    def bogus_page(self) -> Page:
        """bogus_page: what b_pages holds in place of a valid page during a read over it."""
        return Page._wrap(self, self._m().bogus_page)

    # ------------------------------------------------------------------ the block device

    def device_hold(self) -> None:
        """Queue I/O at the device instead of completing it (device_release() completes it)."""
        self._m().device_hold()

    def device_release(self, count: Optional[int] = None) -> None:
        """Complete the oldest `count` held I/Os (all by default) and stop holding."""
        self._m().device_release(None if count is None else _checks.integer("count", count, 0, 1 << 40))

    def device_fail_next(self, cmd: str, count: int = 1, block: Optional[int] = None) -> None:
        """The next `count` reads or writes ('read' or 'write') fail with BIO_ERROR (EIO).

        With `block` (a device block in DEV_BSIZE units, e.g. ``file.blkno(lblkno)``), only the
        I/Os that cover that block fail; other I/O goes through."""
        self._m().device_fail_next(_checks.choice("cmd", cmd, ("read", "write")),
                                   _checks.integer("count", count, 1, 1 << 20),
                                   None if block is None else _checks.integer("block", block, 0, (1 << 63) - 1))

    @property
    def device_in_flight(self) -> int:
        """I/Os the device holds (device_hold)."""
        return self._m().device_in_flight

    # ------------------------------------------------------------------ files

    def file_create(self, name: str, bsize: Union[int, str] = 4096, size: Union[int, str] = "64K",
                    fill: Union[int, bytes, None] = None, track: bool = True) -> File:
        """A file of `size` bytes in blocks of `bsize` (512 to 64K, a power of two); fill (a byte
        value, or bytes repeated) puts its contents on the device, None leaves it all holes.
        track=False skips the reference model (and the lost-write oracle) for it."""
        name = _checks.string("name", name)
        if not name:
            raise ArgumentError("empty file name", "name")
        if self._m().file(name) is not None:
            raise ArgumentError(f"a file {name!r} exists already", "name")
        bsize_bytes = parse_size(bsize, "bsize")
        if not 512 <= bsize_bytes <= 65536 or bsize_bytes & (bsize_bytes - 1):
            raise ArgumentError(f"{bsize!r} must be a power of two between 512 and 64K", "bsize")
        size_bytes = parse_size(size, "size")
        if fill is not None and not isinstance(fill, (bytes, bytearray, memoryview)):
            fill = _checks.integer("fill", fill, 0, 255)
        elif fill is not None and not len(fill):
            raise ArgumentError("empty pattern", "fill")
        return File._wrap(self, self._m().file_create(name, bsize_bytes, size_bytes, fill,
                                                      _checks.boolean("track", track)))

    def file(self, name: str) -> Optional[File]:
        """The file of that name, or None."""
        raw = self._m().file(_checks.string("name", name))
        return None if raw is None else File._wrap(self, raw)

    def _file_span(self, offset: Any, n: Any) -> "tuple[int, int]":
        return (_checks.integer("offset", offset, 0, (1 << 62) - 1),
                _checks.integer("n", n, 0, self.memory * 4))

    def file_read(self, thread: ThreadLike, file: File, offset: int, n: int) -> Union[bytes, PendingCall]:
        """Read through buffers, copying with the thread's CPU (guest loads, checked by the
        staleness oracles). Returns the bytes (KvaError on an I/O error) or a PendingCall."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        return self._result(self._m().file_read(td, f, *self._file_span(offset, n)), "file_read", thread)

    def _data(self, data: Any) -> Any:
        if isinstance(data, str):
            raise ArgumentTypeError("expected bytes, not str (encode it first)", "data")
        if not isinstance(data, (bytes, bytearray, memoryview, list)):
            raise ArgumentTypeError(f"expected bytes, not {type(data).__name__}", "data")
        return data

    def file_write(self, thread: ThreadLike, file: File, offset: int, data: bytes,
                   mode: str = "delayed") -> Union[int, PendingCall]:
        """Write through buffers; mode 'delayed' (bdwrite), 'async' (bawrite) or 'sync' (bwrite).
        Returns the error number (0) or a PendingCall."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        offset = _checks.integer("offset", offset, 0, (1 << 62) - 1)
        mode = _checks.choice("mode", mode, WRITE_MODES)
        return self._result(self._m().file_write(td, f, offset, self._data(data), mode), "file_write", thread)

    def file_write_mapped(self, thread: ThreadLike, file: File, offset: int, data: bytes) -> Union[int, PendingCall]:
        """Store through an sf_buf of each cached page and mark it dirty, as a store through a
        mapping of the file would."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        offset = _checks.integer("offset", offset, 0, (1 << 62) - 1)
        return self._result(self._m().file_write_mapped(td, f, offset, self._data(data)), "file_write_mapped",
                            thread)

    def fsync(self, thread: ThreadLike, file: File, offset: int = 0, n: int = 0) -> Union[int, PendingCall]:
        """Write the range's dirty buffers and pages and wait (n=0: to end of file); then the
        lost-write oracle checks the range. The error number (0) or a PendingCall."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        offset = _checks.integer("offset", offset, 0, (1 << 62) - 1)
        n = _checks.integer("n", n, 0, (1 << 62) - 1)
        return self._result(self._m().fsync(td, f, offset, n), "fsync", thread)

    def sync(self, thread: ThreadLike) -> Union[int, PendingCall]:
        """fsync every file."""
        return self._result(self._m().sync(self._thread_or_cpu(thread)), "sync", thread)

    def truncate(self, thread: ThreadLike, file: File, size: Union[int, str]) -> Union[int, PendingCall]:
        """Shrink or extend the file to size bytes (0 allowed)."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        if isinstance(size, int) and not isinstance(size, bool) and size == 0:
            nbytes = 0
        else:
            nbytes = parse_size(size, "size")
        return self._result(self._m().truncate(td, f, nbytes), "truncate", thread)

    def sendfile(self, thread: ThreadLike, file: File, offset: int = 0, n: Optional[int] = None,
                 checksum_cpu: Optional[int] = None) -> Union[SendfileResult, PendingCall]:
        """sendfile(2) of [offset, offset + n) (n None: to end of file): page by page through
        sf_bufs on the thread's CPU, and checksummed by checksum_cpu (another CPU reading the
        same sf_buf, as a NIC driver's checksum would). KvaError on an I/O error."""
        td, f = self._thread_or_cpu(thread), self._file_arg(file)
        offset = _checks.integer("offset", offset, 0, (1 << 62) - 1)
        n = None if n is None else _checks.integer("n", n, 0, (1 << 62) - 1)
        ck = None if checksum_cpu is None else self._cpu(checksum_cpu, "checksum_cpu")
        return self._result(self._m().sendfile(td, f, offset, n, ck), "sendfile", thread)

    def pageout(self, release_buffers: bool = False) -> int:
        """Reclaim clean, unwired, unmapped cached pages (after clean buffers drop theirs, with
        release_buffers); returns how many pages it freed."""
        return self._m().pageout(_checks.boolean("release_buffers", release_buffers))

    def crash(self, cpu: int = 0) -> None:
        """Lose all in-memory state (buffers, cached pages, I/O in flight), as a power cut; the
        crash oracle then checks that every synced byte is on the device."""
        self._m().crash(self._cpu(cpu))

    def lost_writes(self) -> LostWrites:
        """Lost writes the oracle found (after fsync/sync, after a crash), oldest first."""
        return LostWrites([LostWrite(**d) for d in self._m().lost_writes()], f"{self._arch} lost writes")
