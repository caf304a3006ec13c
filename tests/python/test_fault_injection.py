"""Every fault-injection switch is caught by the library: with the fault injected (and the
expectations unchanged) some testcase fails on every arch where the fault applies, and at
least one failure comes from a staleness or value oracle, not only from counters."""
import pytest

import kvabench
import kvabench_cli

# Oracles that see what the guest actually got (or what reached the device), as opposed to
# bookkeeping counters and internal invariants.
DATA_ORACLES = {"observed staleness", "architectural staleness", "unexpected value", "missing error",
                "lost write"}
FAULTS = kvabench.faults().names()


@pytest.fixture(scope="module")
def clean_run():
    results = kvabench.run(kvabench_cli.LIBRARY, jobs=2)
    assert results.passed, results.describe_failures()
    return results


def test_library_has_faults_to_check():
    assert len(FAULTS) >= 5


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_is_caught(fault, clean_run):
    results = kvabench.run(kvabench_cli.LIBRARY, inject=[fault], jobs=2)
    assert not results.passed, f"inject={fault}: no testcase failed"
    assert all(r.injected == (fault,) for r in results)
    summary = {row.arch: row for row in results.summary()}
    applicable = [a for a, row in summary.items() if fault not in row.faults_not_applicable]
    assert applicable, f"{fault} applies to no arch"
    for arch in applicable:
        failures = [f for r in results.where(arch=arch) for f in r.failures]
        assert failures, f"inject={fault}: no testcase fails on {arch}"
        oracles = {f.oracle for f in failures}
        assert oracles & DATA_ORACLES, f"{fault} on {arch} only caught by {oracles}"
        # Every failure names where it happened.
        assert all(f.step for f in failures)
    for arch, row in summary.items():
        if fault in row.faults_not_applicable:
            # A fault that cannot apply changes nothing: same outcome as the clean run.
            assert row.failed == 0, f"{fault} is marked not applicable on {arch} but changed results"
            assert all(fault in r.faults_not_applicable for r in results.where(arch=arch))


def test_buffer_cache_faults_apply_everywhere_and_the_clean_library_reports_nothing(clean_run):
    """Every buf fault applies on every arch (the buffer map exists with or without a direct map),
    and the clean run had no lost write, buffer-invariant or staleness failure anywhere."""
    buf_faults = kvabench.faults().where(subsystem="buf")
    assert len(buf_faults) >= 7
    assert not any(f.pool_only for f in buf_faults)
    assert "[buffer cache]" in kvabench_cli.run("faults").stdout  # the CLI listing says so too
    assert all(not r.failures for r in clean_run)
    buf_results = [r for r in clean_run if "/buf/" in r.file]
    assert len({r.testcase for r in buf_results}) >= 30
    assert all(r.counters["vfs.lost_writes"] == 0 and r.counters["buf.invariant_violations"] == 0
               for r in buf_results)


def test_not_applicable_faults_are_pool_only(clean_run):
    """Applicability comes from properties: pool-only faults change nothing on direct-map archs."""
    pool_only = {f.name for f in kvabench.faults() if f.pool_only}
    dmap_archs = {row.arch for row in clean_run.summary() if row.mode == "dmap"}
    assert pool_only and dmap_archs
    case = kvabench_cli.LIBRARY / "sf_buf" / "hash_hit_refcount.yaml"
    for fault in pool_only:
        for r in kvabench.run(case, inject=[fault]):
            assert (fault in r.faults_not_applicable) == (r.arch in dmap_archs)
