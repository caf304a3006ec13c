"""Draws benchmark 3 (shootdown scaling) from kvabench-bench's results.json.

    python bench/plot_shootdown.py RESULTS_JSON OUTPUT_PNG
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def main(results_path, out_path):
    with open(results_path) as f:
        results = json.load(f)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for arch in results["archs"]:
        rows = arch["shootdowns"]
        ax.plot([r["targets"] for r in rows], [r["cpu_us"] for r in rows], marker="o",
                label=f'{arch["arch"]} ({arch["mode"]})')
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4, 8, 16, 32, 63], labels=["1", "2", "4", "8", "16", "32", "63"])
    ax.set_xlabel("shootdown targets (64-vCPU machine)")
    ax.set_ylabel("host µs per shootdown (process CPU time)")
    ax.set_title("kvabench shootdown scaling")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    print(f"plot: {out_path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
