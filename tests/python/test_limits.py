"""Bounded resources: per-job time limit, per-job trace size, -j lowered to fit memory."""
import textwrap

import kvabench_cli

SF = kvabench_cli.LIBRARY / "sf_buf"


def _many_reads(tmp_path, n):
    path = tmp_path / "many_reads.yaml"
    path.write_text(textwrap.dedent("""\
        format: 1
        name: many_reads
        description: one sf_buf read many times
        machine: {cpus: 2}
        threads: [{name: t0, cpu: 0}]
        steps:
          - page_alloc: {as: p, fill: 0x42}
          - sf_buf_alloc: {thread: t0, page: p, as: s}
        """) + "  - read: {cpu: 1, sf: s, len: 4, expect: {pattern: 0x42}}\n" * n)
    return path


def test_job_over_its_time_limit_fails_with_a_clear_message(kvabench_bin, tmp_path):
    path = _many_reads(tmp_path, 3000)
    for jobs in ("1", "2"):
        proc, data = kvabench_cli.run_json(tmp_path, path, "--arch", "ref,ref-dmap", "--job-timeout", "0.001",
                                           "-j", jobs)
        assert proc.returncode == 1
        for r in data["results"]:
            assert [f["oracle"] for f in r["failures"]] == ["time limit"], r["failures"]
            assert "--job-timeout" in r["failures"][0]["message"]
            assert r["failures"][0]["expected"] == "at most 0.001 s"
        assert "time limit: the job ran past its time limit" in proc.stdout


def test_default_time_limit_lets_the_same_job_pass(kvabench_bin, tmp_path):
    proc = kvabench_cli.run("run", _many_reads(tmp_path, 3000), "--arch", "ref,ref-dmap")
    assert proc.returncode == 0, proc.stdout


def test_trace_output_is_capped_per_job(kvabench_bin):
    full = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--arch", "i386", "--trace", "-v")
    assert full.returncode == 0 and len(full.stderr) > 4000
    capped = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", "--arch", "i386", "--trace", "-v",
                              "--trace-limit", "2K")
    assert capped.returncode == 0
    note = "[kvabench: output of this job truncated at 2048 bytes (--trace-limit)]"
    assert capped.stderr.startswith(full.stderr[:2048])
    assert capped.stderr[2048:].strip() == note


def test_jobs_lowered_to_fit_the_memory_limit(kvabench_bin, tmp_path):
    args = ["run", SF / "hash_hit_refcount.yaml", SF / "race_four_cpus_pool_of_two.yaml", "-j", "4"]
    tight, d_tight = kvabench_cli.run_json(tmp_path, *args[1:], "--mem-limit", "300M", name="t.json")
    assert tight.returncode == 0
    # race_four_cpus_pool_of_two: 4 emulated vCPUs and 16M of RAM, 32M per process.
    assert "kvabench: note: -j 4 lowered to 1: a job may need up to 176 MiB (testcase " \
           "race_four_cpus_pool_of_two" in tight.stderr
    roomy, d_roomy = kvabench_cli.run_json(tmp_path, *args[1:], "--mem-limit", "1G", name="r.json")
    assert roomy.returncode == 0 and "lowered" not in roomy.stderr
    assert [r["counters"] for r in d_tight["results"]] == [r["counters"] for r in d_roomy["results"]]


def test_limit_options_reject_bad_values(kvabench_bin):
    for args in (["--job-timeout", "soon"], ["--job-timeout", "-1"], ["--trace-limit", "12"],
                 ["--mem-limit", "lots"]):
        proc = kvabench_cli.run("run", SF / "hash_hit_refcount.yaml", *args)
        assert proc.returncode == 2 and args[0] in proc.stderr, args
