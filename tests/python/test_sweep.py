"""kvabench.sweep() and `kvabench sweep`: the same results in this process, on local worker
processes and on a Dask cluster of 2 workers, equal to kvabench.run() per fault set; failures
name their job; the CLI's outputs."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import kvabench
import kvabench_cli
from kvabench.sweep import JobSpec, fault_sets, run_chunk

SF = kvabench_cli.LIBRARY / "sf_buf"
CASES = [SF / "recycle_accessed_shootdown.yaml", SF / "race_four_cpus_pool_of_two.yaml",
         SF / "sleep_until_free_wakes.yaml", SF / "hash_hit_refcount.yaml"]
FAULTS = [None, "drop-ipi", "skip-local-inval+keep-cpumask"]
SEEDS = [1, 3]


def outcome(results):
    return [(r.testcase, r.file, r.arch, r.mode, r.seed, r.injected, r.passed, r.counters,
             [f.to_dict() for f in r.failures], r.faults_not_applicable) for r in results]


@pytest.fixture(scope="module")
def in_process():
    return kvabench.sweep(CASES, seeds=SEEDS, faults=FAULTS, workers=1, progress=False)


def test_sweep_equals_run_for_each_fault_set(in_process):
    assert [r.injected for r in in_process][0] == ()
    assert in_process.fault_sets() == [(), ("drop-ipi",), ("skip-local-inval", "keep-cpumask")]
    for faults in in_process.fault_sets():
        direct = kvabench.run(CASES, seeds=SEEDS, inject=list(faults))
        assert outcome(in_process.where(injected=faults)) == outcome(direct)
    assert in_process.passed is False and in_process.where(injected=()).failed() == []


def test_local_processes_equal_in_process(in_process):
    calls = []
    local = kvabench.sweep(CASES, seeds=SEEDS, faults=FAULTS, workers=2, chunk_size=3,
                           progress=lambda done, total, failed: calls.append((done, total, failed)))
    assert outcome(local) == outcome(in_process)
    assert calls[0] == (0, len(local), 0) and calls[-1] == (len(local), len(local), len(local.failed()))
    assert local.parameters["backend"] == "local processes: 2"


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_cluster_of_two_workers_equals_the_local_run(dask_cluster, in_process):
    assert len(dask_cluster.nthreads()) == 2
    on_dask = kvabench.sweep(CASES, seeds=SEEDS, faults=FAULTS, client=dask_cluster, chunk_size=2, progress=False)
    assert outcome(on_dask) == outcome(in_process)
    workers_used = dask_cluster.run(lambda: "kvabench" in sys.modules)
    assert len(workers_used) == 2 and all(workers_used.values()), "jobs ran on the workers"


def test_cli_sweep_on_the_dask_scheduler(dask_cluster, in_process, tmp_path):
    out = tmp_path / "sweep.json"
    proc = subprocess.run([str(Path(sys.executable).parent / "kvabench"), "sweep", *map(str, CASES),
                           "--seeds", "1,3", "--faults", "none,drop-ipi,skip-local-inval+keep-cpumask",
                           "--scheduler", dask_cluster.scheduler.address, "--json", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=kvabench_cli.REPO)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["sweep"]["backend"].startswith("dask tcp://")
    expected = [{**r.to_json(), "injected": list(r.injected), "wall_ms": None} for r in in_process]
    assert [{**r, "wall_ms": None} for r in doc["results"]] == expected
    assert "injected: drop-ipi" in proc.stdout and "re-run: kvabench run " in proc.stdout


def test_fault_sets_parse():
    names = kvabench.faults().names()
    assert fault_sets("each") == [()] + [(n,) for n in names]
    assert fault_sets([None, "drop-ipi", "drop-ipi+keep-cpumask", ["keep-cpumask"], "none"]) == \
        [(), ("drop-ipi",), ("drop-ipi", "keep-cpumask"), ("keep-cpumask",)]
    with pytest.raises(kvabench.ArgumentError, match="faults: unknown value 'bit-rot'"):
        fault_sets(["drop-ipi+bit-rot"])
    with pytest.raises(kvabench.ArgumentError, match="faults: no fault sets"):
        fault_sets([])


def test_a_job_that_cannot_run_is_a_failure_naming_it():
    job = kvabench.Job("broken", "shipped/broken.yaml", "ref", 7, ("drop-ipi",))
    good = JobSpec(CASES[0].read_text(), kvabench.Job("recycle_accessed_shootdown", str(CASES[0]), "ref", 1))
    raw = run_chunk([JobSpec("format: 1\nname: broken\n", job), good])
    assert raw[1]["passed"]
    result = kvabench.JobResult.from_raw(raw[0], job.injected)
    assert not result.passed and result.failures[0].oracle == "worker error"
    assert "TestcaseError: shipped/broken.yaml:1:1: testcase: missing required field" in result.failures[0].message
    assert result.job == job
    assert "re-run: kvabench run shipped/broken.yaml --arch ref --seed 7 --inject drop-ipi" in result.describe()


def test_cli_sweep_locally_writes_json_and_csv(tmp_path):
    proc = subprocess.run([str(Path(sys.executable).parent / "kvabench"), "sweep", str(CASES[0]),
                           "--arch", "ref,i386", "--faults", "each", "-j", "1", "--json", str(tmp_path / "s.json"),
                           "--csv", str(tmp_path / "s.csv"), "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and proc.stderr == ""
    doc = json.loads((tmp_path / "s.json").read_text())
    nfaults = len(kvabench.faults())
    assert len(doc["results"]) == 2 * (1 + nfaults)
    assert doc["sweep"]["faults"][0] == [] and doc["sweep"]["backend"] == "local processes: 1"
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(rows) == 1 + len(doc["results"]) and rows[0].startswith("testcase,arch,mode,seed,injected")
    assert f"of {len(doc['results'])} jobs passed" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--faults", "bit-rot"], "kvabench sweep: faults: unknown value 'bit-rot'"),
    (["--seeds", "x"], "--seeds"),
    (["--arch", "vax"], "vax"),
])
def test_cli_sweep_usage_errors(args, message):
    proc = subprocess.run([str(Path(sys.executable).parent / "kvabench"), "sweep", str(CASES[0]), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and message in proc.stderr
