"""kvabench: script experiments on FreeBSD's sf_buf(9)/buf(9) page mappings.

    import kvabench
    arch = kvabench.archs().names()[0]                 # any name the registry lists
    with kvabench.Machine(arch, cpus=2) as m:
        page = m.page_alloc(fill=0xAB)                 # wired, as in YAML
        td = m.thread("td0", cpu=0)
        with m.sf_buf_alloc(td, page) as sf:           # freed on exit
            m.read(1, sf.kva, 4)                       # b'\\xab\\xab\\xab\\xab'
        m.tlb(), m.stale(), m.stats()

Buffers and files (buf(9)), on the same machine:

        f = m.file_create("f", bsize=16384, size="64K", fill=0x5A)
        with m.bread(0, f, 1) as bp:               # thread: a Thread or a CPU number
            m.read(1, bp.data, 16), bp.flags       # brelse on exit
        m.file_write(0, f, 100, b"hello"), m.fsync(0, f), m.lost_writes()

    kvabench.run("testcases/", archs=[arch]).to_pandas()       # YAML testcases, in-process

Arch names come from kvabench.archs(), fault switches from kvabench.faults(); errors are the
classes of kvabench.errors.
"""
# errors first: _core raises its classes. _core needs libcapstone.so.5, a SONAME the capstone
# wheel's library carries under another file name: importing capstone first loads that library,
# which the loader then reuses for _core.
from . import errors  # noqa: I001
import capstone as _capstone  # noqa: F401

from . import _core
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DeadlockError,
    KvabenchError,
    KvaError,
    MachineClosedError,
    PageFault,
    StaleHandleError,
    StateError,
    TestcaseError,
)
from .explore import Mapping, Snapshot, SnapshotDiff, Walk, diff
from .flags import BufFlags, GbFlags, PteFlags, SfBufFlags
from .handles import Buf, File, Page, PendingCall, PendingSfBuf, SfBuf, Thread
from .machine import PAGE_SIZE, Machine, parse_size
from .registry import archs, faults
from .results import (ArchInfo, BufViolation, Counters, FaultInfo, LostWrite, PteState, SendfileResult, StaleReport,
                      TlbEntry, VaRange)
from .runs import Failure, Job, JobResult, RunResult, list_jobs, run
from .sweep import SweepResult, sweep

__version__: str = _core.__version__
VM_PAGE_BITS_ALL: int = _core.VM_PAGE_BITS_ALL

__all__ = [
    "__version__",
    "PAGE_SIZE",
    "VM_PAGE_BITS_ALL",
    "Machine",
    "Page",
    "Thread",
    "SfBuf",
    "PendingSfBuf",
    "Buf",
    "File",
    "PendingCall",
    "SfBufFlags",
    "GbFlags",
    "BufFlags",
    "PteFlags",
    "ArchInfo",
    "FaultInfo",
    "VaRange",
    "PteState",
    "TlbEntry",
    "StaleReport",
    "Counters",
    "BufViolation",
    "LostWrite",
    "SendfileResult",
    "archs",
    "faults",
    "run",
    "list_jobs",
    "Job",
    "JobResult",
    "Failure",
    "RunResult",
    "sweep",
    "SweepResult",
    "Walk",
    "Mapping",
    "Snapshot",
    "SnapshotDiff",
    "diff",
    "parse_size",
    "KvabenchError",
    "ArgumentError",
    "ArgumentTypeError",
    "KvaError",
    "PageFault",
    "DeadlockError",
    "StateError",
    "MachineClosedError",
    "StaleHandleError",
    "TestcaseError",
]
