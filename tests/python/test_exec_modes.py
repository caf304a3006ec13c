"""`kvabench run --exec-mode fast|reference`: both execution modes run the same guest stubs, so
the whole library must give bit-identical results (wall times aside), with and without every
fault switch injected, and identical guest traces."""
import pytest

import kvabench_cli

SF = kvabench_cli.LIBRARY / "sf_buf"


def _without_wall_times(data):
    for row in data["results"] + data["summary"]:
        row.pop("wall_ms")
    return data


def _library_json(tmp_path, mode, *extra):
    proc, data = kvabench_cli.run_json(tmp_path, kvabench_cli.LIBRARY, "--exec-mode", mode, *extra,
                                       name=f"{mode}.json")
    assert data is not None, proc.stderr
    return proc, _without_wall_times(data)


def test_library_results_are_identical_in_both_modes(kvabench_bin, tmp_path):
    fast_proc, fast = _library_json(tmp_path, "fast")
    ref_proc, ref = _library_json(tmp_path, "reference")
    assert fast_proc.returncode == 0, fast_proc.stdout
    assert fast == ref
    default_archs = {arch for _, arch, _, _ in kvabench_cli.list_jobs(kvabench_cli.LIBRARY)}
    assert {r["arch"] for r in fast["results"]} == default_archs
    assert sum(r["counters"]["pmap.guest_instructions"] for r in fast["results"]) > 0


def test_library_results_with_every_fault_injected_are_identical(kvabench_bin, tmp_path):
    faults = ",".join(kvabench_cli.listing_names("faults"))
    fast_proc, fast = _library_json(tmp_path, "fast", "--inject", faults)
    ref_proc, ref = _library_json(tmp_path, "reference", "--inject", faults)
    assert fast_proc.returncode == 1, "the injected bugs must be caught somewhere"
    assert fast == ref
    assert any(r["failures"] for r in fast["results"])


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
