"""kvabench.sweep() and `kvabench sweep`: testcases x archs x seeds x fault switches, run on
local processes (default) or on a Dask cluster.

A job travels as its testcase's text plus (file name, arch, seed, faults, exec mode), so a
worker needs only the installed kvabench package, not the checkout. Results come back as one
RunResult (table, JSON, DataFrame, CSV); a failing job names itself with the command that
re-runs it alone."""
from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _checks, _core
from .errors import ArgumentError, KvabenchError
from .registry import faults as fault_registry
from .runs import EXEC_MODES, Failure, Job, JobResult, PathLike, RunResult, _in_job_order, _paths, _seeds

__all__ = ["sweep", "SweepResult", "JobSpec", "sweep_main"]

FaultSet = Tuple[str, ...]
Progress = Callable[[int, int, int], None]  # (done, total, failed)


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """What a worker needs to run one job: the testcase text and the job's parameters."""

    text: str
    job: Job


class SweepResult(RunResult):
    """RunResult of a sweep: every job of every fault set, in job order within each set."""

    parameters: Dict[str, Any] = {}

    def to_json(self, path: Optional[PathLike] = None) -> Dict[str, Any]:
        """The CLI's JSON document, with `injected` on every result and summary row and the
        sweep's parameters."""
        import json

        doc = super().to_json()
        doc["sweep"] = dict(self.parameters)
        for row, r in zip(doc["results"], self):
            row["injected"] = list(r.injected)
        doc["summary"] = [{**s.to_dict(), "faults_not_applicable": sorted(s.faults_not_applicable),
                           "injected": list(s.injected)} for s in self.summary()]
        if path is not None:
            Path(path).write_text(json.dumps(doc, indent=2) + "\n")
        return doc

    def __repr__(self) -> str:
        return super().__repr__().replace("<RunResult", "<SweepResult", 1)


def fault_sets(faults: Union[str, Iterable[Any], None]) -> List[FaultSet]:
    """Fault sets from 'each' (none, then every fault alone), or a list whose items are None/''
    (no fault), a name, 'a+b' (enabled together) or a list of names."""
    valid = fault_registry().names()
    if faults is None:
        return [()]
    if isinstance(faults, str):
        if faults == "each":
            return [()] + [(f,) for f in valid]
        faults = [faults]
    out: List[FaultSet] = []
    for item in faults:
        if item is None or item == "" or item == "none":
            names: List[str] = []
        elif isinstance(item, str):
            names = [n for n in item.split("+") if n]
        else:
            names = _checks.names("faults", item)
        for n in names:
            _checks.choice("faults", n, valid)
        fs = tuple(names)
        if fs not in out:
            out.append(fs)
    if not out:
        raise ArgumentError("no fault sets (use None for a clean run)", "faults")
    return out


def plan(paths: Union[PathLike, Iterable[PathLike], None] = None, archs: Optional[Iterable[str]] = None,
         seeds: Union[int, Iterable[int]] = 1, faults: Union[str, Iterable[Any], None] = None,
         exec_mode: str = "fast") -> List[JobSpec]:
    """Every job of a sweep, validated (TestcaseError before anything runs), as JobSpecs."""
    arch_names = _checks.names("archs", archs)
    exec_mode = _checks.choice("exec_mode", exec_mode, EXEC_MODES)
    sets = fault_sets(faults)
    seen: Dict[Tuple[str, str, int], Job] = {}
    for seed in _seeds(seeds):
        for name, arch, job_seed, file in _core.plan_jobs(_paths(paths), arch_names, seed):
            seen.setdefault((name, arch, job_seed), Job(name, file, arch, job_seed))
    texts: Dict[str, str] = {}
    specs = []
    for fs in sets:
        for job in _in_job_order(seen.values()):
            if job.file not in texts:
                texts[job.file] = Path(job.file).read_text()
            specs.append(JobSpec(texts[job.file], dataclasses.replace(job, injected=fs, exec_mode=exec_mode)))
    return specs


def _lost(job: Job, why: str) -> Dict[str, Any]:
    """A raw result for a job that could not report one (its worker raised or died)."""
    return {"testcase": job.testcase, "file": job.file, "arch": job.arch, "mode": "", "seed": job.seed,
            "passed": False, "counters": {}, "faults_not_applicable": [], "wall_ms": 0.0,
            "failures": [{"step": "", "oracle": "worker error", "message": why, "cpu": None, "va": None,
                          "expected": "", "observed": ""}]}


