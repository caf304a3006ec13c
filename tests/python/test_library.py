"""Each library testcase on each of its archs passes (all seeds)."""


def _describe(failure):
    where = f"cpu {failure['cpu']} " if "cpu" in failure else ""
    return (f"step '{failure['step']}': {failure['oracle']}: {failure['message']} {where}"
            f"expected {failure['expected']!r} observed {failure['observed']!r}")


def test_library_testcase(library_job, library_file_results):
    name, arch, file = library_job
    data = library_file_results(file)
    runs = [r for r in data["results"] if r["testcase"] == name and r["arch"] == arch]
    assert runs, f"{name} did not run on {arch}"
    problems = [f"seed {r['seed']}: {_describe(f)}" for r in runs for f in r["failures"]]
    assert all(r["status"] == "pass" for r in runs), "\n".join(problems)
