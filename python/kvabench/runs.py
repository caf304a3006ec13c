"""kvabench.run(): YAML testcases run in-process by the C++ runner (the `kvabench run` CLI's
engine), with results as objects, tables and DataFrames."""
from __future__ import annotations

import dataclasses
import json
import os
import shlex
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _checks, _core
from ._display import Record, Table
from .errors import ArgumentError, ArgumentTypeError

__all__ = ["run", "list_jobs", "Job", "JobResult", "Failure", "RunResult", "SummaryRow"]

PathLike = Union[str, "os.PathLike[str]"]
DEFAULT_PATHS = ("testcases/",)
EXEC_MODES = ("fast", "reference")


@dataclasses.dataclass(frozen=True)
class Job(Record):
    """One testcase on one arch with one scheduler seed and a set of fault switches."""

    testcase: str
    file: str
    arch: str
    seed: int
    injected: Tuple[str, ...] = ()
    exec_mode: str = "fast"

    def command(self) -> str:
        """The CLI command that re-runs this job (a testcase with `seeds: K` runs seeds
        seed..seed+K-1, this one first)."""
        words = ["kvabench", "run", self.file, "--arch", self.arch, "--seed", str(self.seed)]
        if self.injected:
            words += ["--inject", ",".join(self.injected)]
        if self.exec_mode != "fast":
            words += ["--exec-mode", self.exec_mode]
        return " ".join(shlex.quote(w) for w in words)

    def run(self, text: Optional[str] = None) -> "JobResult":
        """Run exactly this job in-process (text: the testcase's YAML; default: read file)."""
        if text is None:
            text = Path(self.file).read_text()
        raw = _core.run_job_text(text, self.file, self.arch, self.seed, list(self.injected), self.exec_mode)
        return JobResult.from_raw(raw, self.injected, self.exec_mode)

    def __str__(self) -> str:
        faults = f" inject={','.join(self.injected)}" if self.injected else ""
        return f"{self.testcase} [{self.arch}, seed {self.seed}{faults}]"


@dataclasses.dataclass(frozen=True)
class Failure(Record):
    """One mismatch between what a testcase expects and what happened."""

    step: str            #: the step's label, or 'end of testcase'
    oracle: str          #: the check that caught it ('observed staleness', 'counter', ...)
    message: str
    cpu: Optional[int]
    va: Optional[int]
    expected: str
    observed: str
    _hex_fields = ("va",)

    def to_json(self) -> Dict[str, Any]:
        """As in `kvabench run --json` (cpu and va only when known)."""
        d: Dict[str, Any] = {"step": self.step, "oracle": self.oracle, "message": self.message}
        if self.cpu is not None:
            d["cpu"] = self.cpu
        if self.va is not None:
            d["va"] = self.va
        d.update(expected=self.expected, observed=self.observed)
        return d


@dataclasses.dataclass(frozen=True)
class JobResult(Record):
    """The outcome of one job: pass/fail, the failures, and every counter at the end."""

    testcase: str
    file: str
    arch: str
    mode: str                        #: 'pool' or 'dmap' ('' if the machine could not be built)
    seed: int
    passed: bool
    failures: Tuple[Failure, ...]
    counters: Dict[str, int]         #: 'pmap.ipis', 'sf_buf.remaps', 'stale.observed', ...
    faults_not_applicable: Tuple[str, ...]
    wall_ms: float
    injected: Tuple[str, ...] = ()
    exec_mode: str = "fast"

    @classmethod
    def from_raw(cls, raw: Dict[str, Any], injected: Sequence[str] = (), exec_mode: str = "fast") -> "JobResult":
        return cls(testcase=raw["testcase"], file=raw["file"], arch=raw["arch"], mode=raw["mode"],
                   seed=raw["seed"], passed=raw["passed"],
                   failures=tuple(Failure(**f) for f in raw["failures"]), counters=dict(raw["counters"]),
                   faults_not_applicable=tuple(raw["faults_not_applicable"]), wall_ms=raw["wall_ms"],
                   injected=tuple(injected), exec_mode=exec_mode)

    @property
    def status(self) -> str:
        """'pass' or 'fail', as in the CLI's JSON."""
        return "pass" if self.passed else "fail"

    @property
    def job(self) -> Job:
        """The job that produced this result (Job.run() re-runs it alone)."""
        return Job(self.testcase, self.file, self.arch, self.seed, self.injected, self.exec_mode)

    def describe(self) -> str:
        """The failures as the CLI prints them, with the command that re-runs the job."""
        lines = [f"{self.status.upper()} {self.job}"]
        for f in self.failures:
            where = "".join([f" cpu {f.cpu}" if f.cpu is not None else "",
                             f" va {f.va:#x}" if f.va is not None else ""])
            lines.append(f"  step '{f.step}': {f.oracle}: {f.message}{where}")
            if f.expected or f.observed:
                lines.append(f"     expected: {f.expected}\n     observed: {f.observed}")
        lines.append(f"  re-run: {self.job.command()}")
        return "\n".join(lines)

    def to_json(self) -> Dict[str, Any]:
        """As one entry of `kvabench run --json` results."""
        return {"testcase": self.testcase, "file": self.file, "arch": self.arch, "mode": self.mode,
                "seed": self.seed, "status": self.status, "wall_ms": self.wall_ms,
                "faults_not_applicable": list(self.faults_not_applicable), "counters": dict(self.counters),
                "failures": [f.to_json() for f in self.failures]}

    def _raw(self) -> Dict[str, Any]:
        return {"testcase": self.testcase, "arch": self.arch, "mode": self.mode, "seed": self.seed,
                "passed": self.passed, "counters": self.counters,
                "faults_not_applicable": list(self.faults_not_applicable), "wall_ms": self.wall_ms}

    def _cells(self) -> Dict[str, str]:
        cells = super()._cells()
        cells["failures"] = "; ".join(f"{f.step}: {f.oracle}" for f in self.failures)
        cells["counters"] = f"{len(self.counters)} counters"
        return cells


