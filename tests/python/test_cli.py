"""The CLI's listings, exit statuses, machine-readable outputs and determinism."""
import json
import os
import xml.etree.ElementTree as ET

import pytest

import kvabench_cli

SF = kvabench_cli.LIBRARY / "sf_buf"


def test_archs_listing(kvabench_bin):
    proc = kvabench_cli.run("archs")
    assert proc.returncode == 0
    names = kvabench_cli.listing_names("archs")
    for arch in ("amd64", "i386", "i386-pae", "ref", "ref-dmap"):
        assert arch in names
    # name first, then a description
    assert all(len(line.split(None, 1)) == 2 for line in proc.stdout.splitlines())


def test_faults_listing(kvabench_bin):
    names = kvabench_cli.listing_names("faults")
    for fault in ("drop-ipi", "skip-local-inval", "keep-cpumask", "cpuprivate-sticky", "skip-abit-check"):
        assert fault in names
    assert len(names) == len(set(names))


def test_help_and_version(kvabench_bin):
    help_ = kvabench_cli.run("--help")
    assert help_.returncode == 0 and "kvabench run" in help_.stdout and "--inject" in help_.stdout
    version = kvabench_cli.run("--version")
    assert version.returncode == 0 and version.stdout.startswith("kvabench ")


def test_default_archs_are_the_emulated_set(kvabench_bin):
    jobs = kvabench_cli.list_jobs(SF / "hash_hit_refcount.yaml")
    assert sorted(arch for _, arch, _, _ in jobs) == kvabench_cli.default_archs()
    assert {"amd64", "i386", "i386-pae"} <= set(kvabench_cli.default_archs())


def test_arch_option_restricts(kvabench_bin):
    jobs = kvabench_cli.list_jobs(SF / "hash_hit_refcount.yaml", "--arch", "ref,ref-dmap")
    assert sorted(arch for _, arch, _, _ in jobs) == ["ref", "ref-dmap"]


def test_library_size_and_coverage(kvabench_bin):
    jobs = kvabench_cli.list_jobs(kvabench_cli.LIBRARY)
    per_case, files = {}, {}
    for name, arch, _, path in jobs:
        per_case.setdefault(name, set()).add(arch)
        files[name] = path
    assert len(per_case) >= 30
    for name, archs in per_case.items():
        # A testcase with `requires:` runs only where the arch has those features.
        if "\nrequires:" in open(files[name]).read():
            assert archs, name
        else:
            assert set(kvabench_cli.default_archs()) <= archs, name


def test_json_and_junit_outputs(kvabench_bin, tmp_path):
    junit = tmp_path / "r.xml"
    proc, data = kvabench_cli.run_json(tmp_path, SF / "recycle_accessed_shootdown.yaml",
                                       SF / "sleep_until_free_wakes.yaml", "--junit", junit)
    assert proc.returncode == 0, proc.stdout
    assert data["format"] == 1 and data["seed"] == 1 and data["injected"] == []
    assert len(data["results"]) == 2 * len(kvabench_cli.default_archs())
    modes = {r["arch"]: r["mode"] for r in data["results"]}
    assert {a: modes[a] for a in ("amd64", "i386", "i386-pae")} == {"amd64": "dmap", "i386": "pool", "i386-pae": "pool"}
    r = next(r for r in data["results"] if r["arch"] == "i386" and r["testcase"] == "recycle_accessed_shootdown")
    assert r["status"] == "pass" and r["failures"] == []
    assert r["counters"]["sf_buf.remaps"] == 1 and r["counters"]["pmap.ipis"] == 2
    assert r["counters"]["pmap.guest_instructions"] > 0
    rows = {row["arch"]: row for row in data["summary"]}
    assert rows["i386"]["passed"] == 2 and rows["i386"]["failed"] == 0
    assert rows["amd64"]["ipis"] == 0
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert sorted(suites) == kvabench_cli.default_archs()
    assert all(s.get("tests") == "2" and s.get("failures") == "0" for s in suites.values())


FAILING = """\
format: 1
name: deliberately_wrong
description: expects a hash hit where there is none, and the wrong bytes
machine: {cpus: 2, nsfbufs: 2}
threads:
  - {name: t0, cpu: 0}
steps:
  - page_alloc: {as: [p1, p2], fill: 0x33}
  - sf_buf_alloc: {thread: t0, page: p1, as: s1}
  - sf_buf_alloc: {thread: t0, page: p2, as: s2, expect: {same_as: s1}}
  - read: {cpu: 1, sf: s2, len: 4, expect: {bytes: "00 00 00 00"}}
expect:
  sf_buf: {hash_hits: 5}
"""


