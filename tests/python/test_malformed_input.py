"""Bad testcase files are input errors: exit status 2 and `file:line:column: message`, found
before anything runs, never a crash."""
import re
import textwrap

import pytest

import kvabench_cli

GOOD_HEAD = """\
format: 1
name: t
description: d
machine: {cpus: 2, memory: 16M, nsfbufs: 2}
threads:
  - {name: t0, cpu: 0}
"""

CASES = {
    # name: (file text, expected line, message fragment)
    "syntax_error": (GOOD_HEAD + "steps:\n  - page_alloc: {as: p1\n  - read: x\n", None, ""),
    "unknown_op": (GOOD_HEAD + "steps:\n  - page_alloc: {as: p1}\n  - sf_buf_allocate: {page: p1}\n",
                   9, "unknown op 'sf_buf_allocate'"),
    "unknown_field": (GOOD_HEAD + "steps:\n  - page_alloc: {as: p1, colour: red}\n", 8,
                      "unknown field 'colour'"),
    "wrong_type": (GOOD_HEAD.replace("cpus: 2", "cpus: two") + "steps: []\n", 4,
                   "expected an integer"),
    "undefined_page": (GOOD_HEAD + "steps:\n  - sf_buf_alloc: {thread: t0, page: nope, as: s1}\n", 8,
                       "undefined page 'nope'"),
    "undefined_sf_buf": (GOOD_HEAD + "steps:\n  - sf_buf_free: s9\n", 8, "undefined sf_buf 's9'"),
    "undefined_thread": (GOOD_HEAD + "steps:\n  - page_alloc: p1\n  - sf_buf_alloc: {thread: t7, page: p1, as: s}\n",
                         9, "undefined thread 't7'"),
    "cpu_out_of_range": (GOOD_HEAD + "steps:\n  - page_alloc: p1\n  - kva_reserve: v\n  - read: {cpu: 2, va: v}\n",
                         10, "out of range"),
    "thread_cpu_out_of_range": (GOOD_HEAD.replace("cpu: 0}", "cpu: 5}") + "steps: []\n", 6, "out of range"),
    "too_many_cpus": (GOOD_HEAD.replace("cpus: 2", "cpus: 65") + "steps: []\n", 4, "out of range"),
    "too_much_memory": (GOOD_HEAD.replace("16M", "2G") + "steps: []\n", 4, "exceeds the limit"),
    "bad_flag": (GOOD_HEAD + "steps:\n  - page_alloc: p1\n  - sf_buf_alloc: {thread: t0, page: p1, as: s, flags: [SOON]}\n",
                 9, "unknown flag 'SOON'"),
    "bad_format": (GOOD_HEAD.replace("format: 1", "format: 7") + "steps: []\n", 1, "format"),
    "missing_steps": (GOOD_HEAD, 1, "missing required field 'steps'"),
    "unknown_counter": (GOOD_HEAD + "steps: []\nexpect: {sf_buf: {hashhits: 1}}\n", 8,
                        "unknown counter 'sf_buf.hashhits'"),
    "duplicate_name": (GOOD_HEAD + "steps:\n  - page_alloc: p1\n  - page_alloc: p1\n", 9, "already defined"),
    "bad_comparison": (GOOD_HEAD + "steps: []\nexpect: {pmap: {ipis: '>=x'}}\n", 8, "comparison"),
    "forward_label_missing": (GOOD_HEAD + "steps:\n  - page_alloc: [p1]\n"
                              "  - sf_buf_alloc: {thread: t0, page: p1, as: s, expect: blocks, expect_woken_by: later}\n",
                              9, "undefined step label 'later'"),
    "not_a_mapping": ("- just\n- a list\n", 1, "mapping"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_testcase_is_input_error(case, kvabench_bin, tmp_path):
    text, line, fragment = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    proc = kvabench_cli.run("run", path)
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    m = re.search(re.escape(str(path)) + r":(\d+):(\d+): (.*)", proc.stderr)
    assert m, f"no file:line:col in stderr: {proc.stderr!r}"
    if line is not None:
        assert int(m.group(1)) == line, proc.stderr
    assert fragment in m.group(3), proc.stderr
    assert "passed" not in proc.stdout  # nothing ran


def test_one_bad_file_stops_the_whole_run(kvabench_bin, tmp_path):
    (tmp_path / "a_good.yaml").write_text(GOOD_HEAD + "steps:\n  - page_alloc: p1\n")
    (tmp_path / "b_bad.yaml").write_text(GOOD_HEAD + "steps:\n  - teleport: {}\n")
    proc = kvabench_cli.run("run", tmp_path)
    assert proc.returncode == 2
    assert "b_bad.yaml:8:5: unknown op 'teleport'" in proc.stderr
    assert proc.stdout == ""


def test_missing_path(kvabench_bin, tmp_path):
    proc = kvabench_cli.run("run", tmp_path / "nowhere.yaml")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


@pytest.mark.parametrize("args", [["run", "--arch", "vax"], ["run", "--inject", "bit-rot"],
                                  ["run", "--seed", "x"], ["run", "-j", "0"], ["frobnicate"],
                                  ["run", "--bogus"], []])
def test_usage_errors(args, kvabench_bin):
    proc = kvabench_cli.run(*args)
    assert proc.returncode == 2, (args, proc.stderr)
    assert "usage:" in proc.stderr


def test_duplicate_testcase_names(kvabench_bin, tmp_path):
    for f in ("x.yaml", "y.yaml"):
        (tmp_path / f).write_text(GOOD_HEAD + "steps: []\n")
    proc = kvabench_cli.run("run", tmp_path)
    assert proc.returncode == 2
    assert "also used by" in proc.stderr


def test_mutated_library_files_never_crash(kvabench_bin, tmp_path):
    """Randomly damaged copies of library testcases: every outcome is a clean exit status
    (0/1 when the damage still parses, 2 with a positioned message otherwise)."""
    import random

    rng = random.Random(1234)
    files = sorted((kvabench_cli.LIBRARY / "sf_buf").glob("*.yaml"))
    junk = ["0", "-1", "99999999999", "null", "[]", "{}", "x", '"', ":", "- ", "\t", "p1", "s1",
            "blocks", '">=1"', "{pool: 1}", "&a", "*a", "2G"]
    for i in range(40):
        text = rng.choice(files).read_text()
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(text))
            if rng.random() < 0.5:
                text = text[:pos] + rng.choice(junk) + text[pos:]
            else:
                text = text[:pos] + text[pos + rng.randint(1, 12):]
        path = tmp_path / f"m{i}.yaml"
        path.write_text(text)
        proc = kvabench_cli.run("run", path, "--arch", "i386,amd64")
        assert proc.returncode in (0, 1, 2), (text, proc.returncode, proc.stderr)
        if proc.returncode == 2:
            assert re.search(re.escape(str(path)) + r"(:\d+:\d+)?: ", proc.stderr), proc.stderr
        assert "internal error" not in proc.stdout, proc.stdout
