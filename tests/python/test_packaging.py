"""What `pip install .` provides: the `kvabench` console command (the C++ CLI, linked into the
extension, plus `sweep`), one version number, type information, extras; and that pip builds
outside the checkout. A fresh-venv install of both kinds runs with KVABENCH_SLOW_TESTS=1."""
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kvabench
import kvabench_cli

REPO = kvabench_cli.REPO
PACKAGE_DIR = Path(kvabench.__file__).parent
SF = kvabench_cli.LIBRARY / "sf_buf"


def console(*args, cwd=REPO):
    """The installed console command (next to this interpreter, as pip puts it)."""
    exe = Path(sys.executable).parent / "kvabench"
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_one_version_everywhere(kvabench_bin):
    cmake = re.search(r"project\(kvabench VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text()).group(1)
    assert kvabench.__version__ == cmake == importlib.metadata.version("kvabench")
    assert console("--version").stdout == kvabench_cli.run("--version").stdout == \
        f"kvabench {cmake} (testcase format 1)\n"


@pytest.mark.parametrize("args", [["archs"], ["faults"], ["--help"], ["bogus"], ["run", "--arch", "nope"]])
def test_console_command_is_the_cli(kvabench_bin, args):
    ours, theirs = console(*args), kvabench_cli.run(*args)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)


def test_console_run_matches_the_binary_and_the_api(kvabench_bin, tmp_path):
    case = SF / "recycle_accessed_shootdown.yaml"
    proc = console("run", case, "--inject", "drop-ipi", "--json", tmp_path / "console.json")
    _, binary = kvabench_cli.run_json(tmp_path, case, "--inject", "drop-ipi")
    assert proc.returncode == 1 and "FAIL recycle_accessed_shootdown" in proc.stdout
    api = kvabench.run(case, inject=["drop-ipi"]).to_json()

    def without_times(doc):
        for row in doc["results"] + doc["summary"]:
            row.pop("wall_ms")
        return doc

    assert without_times(json.loads((tmp_path / "console.json").read_text())) == without_times(binary) == \
        without_times(api)


def test_python_dash_m_is_the_console_command():
    proc = subprocess.run([sys.executable, "-m", "kvabench", "archs"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout == console("archs").stdout


def test_the_binary_says_where_sweeps_live(kvabench_bin):
    proc = kvabench_cli.run("sweep", "testcases/")
    assert proc.returncode == 2
    assert "sweeps (local processes or Dask) are a command of the Python package's kvabench" in proc.stderr
    assert "kvabench sweep" in kvabench_cli.run("--help").stdout


def test_typed_package():
    assert (PACKAGE_DIR / "py.typed").exists()
    assert (PACKAGE_DIR / "_core.pyi").read_text() == (REPO / "python" / "kvabench" / "_core.pyi").read_text()


def test_core_stub_is_current():
    gen = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_core_stub.py")], capture_output=True,
                         text=True, check=True).stdout
    committed = (REPO / "python" / "kvabench" / "_core.pyi").read_text()
    assert gen == committed, "python/kvabench/_core.pyi is out of date: run `make stubs` and commit it"


def test_pyproject_builds_outside_the_checkout_and_declares_extras():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "build-dir" not in project["tool"]["scikit-build"], "pip would leave a CMake tree in the checkout"
    assert project["project"]["scripts"] == {"kvabench": "kvabench.cli:main"}
    extras = project["project"]["optional-dependencies"]
    assert {"test", "notebook", "sweep"} <= set(extras)
    pinned = {re.split(r"[=<>\[]", line)[0].lower() for line in (REPO / "scripts" / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    for extra in ("test", "notebook", "sweep"):
        for req in extras[extra]:
            name = re.split(r"[=<>\[ ]", req)[0].lower()
            assert name in pinned or name == "jupyter", f"{req} (extra {extra}) is not pinned in scripts/requirements.txt"


@pytest.mark.skipif(os.environ.get("KVABENCH_SLOW_TESTS") != "1", reason="set KVABENCH_SLOW_TESTS=1 (builds twice)")
@pytest.mark.parametrize("editable", [False, True], ids=["pip-install", "pip-install-e"])
def test_fresh_venv_install(tmp_path, editable):
    before = sorted(p.name for p in REPO.iterdir())
    build_before = sorted(p.name for p in (REPO / "build").iterdir()) if (REPO / "build").exists() else []
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + (["-e", str(REPO)] if editable else [str(REPO)]), check=True, timeout=3000,
                   env={**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": "2"})
    py = str(venv / "bin" / "python")
    out = subprocess.run([py, "-c", "import kvabench; m = kvabench.Machine('ref'); print(kvabench.__version__, m.cpus)"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.split() == [kvabench.__version__, "2"], out.stderr
    cli = subprocess.run([str(venv / "bin" / "kvabench"), "archs"], capture_output=True, text=True)
    assert cli.returncode == 0 and "ref" in cli.stdout
    assert sorted(p.name for p in REPO.iterdir()) == before, "pip left files in the checkout"
    build_after = sorted(p.name for p in (REPO / "build").iterdir()) if (REPO / "build").exists() else []
    assert build_after == build_before