def test_failures_exit_1_and_are_described(kvabench_bin, tmp_path):
    path = tmp_path / "wrong.yaml"
    path.write_text(FAILING)
    junit = tmp_path / "j.xml"
    proc, data = kvabench_cli.run_json(tmp_path, path, "--arch", "i386", "--junit", junit)
    assert proc.returncode == 1
    failures = data["results"][0]["failures"]
    oracles = [f["oracle"] for f in failures]
    assert oracles.count("unexpected value") == 2 and "counter" in oracles
    read = next(f for f in failures if f["step"] == "#4 read")
    assert read["cpu"] == 1 and "va" in read
    assert read["expected"] == "00 00 00 00" and read["observed"] == "33 33 33 33"
    assert "FAIL deliberately_wrong [i386, seed 1] step '#4 read': unexpected value" in proc.stdout
    assert ET.parse(junit).getroot().find(".//failure") is not None


def test_parallel_matches_serial(kvabench_bin, tmp_path):
    def outcome(data):
        return [(r["testcase"], r["arch"], r["seed"], r["status"], r["counters"],
                 [(f["step"], f["oracle"], f["message"]) for f in r["failures"]]) for r in data["results"]]

    serial, d1 = kvabench_cli.run_json(tmp_path, kvabench_cli.LIBRARY, "-j", "1", "--inject", "drop-ipi", name="1.json")
    parallel, d2 = kvabench_cli.run_json(tmp_path, kvabench_cli.LIBRARY, "-j", "2", "--inject", "drop-ipi", name="2.json")
    assert serial.returncode == parallel.returncode == 1
    assert outcome(d1) == outcome(d2)
    assert [(s["arch"], s["passed"], s["failed"]) for s in d1["summary"]] == \
           [(s["arch"], s["passed"], s["failed"]) for s in d2["summary"]]


def test_seeds_are_reproducible_and_matter(kvabench_bin, tmp_path):
    race = SF / "race_four_cpus_pool_of_two.yaml"
    _, a = kvabench_cli.run_json(tmp_path, race, "--arch", "i386", "--seed", "5", name="a.json")
    _, b = kvabench_cli.run_json(tmp_path, race, "--arch", "i386", "--seed", "5", name="b.json")
    _, c = kvabench_cli.run_json(tmp_path, race, "--arch", "i386", "--seed", "500", name="c.json")
    counters = lambda d: [r["counters"] for r in d["results"]]
    assert [r["seed"] for r in a["results"]] == list(range(5, 13))  # seeds: 8
    assert counters(a) == counters(b)
    assert counters(a) != counters(c)


