"""matplotlib plots (pip install 'kvabench[notebook]'): the VA space coloured by owner, per-CPU
TLB occupancy, and counters across archs for a workload. Each returns the Axes it drew on."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .explore import Mappings
    from .results import TlbView
    from .runs import RunResult

__all__ = ["plot_va_map", "plot_tlb_occupancy", "plot_counters"]


def _axes(ax: Any, figsize: Sequence[float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _owner_group(owner: str) -> str:
    return owner.split(" #")[0]


def plot_va_map(mappings: "Mappings", ax: Any = None, gap: float = 0.04) -> Any:
    """The mapped VA space as bars coloured by owner. Unmapped stretches are collapsed to a
    fixed `gap` (a fraction of the axis) so that a 16 MiB direct map and a 4 KiB sf_buf both
    show; every run keeps a width proportional to the log of its size."""
    import math

    from matplotlib.patches import Patch

    ax = _axes(ax, (10, 2.2))
    runs = sorted(mappings, key=lambda r: r.va)
    widths = [1 + math.log2(r.size / 4096) for r in runs]
    total = sum(widths) or 1.0
    gap_width = gap * total
    owners: List[str] = []
    for r in runs:
        g = _owner_group(r.owner)
        if g not in owners:
            owners.append(g)
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    colour = {o: cmap(i % 10) for i, o in enumerate(owners)}
    x = 0.0
    ticks, labels = [], []
    for i, (r, w) in enumerate(zip(runs, widths)):
        if i and runs[i - 1].va_end != r.va:
            ax.axvspan(x, x + gap_width, color="0.92", hatch="//", linewidth=0)
            x += gap_width
            ticks.append(x)
            labels.append(f"{r.va:#x}")
        elif i == 0:
            ticks.append(x)
            labels.append(f"{r.va:#x}")
        ax.barh(0, w, left=x, color=colour[_owner_group(r.owner)], edgecolor="white", linewidth=0.5, gid="run")
        x += w
    ax.set_yticks([])
    ax.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=7)
    ax.set_xlim(0, max(x, 1))
    ax.set_title(f"{mappings.caption}: VA space by owner (gaps collapsed, widths ~ log size)")
    ax.legend(handles=[Patch(color=colour[o], label=o) for o in owners], loc="upper center",
              bbox_to_anchor=(0.5, -0.45), ncol=min(len(owners), 6), fontsize=8, frameon=False)
    return ax


def plot_tlb_occupancy(view: "TlbView", ax: Any = None, cpus: Optional[int] = None) -> Any:
    """Per-CPU bars: translations the model says each CPU may hold, stacked by current leaf,
    stale leaf and upper-level (paging-structure cache) entries."""
    ax = _axes(ax, (8, 3))
    n = cpus if cpus is not None else (max((e.cpu for e in view), default=-1) + 1)
    kinds = {"current": [0] * n, "stale": [0] * n, "table": [0] * n}
    for e in view:
        kind = "table" if e.kind != "leaf" else ("stale" if e.stale else "current")
        kinds[kind][e.cpu] += 1
    bottom = [0] * n
    colours = {"current": "tab:green", "stale": "tab:red", "table": "tab:gray"}
    for kind, counts in kinds.items():
        ax.bar(range(n), counts, bottom=bottom, label=kind, color=colours[kind])
        bottom = [b + c for b, c in zip(bottom, counts)]
    ax.set_xticks(range(n), [f"cpu{c}" for c in range(n)])
    ax.set_ylabel("entries")
    ax.set_title(view.caption or "TLB model occupancy")
    ax.legend(fontsize=8)
    return ax


def plot_counters(results: "RunResult", counters: Sequence[str] = ("pmap.local_invalidations", "pmap.ipis"),
                  ax: Any = None, per_job: bool = True) -> Any:
    """Grouped bars: each counter summed over the results of each arch (divided by the number
    of jobs when per_job), arch by arch in registry order."""
    from .registry import archs as registry

    ax = _axes(ax, (8, 3.5))
    order = [a for a in registry().names() if any(r.arch == a for r in results)]
    values: Dict[str, List[float]] = {c: [] for c in counters}
    for arch in order:
        rows = [r for r in results if r.arch == arch]
        for c in counters:
            total = sum(r.counters.get(c, 0) for r in rows)
            values[c].append(total / len(rows) if per_job and rows else total)
    width = 0.8 / max(len(counters), 1)
    for i, c in enumerate(counters):
        ax.bar([x + i * width for x in range(len(order))], values[c], width, label=c)
    ax.set_xticks([x + width * (len(counters) - 1) / 2 for x in range(len(order))], order)
    ax.set_ylabel("per job" if per_job else "total")
    ax.set_title("counters by arch")
    ax.legend(fontsize=8)
    return ax