@dataclasses.dataclass(frozen=True)
class SummaryRow(Record):
    """One arch's line of the summary `kvabench run` prints."""

    arch: str
    mode: str
    passed: int            #: testcases (one fails if any of its seeds fails)
    failed: int
    jobs: int
    stale_observed: int
    stale_architectural: int
    stale_model: int       #: every model oracle: architectural, bbm, negative
    local_invalidations: int
    ipis: int
    broadcasts: int
    guest_instructions: int
    buf_ios: int           #: buffer-cache I/Os
    kva_maps: int          #: buffers given buffer-map KVA
    kva_lazy_unmaps: int   #: buffers lazily unmapped under buffer-map pressure
    bogus_pages: int       #: bogus_page substitutions
    lost_writes: int       #: lost-write oracle reports
    wall_ms: float
    faults_not_applicable: Tuple[str, ...]
    injected: Tuple[str, ...] = ()  #: the fault switches of these jobs (sweeps: one row per set)


class Summary(Table[SummaryRow]):
    """Per-arch totals; str() is the table `kvabench run` prints."""

    _text = ""

    def __str__(self) -> str:
        return self._text or repr(self)


class RunResult(Table[JobResult]):
    """Results of kvabench.run() / sweep(), in job order: a table of JobResult with summaries,
    JSON in the CLI's format, and a DataFrame with one column per counter."""

    highlight = None

    @property
    def passed(self) -> bool:
        """True when every job passed."""
        return all(r.passed for r in self)

    def failed(self) -> "RunResult":
        """Only the failing jobs."""
        return self.where(passed=False)

    def fault_sets(self) -> List[Tuple[str, ...]]:
        """The distinct sets of injected faults, in first-seen order (one for run())."""
        return list(dict.fromkeys(r.injected for r in self))

    def summary(self) -> Summary:
        """One row per arch, as `kvabench run` prints; a sweep over several fault sets has one
        block of rows per set (the `injected` column) and str() prints a table per set."""
        rows: List[SummaryRow] = []
        texts = []
        for faults in self.fault_sets():
            raw = [r._raw() for r in self if r.injected == faults]
            rows += [SummaryRow(**{**d, "faults_not_applicable": tuple(d["faults_not_applicable"]),
                                   "injected": faults}) for d in _core.summarize(raw)]
            text = _core.summary_text(raw)
            texts.append(text if len(self.fault_sets()) == 1 else
                         f"injected: {','.join(faults) or 'none'}\n{text}")
        out = Summary(rows, "summary")
        out._text = "\n".join(texts)
        return out

    def describe_failures(self) -> str:
        """Every failure, with the command that re-runs its job alone."""
        return "\n".join(r.describe() for r in self.failed())

    def to_json(self, path: Optional[PathLike] = None) -> Dict[str, Any]:
        """The document `kvabench run --json` writes (written to path when given)."""
        seeds = sorted({r.seed for r in self})
        injected = sorted({f for r in self for f in r.injected})
        doc = {"format": 1, "seed": seeds[0] if seeds else 1, "injected": injected,
               "results": [r.to_json() for r in self],
               "summary": [{k: v for k, v in s.to_dict().items() if k != "injected"}
                           | {"faults_not_applicable": sorted(s.faults_not_applicable)} for s in self.summary()]}
        if path is not None:
            Path(path).write_text(json.dumps(doc, indent=2) + "\n")
        return doc

    def rows(self) -> List[Dict[str, Any]]:
        """One flat dict per job: its identity, status, failure count and first failing oracle,
        and one key per counter ('pmap.ipis', ...). What to_pandas() and CSV files hold."""
        rows = []
        for r in self:
            row: Dict[str, Any] = {"testcase": r.testcase, "arch": r.arch, "mode": r.mode, "seed": r.seed,
                                   "injected": ",".join(r.injected), "exec_mode": r.exec_mode,
                                   "status": r.status, "failures": len(r.failures),
                                   "oracle": r.failures[0].oracle if r.failures else "",
                                   "wall_ms": r.wall_ms, "file": r.file}
            row.update(r.counters)
            rows.append(row)
        return rows

    def to_pandas(self):
        """rows() as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def plot_counters(self, counters: Sequence[str] = ("pmap.local_invalidations", "pmap.ipis"),
                      ax: Any = None, per_job: bool = True) -> Any:
        """plots.plot_counters: the counters per arch, as grouped bars."""
        from .plots import plot_counters

        return plot_counters(self, counters, ax, per_job)

    def to_csv(self, path: PathLike) -> None:
        """rows() as a CSV file (no pandas needed)."""
        import csv

        rows = self.rows()
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(rows)

    def columns(self) -> List[str]:
        """The columns of the text and HTML reprs."""
        return ["testcase", "arch", "mode", "seed", "injected", "passed", "failures", "wall_ms"]

    def __repr__(self) -> str:
        failed = len(self.failed())
        return (f"<RunResult: {len(self) - failed} of {len(self)} jobs passed, {failed} failed>"
                + ("" if not failed else "\n" + self.describe_failures()))


def _paths(paths: Union[PathLike, Iterable[PathLike], None]) -> List[str]:
    if paths is None:
        return list(DEFAULT_PATHS)
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    if not isinstance(paths, Iterable):
        raise ArgumentTypeError(f"expected a path or a list of paths, not {type(paths).__name__}", "paths")
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ArgumentError("no paths given", "paths")
    return out


def _seeds(seeds: Union[int, Iterable[int]]) -> List[int]:
    if isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)):
        out = [_checks.integer("seeds", s, 0, (1 << 56) - 1) for s in seeds]
        if not out:
            raise ArgumentError("no seeds given", "seeds")
        return out
    return [_checks.integer("seeds", seeds, 0, (1 << 56) - 1)]


def _in_job_order(items: Iterable[Any]) -> List[Any]:
    """Jobs or results in the runner's order: testcase (load order), arch (registry order), seed."""
    from .registry import archs

    arch_rank = {name: i for i, name in enumerate(archs().names())}
    items = list(items)
    first: Dict[str, int] = {}
    for i, x in enumerate(items):
        first.setdefault(x.testcase, i)
    return sorted(items, key=lambda x: (first[x.testcase], arch_rank.get(x.arch, len(arch_rank)), x.seed))


