"""Determinism: the same testcases, seed and arch give bit-identical JSON (wall_ms aside) and
byte-identical -v/--trace event traces, run after run and with -j 1, 2 or 4."""
import hashlib
import json

import kvabench_cli

LIB = kvabench_cli.LIBRARY


def _json_digest(data):
    for row in data["results"] + data["summary"]:
        row.pop("wall_ms")
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def test_json_is_bit_identical_across_runs_and_jobs(kvabench_bin, tmp_path):
    """With a fault injected, so the JSON holds failures (steps, CPUs, VAs, bytes) besides
    passes and counters."""
    digests = {}
    for run, jobs in enumerate(["1", "1", "2", "4"]):
        proc, data = kvabench_cli.run_json(tmp_path, LIB, "--seed", "3", "-j", jobs, "--inject", "drop-ipi",
                                           name=f"{run}.json")
        assert proc.returncode == 1, proc.stdout[-2000:]
        assert any(r["failures"] for r in data["results"]) and any(r["status"] == "pass" for r in data["results"])
        digests[f"run {run} -j {jobs}"] = _json_digest(data)
    assert len(set(digests.values())) == 1, digests


def test_event_traces_are_identical_across_runs_and_jobs(kvabench_bin):
    """The per-step log and the per-vCPU guest trace of every job, in job order. Workers keep
    each job's output and the parent prints it in order, so -j does not reorder it."""
    digests = {}
    for run, jobs in enumerate(["1", "1", "2", "4"]):
        proc = kvabench_cli.run("run", LIB, "-v", "--trace", "--inject", "drop-ipi", "-j", jobs)
        assert proc.returncode == 1
        assert proc.stderr.count("\n") > 10000 and "cpu1" in proc.stderr
        digests[f"run {run} -j {jobs}"] = hashlib.sha256(proc.stderr.encode()).hexdigest()
    assert len(set(digests.values())) == 1, digests
