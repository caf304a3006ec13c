"""kvabench.run() / list_jobs() / Job: YAML testcases in-process, as `kvabench run` runs them."""
import pytest

import kvabench
import kvabench_cli
from test_malformed_input import CASES, GOOD_HEAD

SF = kvabench_cli.LIBRARY / "sf_buf"
RECYCLE = SF / "recycle_accessed_shootdown.yaml"


def outcome(results):
    return [(r.testcase, r.arch, r.seed, r.passed, r.counters, [(f.step, f.oracle, f.message) for f in r.failures])
            for r in results]


def test_list_jobs_is_the_clis_list(kvabench_bin):
    api = [(j.testcase, j.arch, j.seed, j.file) for j in kvabench.list_jobs(kvabench_cli.LIBRARY)]
    assert api == kvabench_cli.list_jobs(kvabench_cli.LIBRARY)
    some = kvabench.list_jobs(RECYCLE, archs=["ref", "ref-dmap"], seeds=[3, 4])
    assert [(j.arch, j.seed) for j in some] == [("ref", 3), ("ref", 4), ("ref-dmap", 3), ("ref-dmap", 4)]


def test_parallel_matches_serial():
    serial = kvabench.run(kvabench_cli.LIBRARY, inject=["drop-ipi"], jobs=1)
    parallel = kvabench.run(kvabench_cli.LIBRARY, inject=["drop-ipi"], jobs=2)
    assert not serial.passed
    assert outcome(serial) == outcome(parallel)
    assert [(s.arch, s.passed, s.failed) for s in serial.summary()] == \
           [(s.arch, s.passed, s.failed) for s in parallel.summary()]


def test_seeds_are_reproducible_and_matter():
    race = SF / "race_four_cpus_pool_of_two.yaml"
    a = kvabench.run(race, archs=["i386"], seeds=5)
    b = kvabench.run(race, archs=["i386"], seeds=5)
    c = kvabench.run(race, archs=["i386"], seeds=500)
    assert [r.seed for r in a] == list(range(5, 13))  # seeds: 8
    assert [r.counters for r in a] == [r.counters for r in b]
    assert [r.counters for r in a] != [r.counters for r in c]
    both = kvabench.run(race, archs=["i386"], seeds=[5, 9])  # overlapping ranges run once each
    assert [r.seed for r in both] == list(range(5, 17))


def test_a_failing_job_names_itself_and_reruns_alone(tmp_path):
    results = kvabench.run(RECYCLE, inject=["drop-ipi"])
    failed = results.failed()
    assert failed and all(r.injected == ("drop-ipi",) for r in failed)
    r = failed[0]
    assert r.job.command() == f"kvabench run {RECYCLE} --arch {r.arch} --seed {r.seed} --inject drop-ipi"
    assert f"re-run: {r.job.command()}" in r.describe() and r.failures[0].oracle in r.describe()
    again = r.job.run()
    assert outcome([again]) == outcome([r])
    assert again.job == r.job
    shipped = r.job.run(text=RECYCLE.read_text())  # as a sweep worker gets it: text, no file
    assert outcome([shipped]) == outcome([r])


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_testcase_raises_testcase_error(case, tmp_path):
    text, line, fragment = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(kvabench.TestcaseError) as info:
        kvabench.run(path)
    message = str(info.value)
    assert message.startswith(str(path))
    if line is not None:
        assert message.startswith(f"{path}:{line}:")
    assert fragment in message
    with pytest.raises(kvabench.TestcaseError):
        kvabench.Job("t", str(path), "ref", 1).run()


def test_run_arguments_are_checked(tmp_path):
    (tmp_path / "ok.yaml").write_text(GOOD_HEAD + "steps:\n  - page_alloc: p1\n")
    with pytest.raises(kvabench.ArgumentError, match="--arch: unknown arch 'vax'|arch: unknown value 'vax'|unknown arch 'vax'"):
        kvabench.run(tmp_path, archs=["vax"])
    with pytest.raises(kvabench.ArgumentError, match="inject: unknown fault 'bit-rot'"):
        kvabench.run(tmp_path, inject="bit-rot")
    with pytest.raises(kvabench.ArgumentError, match="jobs: 0 is out of range"):
        kvabench.run(tmp_path, jobs=0)
    with pytest.raises(kvabench.ArgumentError, match="seeds: -1 is out of range"):
        kvabench.run(tmp_path, seeds=[-1])
    with pytest.raises(kvabench.TestcaseError, match="no such file"):
        kvabench.run(tmp_path / "nowhere.yaml")
    with pytest.raises(kvabench.ArgumentTypeError, match="paths"):
        kvabench.run(42)
    assert kvabench.run(tmp_path, archs="ref").passed  # one name is a list of one
