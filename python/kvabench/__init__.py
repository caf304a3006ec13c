"""kvabench: script experiments on FreeBSD's sf_buf(9)/buf(9) page mappings.

Buffers and files (buf(9)):

    f = m.file_create("f", bsize=16384, size="64K", fill=0x5A)
    bp = m.bread(0, f, 1)            # thread: a Thread or a CPU number
    m.load(1, bp.data, 16), bp.flag_names, m.brelse(bp)
    m.file_write(0, f, 100, b"hello"), m.fsync(0, f), m.lost_writes()

    import kvabench
    m = kvabench.Machine("ref", cpus=2)
    page = m.page_alloc(fill=0xAB, wired=True)
    td = m.thread("td0", cpu=0)
    sf = m.sf_buf_alloc(td, page)
    m.load(1, sf.kva, 4)      # b'\\xab\\xab\\xab\\xab'
    m.tlb(1), m.stale(), m.stats()

Arch names come from kvabench.archs(); fault switches from kvabench.faults().
"""
# _core needs libcapstone.so.5, a SONAME the capstone wheel's library carries under another file
# name: importing capstone first loads that library, which the loader then reuses for _core.
import capstone as _capstone  # noqa: F401

from ._core import (
    PAGE_SIZE,
    SF_BUF_FLAGS,
    VM_PAGE_BITS_ALL,
    Buf,
    File,
    KvaError,
    Machine,
    Page,
    PageFault,
    PendingCall,
    PendingSfBuf,
    SfBuf,
    Thread,
    archs,
    faults,
    parse_sf_buf_flags,
    parse_size,
)

__all__ = [
    "PAGE_SIZE",
    "SF_BUF_FLAGS",
    "VM_PAGE_BITS_ALL",
    "Buf",
    "File",
    "KvaError",
    "Machine",
    "Page",
    "PageFault",
    "PendingCall",
    "PendingSfBuf",
    "SfBuf",
    "Thread",
    "archs",
    "faults",
    "parse_sf_buf_flags",
    "parse_size",
]
