"""The CLI's listings, exit statuses, machine-readable outputs and determinism."""
import json
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


def test_default_archs_are_the_x86_set(kvabench_bin):
    jobs = kvabench_cli.list_jobs(SF / "hash_hit_refcount.yaml")
    assert sorted(arch for _, arch, _, _ in jobs) == ["amd64", "i386", "i386-pae"]


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
            assert {"amd64", "i386", "i386-pae"} <= archs, name


def test_json_and_junit_outputs(kvabench_bin, tmp_path):
    junit = tmp_path / "r.xml"
    proc, data = kvabench_cli.run_json(tmp_path, SF / "recycle_accessed_shootdown.yaml",
                                       SF / "sleep_until_free_wakes.yaml", "--junit", junit)
    assert proc.returncode == 0, proc.stdout
    assert data["format"] == 1 and data["seed"] == 1 and data["injected"] == []
    assert len(data["results"]) == 6
    modes = {r["arch"]: r["mode"] for r in data["results"]}
    assert modes == {"amd64": "dmap", "i386": "pool", "i386-pae": "pool"}
    r = next(r for r in data["results"] if r["arch"] == "i386" and r["testcase"] == "recycle_accessed_shootdown")
    assert r["status"] == "pass" and r["failures"] == []
    assert r["counters"]["sf_buf.remaps"] == 1 and r["counters"]["pmap.ipis"] == 2
    assert r["counters"]["pmap.guest_instructions"] > 0
    rows = {row["arch"]: row for row in data["summary"]}
    assert rows["i386"]["passed"] == 2 and rows["i386"]["failed"] == 0
    assert rows["amd64"]["ipis"] == 0
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"amd64", "i386", "i386-pae"}
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


# -j and --seed outcomes are checked through the API (test_api_run.py): same runner code.


def test_no_progress_output_when_not_a_tty(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "arch" in proc.stdout and "passed" in proc.stdout


def test_summary_table_rows(kvabench_bin):
    proc = kvabench_cli.run("run", SF / "pmap_targeted_shootdown.yaml")
    lines = proc.stdout.splitlines()
    header = next(l for l in lines if l.startswith("arch"))
    for column in ("passed", "failed", "stale-obs", "stale-arch", "l-inval", "ipis", "guest-insns", "wall-ms"):
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
