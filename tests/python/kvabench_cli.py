"""Helpers to run the built kvabench CLI from pytest.

The binary is $KVABENCH_BIN, else build/runner/kvabench under the repository root (what
`make build` produces)."""
import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "testcases"


def binary() -> Path:
    return Path(os.environ.get("KVABENCH_BIN", REPO / "build" / "runner" / "kvabench"))


def run(*args, cwd=REPO, timeout=600):
    """Runs kvabench with args; returns the CompletedProcess (text mode)."""
    return subprocess.run([str(binary()), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def run_json(tmp_path, *args, name="results.json"):
    """Runs `kvabench run ... --json FILE`; returns (CompletedProcess, parsed JSON or None)."""
    out = Path(tmp_path) / name
    proc = run("run", *args, "--json", out)
    data = json.loads(out.read_text()) if out.exists() else None
    return proc, data


def list_jobs(*paths):
    """`kvabench run --list`: [(testcase, arch, seed, file)]."""
    proc = run("run", *paths, "--list")
    if proc.returncode != 0:
        raise RuntimeError(f"kvabench run --list failed ({proc.returncode}): {proc.stderr}")
    jobs = []
    for line in proc.stdout.splitlines():
        name, arch, seed, file = line.split("\t")
        jobs.append((name, arch, int(seed), file))
    return jobs


def default_archs():
    """The archs `kvabench run` uses when none is named: the registry's default set."""
    proc = run("archs")
    assert proc.returncode == 0, proc.stderr
    return sorted(line.split()[0] for line in proc.stdout.splitlines()
                  if line.strip() and "not in the default set" not in line)


def listing_names(command):
    """First word of each line of `kvabench archs` / `kvabench faults`."""
    proc = run(command)
    assert proc.returncode == 0, proc.stderr
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