def test_no_progress_output_when_not_a_tty(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "arch" in proc.stdout and "passed" in proc.stdout


def test_summary_table_rows(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "pmap_targeted_shootdown.yaml")
    lines = proc.stdout.splitlines()
    header = next(l for l in lines if l.startswith("arch"))
    for column in ("passed", "failed", "stale-obs", "stale-model", "l-inval", "ipis", "guest-insns", "wall-ms"):
        assert column in header
    rows = {l.split()[0]: l.split() for l in lines[lines.index(header) + 1:] if l.split() and l.split()[0] in ("amd64", "i386", "i386-pae")}
    assert set(rows) == {"amd64", "i386", "i386-pae"}
    assert all(r[6] == "3" and r[7] == "2(+0)" for r in rows.values())  # l-inval, ipis


def test_verbose_logs_steps(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--arch", "i386", "-v")
    assert proc.returncode == 0
    assert "#2 sf_buf_alloc" in proc.stderr


def test_trace_shows_guest_code(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--arch", "i386", "--trace")
    assert proc.returncode == 0
    assert len(proc.stderr.splitlines()) > 10


def test_summary_reports_the_buffer_cache(kvabench_bin, tmp_path):
    buf = kvabench_cli.LIBRARY / "buf"
    proc, data = kvabench_cli.run_json(tmp_path, buf / "bread_reads_device_then_hits_cache.yaml",
                                       buf / "bogus_page_protects_a_dirty_page.yaml")
    assert proc.returncode == 0, proc.stdout
    assert "buf-io" in proc.stdout and "kva(map/lazy)" in proc.stdout and "lost" in proc.stdout
    for row in data["summary"]:
        # one read in the first testcase; in the second, the read that makes the stored page valid,
        # then fsync's read around the dirty page and its write
        assert row["buf_ios"] == 4 and row["bogus_pages"] == 1 and row["lost_writes"] == 0
        assert row["kva_maps"] >= 1 and row["kva_lazy_unmaps"] == 0


def _seeded(name, seeds, read_expect):
    return f"""\
format: 1
name: {name}
description: one page read back through an sf_buf, {seeds} seeds
machine: {{cpus: 2, nsfbufs: 2}}
threads:
  - {{name: t0, cpu: 0}}
seeds: {seeds}
steps:
  - page_alloc: {{as: p1, fill: 0x5a}}
  - sf_buf_alloc: {{thread: t0, page: p1, as: s1}}
  - read: {{cpu: 1, sf: s1, len: 2, expect: {{bytes: "{read_expect}"}}}}
"""


def test_summary_columns_count_jobs(kvabench_bin, tmp_path):
    """docs/testcases.md: passed / failed are jobs (testcase x seed on that arch), and they add
    up to the closing line's totals."""
    (tmp_path / "good.yaml").write_text(_seeded("good", 3, "5a 5a"))
    (tmp_path / "bad.yaml").write_text(_seeded("bad", 2, "00 00"))
    junit = tmp_path / "r.xml"
    proc, data = kvabench_cli.run_json(tmp_path, tmp_path / "good.yaml", tmp_path / "bad.yaml",
                                       "--arch", "ref,ref-dmap", "--junit", junit)
    assert proc.returncode == 1
    for row in data["summary"]:
        assert (row["passed"], row["failed"], row["jobs"]) == (3, 2, 5), row
    table = {l.split()[0]: l.split() for l in proc.stdout.splitlines() if l.split()[:1] in (["ref"], ["ref-dmap"])}
    assert {arch: cols[2:4] for arch, cols in table.items()} == {"ref": ["3", "2"], "ref-dmap": ["3", "2"]}
    assert "6 of 10 jobs passed" in proc.stdout
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().iter("testsuite")}
    assert all((s.get("tests"), s.get("failures")) == ("5", "2") for s in suites.values())


@pytest.mark.parametrize("option", ["--json", "--junit"])
def test_unwritable_report_path_fails_before_running(kvabench_bin, tmp_path, option):
    for target in (tmp_path / "no" / "such" / "dir" / "r.out", tmp_path):
        proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", option, target)
        assert proc.returncode == 2, proc.stdout
        assert f"{option}: " in proc.stderr and str(target) in proc.stderr
        assert proc.stdout == ""  # no job ran, no summary


def test_json_and_junit_must_differ(kvabench_bin, tmp_path):
    out = tmp_path / "same"
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--json", out, "--junit", out)
    assert proc.returncode == 2 and "same file" in proc.stderr


def test_reports_are_utf8_and_independent_of_jobs_for_any_file_name(kvabench_bin, tmp_path):
    """A file name that is not UTF-8 (Linux allows it) comes out as U+FFFD in both reports,
    the same with -j 1 and -j 2 (results cross a pipe with -j 2)."""
    name = os.fsdecode(b"odd\xff\xfename.yaml")
    (tmp_path / name).write_text((SF / "hash_hit_refcount.yaml").read_text())
    reports = {}
    for jobs in ("1", "2"):
        junit = tmp_path / f"r{jobs}.xml"
        proc, data = kvabench_cli.run_json(tmp_path, tmp_path / name, "-j", jobs, "--junit", junit,
                                           name=f"r{jobs}.json")
        assert proc.returncode == 0, proc.stdout
        assert data["results"][0]["file"].endswith("odd\ufffd\ufffdname.yaml")
        for r in data["results"]:
            r.pop("wall_ms")
        reports[jobs] = (data["results"], ET.parse(junit).getroot().find(".//testcase").get("file"))
    assert reports["1"] == reports["2"]


def test_a_dead_worker_is_a_crash_not_a_failure(kvabench_bin, tmp_path):
    """A -j worker that dies (here: killed) loses its jobs: they are reported as 'worker
    crashed' with how it died, and the exit status is 3, not the testcases' 1."""
    import signal
    import subprocess
    import time

    path = tmp_path / "slow.yaml"
    path.write_text(_seeded("slow", 20, "5a 5a").replace(
        "  - read: {cpu: 1, sf: s1, len: 2",
        "  - read: {cpu: 1, sf: s1, len: 2, expect: {pattern: 0x5a}}\n" * 4000 + "  - read: {cpu: 1, sf: s1, len: 2"))
    proc = subprocess.Popen([str(kvabench_bin), "run", path, "--arch", "ref", "-j", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children = f"/proc/{proc.pid}/task/{proc.pid}/children"
    deadline = time.monotonic() + 30
    pids = []
    while not pids and time.monotonic() < deadline:
        with open(children) as f:
            pids = [int(p) for p in f.read().split()]
        time.sleep(0.01)
    assert pids, "no worker process appeared"
    os.kill(pids[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out[-2000:]
    assert "worker crashed: the worker process running it exited early (killed by signal 9)" in out
    assert "job(s) lost with a worker process that died" in err
