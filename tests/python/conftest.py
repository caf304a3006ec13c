"""Collects the testcase library: one test item per (testcase, arch), each backed by the
CLI's JSON results (one `kvabench run FILE --json` per file, shared by that file's items)."""
import pytest

import kvabench_cli


def _library_params():
    if not kvabench_cli.binary().exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason="kvabench binary not built"),
                             id="no-binary")]
    seen = {}
    for name, arch, _seed, file in kvabench_cli.list_jobs(kvabench_cli.LIBRARY):
        seen.setdefault((name, arch), file)  # testcases with `seeds:` are one item per arch
    return [pytest.param((name, arch, file), id=f"{name}[{arch}]") for (name, arch), file in seen.items()]


def pytest_generate_tests(metafunc):
    if "library_job" in metafunc.fixturenames:
        metafunc.parametrize("library_job", _library_params())


@pytest.fixture(scope="session")
def kvabench_bin():
    path = kvabench_cli.binary()
    if not path.exists():
        pytest.fail(f"kvabench binary not found at {path}: build it (make build) or set KVABENCH_BIN")
    return path


@pytest.fixture(scope="session")
def library_file_results(kvabench_bin, tmp_path_factory):
    """file -> parsed JSON of running that testcase file on all its archs (cached)."""
    cache = {}

    def get(file):
        if file not in cache:
            tmp = tmp_path_factory.mktemp("lib")
            proc, data = kvabench_cli.run_json(tmp, file)
            assert data is not None, f"no JSON written for {file}: {proc.stderr}"
            cache[file] = data
        return cache[file]

    return get
