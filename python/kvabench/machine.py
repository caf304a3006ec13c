"""kvabench.Machine: the compiled machine with friendly argument forms."""
from . import _core
from .parsing import parse_sf_buf_flags, parse_size


class Machine(_core.Machine):
    """An emulated machine: one arch's pmap (see kvabench.archs()), a deterministic scheduler
    seeded by `seed`, and the sf_buf subsystem (a pool of `nsfbufs` unless the arch has a
    direct map). `memory` is bytes or a size string ("16M"); `inject` names fault switches
    (kvabench.faults())."""

    def __init__(self, arch, cpus=2, memory="16M", nsfbufs=64, seed=1, inject=(), trace=False):
        if isinstance(inject, str):
            inject = [inject]
        super().__init__(arch, cpus=cpus, memory=parse_size(memory), nsfbufs=nsfbufs, seed=seed,
                         inject=list(inject), trace=trace)

    def sf_buf_alloc(self, thread, page, flags=0):
        """sf_buf_alloc(page, flags) run by `thread`. flags: an int, "NOWAIT|CPUPRIVATE" or a
        list of names. Returns an SfBuf, None (NULL), or a PendingSfBuf if the thread slept:
        Machine.run() completes it."""
        return super().sf_buf_alloc(thread, page, parse_sf_buf_flags(flags))

    def __repr__(self):
        mode = "direct map" if self.sf_buf_direct_map else "sf_buf pool"
        return f"<kvabench.Machine {self.arch} cpus={self.ncpus} memory={self.memory} {mode}>"
