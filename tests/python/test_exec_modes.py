"""Execution modes fast and reference run the same guest stubs, so the whole library must give
bit-identical results (wall times aside), with and without every fault switch injected, and
identical guest traces."""
import pytest

import kvabench
import kvabench_cli

SF = kvabench_cli.LIBRARY / "sf_buf"


def _outcome(results):
    return [{**r.to_json(), "wall_ms": None} for r in results]


def test_library_results_are_identical_in_both_modes():
    fast = kvabench.run(kvabench_cli.LIBRARY, exec_mode="fast")
    ref = kvabench.run(kvabench_cli.LIBRARY, exec_mode="reference")
    assert fast.passed, fast.describe_failures()
    assert _outcome(fast) == _outcome(ref)
    default_archs = {job.arch for job in kvabench.list_jobs(kvabench_cli.LIBRARY)}
    assert {r.arch for r in fast} == default_archs
    assert sum(r.counters["pmap.guest_instructions"] for r in fast) > 0


def test_library_results_with_every_fault_injected_are_identical():
    faults = kvabench.faults().names()
    fast = kvabench.run(kvabench_cli.LIBRARY, inject=faults, exec_mode="fast")
    ref = kvabench.run(kvabench_cli.LIBRARY, inject=faults, exec_mode="reference")
    assert not fast.passed, "the injected bugs must be caught somewhere"
    assert _outcome(fast) == _outcome(ref)


@pytest.mark.parametrize("case", ["recycle_accessed_shootdown.yaml", "misuse_ref_after_free.yaml", "pmap_qremove_unmaps_everywhere.yaml",
                                  "copy_between_sf_bufs.yaml", "pmap_invalidate_range_multi_page.yaml"])
def test_traces_are_identical_in_both_modes(kvabench_bin, case):
    traces = {}
    for mode in ("fast", "reference"):
        proc = kvabench_cli.run("run", SF / case, "--trace", "--exec-mode", mode)
        assert proc.returncode == 0, proc.stdout
        traces[mode] = proc.stderr
    assert traces["fast"] == traces["reference"]
    assert "emu_start kva_copy" in traces["fast"]
    if case == "pmap_qremove_unmaps_everywhere.yaml":
        assert " trap 14 " in traces["fast"], "a page fault mid-stub is traced the same way"


def test_exec_mode_must_be_fast_or_reference(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--exec-mode", "turbo")
    assert proc.returncode == 2
    assert "--exec-mode" in proc.stderr and "turbo" in proc.stderr
    assert "--exec-mode" in kvabench_cli.run("--help").stdout
    with pytest.raises(kvabench.ArgumentError, match="exec_mode.*turbo"):
        kvabench.run(SF / "hash_hit_refcount.yaml", exec_mode="turbo")
    with pytest.raises(kvabench.ArgumentError, match="exec_mode.*turbo"):
        kvabench.Machine("i386", exec_mode="turbo")


def test_machine_exec_modes_read_the_same(tmp_path):
    """Machine(exec_mode=...) reaches the pmap: both modes give the same data and counts."""
    out = {}
    for mode in ("fast", "reference"):
        with kvabench.Machine(kvabench.archs().where(emulated=True)[0].name, exec_mode=mode) as m:
            assert m.exec_mode == mode
            page = m.page_alloc(fill=bytes(range(256)) * 16)
            va = m.kva_alloc()
            m.kenter(va, page)
            out[mode] = (m.read(1, va + 10, 8), m.stats().pmap.guest_instructions)
    assert out["fast"] == out["reference"]
    assert out["fast"][0] == bytes(range(10, 18))