def run_chunk(specs: Sequence[JobSpec]) -> List[Dict[str, Any]]:
    """Runs JobSpecs in this process (what a worker executes); one raw result each, in order."""
    out = []
    for spec in specs:
        j = spec.job
        try:
            out.append(_core.run_job_text(spec.text, j.file, j.arch, j.seed, list(j.injected), j.exec_mode))
        except Exception as e:  # a job that cannot run still gets a result naming it
            out.append(_lost(j, f"{type(e).__name__}: {e}"))
    return out


class ProgressBar:
    """`sweep: [#####.....] 120/480 jobs, 2 failed` on stderr, redrawn in place on a terminal."""

    def __init__(self, stream: Any = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self._last = 0.0

    def __call__(self, done: int, total: int, failed: int) -> None:
        now = time.monotonic()
        if done < total and (not self.tty or now - self._last < 0.1):
            return
        self._last = now
        filled = self.width * done // max(total, 1)
        line = f"sweep: [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} jobs, {failed} failed"
        self.stream.write(("\r" + line if self.tty else line) + ("\n" if done == total else ""))
        self.stream.flush()


def _chunks(specs: List[JobSpec], size: int) -> List[List[JobSpec]]:
    return [specs[i:i + size] for i in range(0, len(specs), size)]


def _run_local(chunks: List[List[JobSpec]], workers: int, report: Callable[[int, List[Dict[str, Any]]], None]) -> None:
    if workers == 1:
        for i, chunk in enumerate(chunks):
            report(i, run_chunk(chunk))
        return
    # spawn: workers start clean (no inherited emulator state or threads) and import kvabench.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_chunk, chunk): i for i, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results = future.result()
            except Exception as e:  # the worker process died
                results = [_lost(s.job, f"worker lost: {type(e).__name__}: {e}") for s in chunks[i]]
            report(i, results)


def _run_dask(chunks: List[List[JobSpec]], client: Any, report: Callable[[int, List[Dict[str, Any]]], None]) -> None:
    from distributed import as_completed as dask_completed

    futures = {client.submit(run_chunk, chunk, pure=False): i for i, chunk in enumerate(chunks)}
    for future in dask_completed(list(futures)):
        i = futures[future]
        try:
            results = future.result()
        except Exception as e:  # e.g. KilledWorker
            results = [_lost(s.job, f"worker lost: {type(e).__name__}: {e}") for s in chunks[i]]
        report(i, results)


def sweep(paths: Union[PathLike, Iterable[PathLike], None] = None, archs: Optional[Iterable[str]] = None,
          seeds: Union[int, Iterable[int]] = 1, faults: Union[str, Iterable[Any], None] = None,
          exec_mode: str = "fast", *, client: Any = None, scheduler: Optional[str] = None,
          workers: Optional[int] = None, chunk_size: Optional[int] = None,
          progress: Union[bool, Progress, None] = None) -> SweepResult:
    """Run testcases x archs x seeds x fault sets and gather every result in one table.

    paths, archs, seeds, exec_mode: as kvabench.run(). faults: 'each' (no fault, then every
    fault alone) or a list of fault sets: None (none), 'drop-ipi', 'drop-ipi+keep-cpumask' or a
    list of names. Where: a dask.distributed ``client``, or a ``scheduler`` address to connect
    to, else ``workers`` local processes (default: one per CPU; 1 runs in this process).
    progress: True for a bar on stderr (default when stderr is a terminal), or a callable
    (done, total, failed). Testcase errors raise TestcaseError before anything runs."""
    specs = plan(paths, archs, seeds, faults, exec_mode)
    if client is not None and scheduler is not None:
        raise ArgumentError("give a Dask client or a scheduler address, not both", "scheduler")
    if scheduler is not None:
        _checks.string("scheduler", scheduler)
    nworkers = _checks.integer("workers", workers, 1, 1024) if workers is not None else (os.cpu_count() or 1)
    distributed = client is not None or scheduler is not None
    slots = len(client.nthreads()) if client is not None else nworkers
    if chunk_size is None:
        chunk_size = max(1, min(64, len(specs) // max(1, 4 * slots)))
    chunk_size = _checks.integer("chunk_size", chunk_size, 1, 1 << 20)
    if progress is None:
        progress = sys.stderr.isatty()
    bar: Optional[Progress] = ProgressBar() if progress is True else (progress or None)

    chunks = _chunks(specs, chunk_size)
    got: Dict[int, List[Dict[str, Any]]] = {}
    counts = {"done": 0, "failed": 0}

    def report(i: int, results: List[Dict[str, Any]]) -> None:
        got[i] = results
        counts["done"] += len(results)
        counts["failed"] += sum(1 for r in results if not r["passed"])
        if bar:
            bar(counts["done"], len(specs), counts["failed"])

    if bar:
        bar(0, len(specs), 0)
    backend: str
    if client is not None:
        _run_dask(chunks, client, report)
        backend = f"dask {getattr(client, 'scheduler', None) and client.scheduler.address}"
    elif scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise KvabenchError("sweeps on Dask need dask[distributed]: pip install 'kvabench[sweep]'") from None
        with Client(scheduler) as own:
            _run_dask(chunks, own, report)
        backend = f"dask {scheduler}"
    else:
        _run_local(chunks, nworkers, report)
        backend = f"local processes: {nworkers}"

    results = []
    for i, chunk in enumerate(chunks):
        for spec, raw in zip(chunk, got[i]):
            results.append(JobResult.from_raw(raw, spec.job.injected, spec.job.exec_mode))
    out = SweepResult(results, "sweep results")
    out.parameters = {"paths": _paths(paths), "archs": _checks.names("archs", archs), "seeds": _seeds(seeds),
                      "faults": [list(fs) for fs in fault_sets(faults)], "exec_mode": exec_mode,
                      "backend": backend if not distributed or client is None else "dask client",
                      "jobs": len(specs)}
    return out


# ----------------------------------------------------------------------------- the CLI


def _seed_list(text: str) -> List[int]:
    out: List[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise argparse.ArgumentTypeError(f"expected N, N-M or a comma list of them, got {text!r}")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kvabench sweep",
        description="Run testcases x archs x seeds x fault sets on local processes or a Dask cluster, "
                    "and aggregate the results.",
        epilog="exit status: 0 every job passes, 1 some job fails, 2 usage or input error")
    p.add_argument("paths", nargs="*", default=["testcases/"], help="testcase files or directories (default testcases/)")
    p.add_argument("--arch", default="", help="A[,B...]: restrict to these archs")
    p.add_argument("--seeds", type=_seed_list, default=[1], help="base seeds: N, N-M or a comma list (default 1)")
    p.add_argument("--faults", default="none",
                   help="fault sets, comma separated: none, a fault, a+b (together); or 'each' = none plus every "
                        "fault alone (default none)")
    p.add_argument("--exec-mode", default="fast", choices=EXEC_MODES)
    p.add_argument("-j", "--workers", type=int, default=None, help="local worker processes (default: one per CPU)")
    p.add_argument("--scheduler", default=None, help="ADDRESS of a Dask scheduler (tcp://host:8786): run there")
    p.add_argument("--chunk-size", type=int, default=None, help="jobs per task (default: about 4 tasks per worker)")
    p.add_argument("--json", default=None, help="write the results as JSON")
    p.add_argument("--csv", default=None, help="write one row per job as CSV")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def sweep_main(argv: Sequence[str]) -> int:
    """`kvabench sweep ...`; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    faults: Any = "each" if args.faults == "each" else args.faults.split(",")
    try:
        results = sweep(args.paths, [a for a in args.arch.split(",") if a], args.seeds, faults, args.exec_mode,
                        scheduler=args.scheduler, workers=args.workers, chunk_size=args.chunk_size,
                        progress=False if args.no_progress else None)
    except KvabenchError as e:
        print(f"kvabench sweep: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. the scheduler cannot be reached
        print(f"kvabench sweep: {e}", file=sys.stderr)
        return 2
    if args.json:
        results.to_json(args.json)
    if args.csv:
        results.to_csv(args.csv)
    if not results.passed:
        print(results.describe_failures())
    print(results.summary())
    failed = len(results.failed())
    print(f"{len(results) - failed} of {len(results)} jobs passed (testcase x arch x seed x fault set), "
          f"{failed} failed; {len(results.fault_sets())} fault sets, seeds {','.join(map(str, _seeds(args.seeds)))}; "
          f"{results.parameters['backend']}")
    return 0 if failed == 0 else 1