def list_jobs(paths: Union[PathLike, Iterable[PathLike], None] = None, archs: Optional[Iterable[str]] = None,
              seeds: Union[int, Iterable[int]] = 1) -> Table[Job]:
    """Validate the testcases (TestcaseError naming file:line:column) and list the jobs run()
    would run, as `kvabench run --list` does."""
    arch_names = _checks.names("archs", archs)
    seen: Dict[Tuple[str, str, int], Job] = {}
    for seed in _seeds(seeds):
        for name, arch, job_seed, file in _core.plan_jobs(_paths(paths), arch_names, seed):
            seen.setdefault((name, arch, job_seed), Job(name, file, arch, job_seed))
    return Table(_in_job_order(seen.values()), "jobs")


def run(paths: Union[PathLike, Iterable[PathLike], None] = None, archs: Optional[Iterable[str]] = None,
        seeds: Union[int, Iterable[int]] = 1, inject: Union[str, Iterable[str], None] = (),
        exec_mode: str = "fast", jobs: int = 1) -> RunResult:
    """Run YAML testcases in this process, as `kvabench run` does.

    paths: files or directories (default 'testcases/'); archs: restrict to these (default each
    testcase's own list, else the default set); seeds: a base seed or several (a testcase with
    `seeds: K` runs base..base+K-1 for each); inject: fault switches enabled together;
    jobs: worker processes (forked, as `-j`). Invalid testcases raise TestcaseError before
    anything runs."""
    arch_names = _checks.names("archs", archs)
    faults = _checks.names("inject", inject)
    exec_mode = _checks.choice("exec_mode", exec_mode, EXEC_MODES)
    jobs = _checks.integer("jobs", jobs, 1, 256)
    results: Dict[Tuple[str, str, int], JobResult] = {}
    for seed in _seeds(seeds):
        for raw in _core.run_testcases(_paths(paths), arch_names, seed, faults, exec_mode, jobs):
            result = JobResult.from_raw(raw, faults, exec_mode)
            results.setdefault((result.testcase, result.arch, result.seed), result)
    return RunResult(_in_job_order(results.values()), "results")
