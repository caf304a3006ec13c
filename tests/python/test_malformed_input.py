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
    # Names are usable only where their defining step surely ran and defined something.
    "defined_only_in_pool": (GOOD_HEAD + "steps:\n  - page_alloc: {as: p1, only: pool}\n"
                             "  - page_fill: {page: p1, fill: 1}\n",
                             9, "'p1' is defined at line 8 by a step that runs only: [pool]; this step also runs on"),
    "defined_only_in_pool_used_in_race": (
        GOOD_HEAD + "  - {name: t1, cpu: 1}\nsteps:\n  - page_alloc: {as: p1, only: pool}\n  - race:\n"
        "      threads:\n        t0: [{sf_buf_alloc: {page: p1, as: a, only: pool}}]\n"
        "        t1: [{sf_buf_alloc: {page: p1, as: b}}]\n",
        13, "'p1' is defined at line 9"),
    "label_skipped_by_only": (GOOD_HEAD + "steps:\n  - page_alloc: {as: p1, only: dmap, label: here}\n"
                              "  - check: {since: here, counters: {pmap: {ipis: 0}}}\n",
                              9, "'here' is defined at line 8 by a step that runs only: [dmap]"),
    "woken_by_label_skipped_by_only": (
        GOOD_HEAD.replace("nsfbufs: 2", "nsfbufs: 1") + "  - {name: t1, cpu: 1}\nsteps:\n"
        "  - page_alloc: [p1, p2]\n  - sf_buf_alloc: {thread: t0, page: p1, as: s1}\n"
        "  - sf_buf_alloc: {thread: t1, page: p2, as: s2, only: pool, expect: blocks, expect_woken_by: freed}\n"
        "  - sf_buf_free: {sf: s1, label: freed, only: i386}\n",
        11, "'freed' is defined at line 12 by a step that runs only: [i386]; this step also runs on i386-pae"),
    "defined_by_step_expecting_an_error": (
        GOOD_HEAD + "steps:\n  - page_alloc: {as: p1, wired: false}\n"
        "  - sf_buf_alloc: {thread: t0, page: p1, as: s1, expect_error: \"not wired\"}\n"
        "  - sf_buf_free: s1\n",
        10, "'s1' is defined by a step that expects an error (line 9)"),
    "page_alloc_out_of_memory_then_used": (
        GOOD_HEAD.replace("16M", "1M") + "steps:\n  - page_alloc: {as: [" + ", ".join(f"p{i}" for i in range(300))
        + "], expect_error: memory}\n  - page_fill: {page: p7, fill: 1}\n",
        9, "'p7' is defined by a step that expects an error (line 8)"),
    # Maps that give a key twice.
    "race_thread_twice": (GOOD_HEAD + "steps:\n  - page_alloc: p\n  - race:\n      threads:\n"
                          "        t0: [{sf_buf_alloc: {page: p, as: x}}]\n        t0: [{sf_buf_free: x}]\n",
                          12, "race.threads: thread 't0' is given twice"),
    "counter_twice": (GOOD_HEAD + "steps: []\nexpect: {sf_buf: {remaps: 1, remaps: 2}}\n", 8,
                      "counter 'remaps' is given twice"),
    "counter_group_twice": (GOOD_HEAD + "steps: []\nexpect: {pmap: {ipis: 1}, pmap: {loads: 0}}\n", 8,
                            "counter group 'pmap' is given twice"),
    "stale_counter_twice": (GOOD_HEAD + "steps: []\nexpect_stale: {observed: 1, observed: 0}\n", 8,
                            "counter 'observed' is given twice"),
    "selector_key_twice": (GOOD_HEAD + "steps: []\nexpect: {sf_buf: {remaps: {pool: 1, pool: 2}}}\n", 8,
                           "selector key 'pool' is given twice"),
    # Files without a testcase in them.
    "empty_file": ("", 1, "empty testcase"),
    "comment_only_file": ("# nothing here\n\n   # still nothing\n", 1, "empty testcase"),
    "two_documents": (GOOD_HEAD + "steps: []\n---\nformat: 1\n", 8, "one YAML document"),
    # yaml-cpp yields empty documents forever for this (found by fuzz_testcase_loader).
    "leading_comma": ("# c\n  ," + GOOD_HEAD + "steps: []\n", 2, "a testcase file is a mapping"),
    "bom_then_junk": ("\ufeff# c\n ,x\n", 2, "a testcase file is a mapping"),
    "too_many_steps": (GOOD_HEAD + "steps:\n  - page_alloc: p\n" + "  - page_fill: {page: p, fill: 1}\n" * 10000,
                       10008, "too many steps: at most 10000"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_testcase_is_input_error(case, kvabench_bin, tmp_path):
    text, line, fragment = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    proc = kvabench_cli.run("run", path, "--arch", "amd64,i386,i386-pae")
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


def test_invalid_utf8_is_a_located_error(kvabench_bin, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD_HEAD.replace("description: d", "description: caf\xe9 cr\xe8me").encode("latin-1")
                     + b"steps: []\n")
    proc = kvabench_cli.run("run", path)
    assert proc.returncode == 2
    assert f"{path}:3:17: invalid UTF-8" in proc.stderr  # the column counts characters


def test_oversized_file_is_refused_before_parsing(kvabench_bin, tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD_HEAD + "steps: []\n" + "# padding\n" * 120000)
    proc = kvabench_cli.run("run", path)
    assert proc.returncode == 2
    assert f"{path}: file is larger than 1048576 bytes" in proc.stderr


def test_name_used_where_its_only_covers_it_is_accepted(kvabench_bin, tmp_path):
    """The other side of the only: rule: uses restricted to where the definition ran load and
    run, on every arch, whether the only: keys are modes or arch names. (Without `archs:`
    the last use would be refused: --arch may pick a direct-map arch other than amd64.)"""
    path = tmp_path / "covered.yaml"
    path.write_text(GOOD_HEAD + textwrap.dedent("""\
        archs: [amd64, i386, i386-pae]
        steps:
          - page_alloc: {as: p1, only: pool, fill: 0x11}
          - page_fill: {page: p1, fill: 0x22, only: [i386, i386-pae]}
          - page_check: {page: p1, only: pool, expect: {pattern: 0x22}}
          - page_alloc: {as: p2, only: [amd64], label: made}
          - check: {since: made, only: dmap, counters: {pmap: {ipis: 0}}}
        """))
    proc, data = kvabench_cli.run_json(tmp_path, path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {r["arch"] for r in data["results"]} == {"amd64", "i386", "i386-pae"}


def test_page_fill_offset_without_len_fills_to_the_end_of_the_page(kvabench_bin, tmp_path):
    path = tmp_path / "fill.yaml"
    path.write_text(GOOD_HEAD + textwrap.dedent("""\
        steps:
          - page_alloc: {as: p, fill: 0x11}
          - page_fill: {page: p, fill: 0x22, offset: 100}
          - page_check: {page: p, offset: 96, len: 8, expect: {bytes: "11 11 11 11 22 22 22 22"}}
          - page_check: {page: p, offset: 4088, len: 8, expect: {pattern: 0x22}}
        """))
    proc = kvabench_cli.run("run", path, "--arch", "ref")
    assert proc.returncode == 0, proc.stdout + proc.stderr
