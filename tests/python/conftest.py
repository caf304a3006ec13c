"""Collects the testcase library: one test item per (testcase, arch), each backed by the
results of running its file in-process with kvabench.run() (shared by that file's items)."""
import pytest

import kvabench
import kvabench_cli


def _library_params():
    seen = {}
    for job in kvabench.list_jobs(kvabench_cli.LIBRARY):
        seen.setdefault((job.testcase, job.arch), job.file)  # testcases with `seeds:`: one item per arch
    return [pytest.param((name, arch, file), id=f"{name}[{arch}]") for (name, arch), file in seen.items()]


def pytest_generate_tests(metafunc):
    if "library_job" in metafunc.fixturenames:
        metafunc.parametrize("library_job", _library_params())


@pytest.fixture(scope="session")
def kvabench_bin():
    """The C++ CLI binary, for tests of the CLI itself."""
    path = kvabench_cli.binary()
    if not path.exists():
        pytest.fail(f"kvabench binary not found at {path}: build it (make build) or set KVABENCH_BIN")
    return path


@pytest.fixture(scope="session")
def library_file_results():
    """file -> kvabench.RunResult of that testcase file on all its archs (cached)."""
    cache = {}

    def get(file):
        if file not in cache:
            cache[file] = kvabench.run(file)
        return cache[file]

    return get
