"""Each library testcase on each of its archs passes (all seeds)."""


def test_library_testcase(library_job, library_file_results):
    name, arch, file = library_job
    runs = library_file_results(file).where(testcase=name, arch=arch)
    assert runs, f"{name} did not run on {arch}"
    assert all(r.passed for r in runs), "\n".join(r.describe() for r in runs if not r.passed)
