"""CMake must refuse a Unicorn older than 2.1 or a Capstone older than 5, saying how to fix it.

The fake packages below stand in for old wheels: a directory with the C headers' version
macros and a lib/, reported by a fake Python that KVA_PYTHON points at.
"""
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fake_wheel(root: Path, pkg: str, header: str, macros: dict) -> Path:
    d = root / pkg
    (d / "include" / pkg).mkdir(parents=True)
    (d / "lib").mkdir()
    (d / "lib" / f"lib{pkg}.so").write_bytes(b"")
    body = "".join(f"#define {k} {v}\n" for k, v in macros.items())
    (d / "include" / pkg / header).write_text(body)
    return d


def fake_python(tmp: Path, dirs: dict) -> Path:
    """A script that answers `python -c "import PKG, os; print(...)"` with the fake directory."""
    script = tmp / "python"
    cases = "\n".join(f'*"import {pkg},"*) echo "{d}/__init__.py" | xargs dirname ;;'
                      for pkg, d in dirs.items())
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        case "$2" in
        {cases}
        *) exit 1 ;;
        esac
        """))
    script.chmod(0o755)
    return script


def configure(tmp: Path, python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["cmake", "-S", str(REPO), "-B", str(tmp / "build"), f"-DKVA_PYTHON={python}"],
        capture_output=True, text=True, timeout=300)


NEW_UNICORN = {"UC_API_MAJOR": 2, "UC_API_MINOR": 1, "UC_API_PATCH": 4}
NEW_CAPSTONE = {"CS_API_MAJOR": 5, "CS_API_MINOR": 0}

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not on PATH")


@pytest.mark.parametrize("unicorn,capstone,needle", [
    ({"UC_API_MAJOR": 2, "UC_API_MINOR": 0, "UC_API_PATCH": 1}, NEW_CAPSTONE, "Unicorn 2.0.1 is too old"),
    (NEW_UNICORN, {"CS_API_MAJOR": 4, "CS_API_MINOR": 0}, "Capstone 4.x is too old"),
])
def test_old_version_is_refused_with_a_fix(tmp_path, unicorn, capstone, needle):
    dirs = {"unicorn": fake_wheel(tmp_path, "unicorn", "unicorn.h", unicorn),
            "capstone": fake_wheel(tmp_path, "capstone", "capstone.h", capstone)}
    r = configure(tmp_path, fake_python(tmp_path, dirs))
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert needle in out
    assert "make deps" in out


def test_missing_package_is_refused_with_a_fix(tmp_path):
    r = configure(tmp_path, fake_python(tmp_path, {}))
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "'unicorn'" in out and "make deps" in out
