"""Every fault-injection switch is caught by the library: with the fault injected (and the
expectations unchanged) some testcase fails on every arch where the fault applies, and at
least one failure comes from a staleness or value oracle, not only from counters (except where
the arch's protocol hides the damage: PROTOCOL_MASKED)."""
import pytest

import kvabench
import kvabench_cli

# Oracles that see what the guest actually got (or what reached the device), as opposed to
# bookkeeping counters and internal invariants.
DATA_ORACLES = {"observed staleness", "architectural staleness", "bbm staleness", "negative staleness",
                "unexpected value", "missing error", "lost write"}


# Faults whose data effect an arch's mapping protocol hides, by the feature that hides it:
# FreeBSD riscv's pmap_qenter always invalidates (sbi), so buffer KVA reused after a qremove
# without its remote fence is fenced again before anyone can read it; only the window between
# the two, which no testcase step can reach, would show the old page.
PROTOCOL_MASKED = {"skip-buf-kva-shootdown": "sbi"}


def _features(arch):
    return set(kvabench.Machine(arch, cpus=2, memory="16M").features)


def _faults():
    if not kvabench_cli.binary().exists():
        return []
    return kvabench_cli.listing_names("faults")


@pytest.fixture(scope="module")
def clean_run(kvabench_bin, tmp_path_factory):
    proc, data = kvabench_cli.run_json(tmp_path_factory.mktemp("clean"), kvabench_cli.LIBRARY, "-j", "2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return data


def test_library_has_faults_to_check():
    assert len(_faults()) >= 5


@pytest.mark.parametrize("fault", _faults())
def test_fault_is_caught(fault, clean_run, tmp_path):
    proc, data = kvabench_cli.run_json(tmp_path, kvabench_cli.LIBRARY, "--inject", fault, "-j", "2")
    assert proc.returncode == 1, f"--inject {fault}: expected failures (exit 1), got {proc.returncode}"
    assert data["injected"] == [fault]
    summary = {row["arch"]: row for row in data["summary"]}
    applicable = [a for a, row in summary.items() if fault not in row["faults_not_applicable"]]
    assert applicable, f"{fault} applies to no arch"
    for arch in applicable:
        failures = [f for r in data["results"] if r["arch"] == arch for f in r["failures"]]
        assert failures, f"--inject {fault}: no testcase fails on {arch}"
        oracles = {f["oracle"] for f in failures}
        if fault in PROTOCOL_MASKED and PROTOCOL_MASKED[fault] in _features(arch):
            # The arch's own protocol repairs the damage before any testcase step can look;
            # the counters still show the missing work.
            assert "counter" in oracles, f"{fault} on {arch}: not even a counter differs"
            continue
        assert oracles & DATA_ORACLES, f"{fault} on {arch} only caught by {oracles}"
        # Every failure line names where it happened.
        assert all(f["step"] for f in failures)
    for arch, row in summary.items():
        if fault in row["faults_not_applicable"]:
            # A fault that cannot apply changes nothing: same outcome as the clean run.
            assert row["failed"] == 0, f"{fault} is marked not applicable on {arch} but changed results"
            assert all(fault in r["faults_not_applicable"] for r in data["results"] if r["arch"] == arch)
    assert f"FAIL" in proc.stdout and "injected: " + fault in proc.stdout


def test_buffer_cache_faults_apply_everywhere_and_the_clean_library_reports_nothing(clean_run):
    """Every buf fault applies on every arch (the buffer map exists with or without a direct map),
    and the clean run had no lost write, buffer-invariant or staleness failure anywhere."""
    proc = kvabench_cli.run("faults")
    buf_faults = [line.split()[0] for line in proc.stdout.splitlines() if "[buffer cache]" in line]
    assert len(buf_faults) >= 7
    assert not any("pool mode only" in line for line in proc.stdout.splitlines() if "[buffer cache]" in line)
    assert all(not r["failures"] for r in clean_run["results"])
    buf_results = [r for r in clean_run["results"] if "/buf/" in r["file"]]
    assert len({r["testcase"] for r in buf_results}) >= 30
    assert all(r["counters"]["vfs.lost_writes"] == 0 and r["counters"]["buf.invariant_violations"] == 0
               for r in buf_results)


def test_not_applicable_faults_are_pool_only(clean_run):
    """The CLI decides applicability from properties: pool-only faults on direct-map archs."""
    proc = kvabench_cli.run("faults")
    pool_only = {line.split()[0] for line in proc.stdout.splitlines() if "pool mode only" in line}
    dmap_archs = {row["arch"] for row in clean_run["summary"] if row["mode"] == "dmap"}
    for fault in pool_only:
        out = kvabench_cli.run("run", kvabench_cli.LIBRARY / "sf_buf" / "hash_hit_refcount.yaml",
                               "--inject", fault)
        for arch in dmap_archs:
            assert f"fault '{fault}' is not applicable on {arch}" in out.stdout
