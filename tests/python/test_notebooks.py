"""The notebooks in examples/ run headless (nbclient, a fresh kernel each) and compute what they
claim: each ends with a cell tagged `check` that prints its results as JSON, which these tests
hold against the API and against what the protocols imply."""
import json

import pytest

import kvabench
import kvabench_cli

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

EXAMPLES = kvabench_cli.REPO / "examples"


def execute(name):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    check = next(c for c in nb.cells if "check" in c.metadata.get("tags", []))
    text = "".join(o.get("text", "") for o in check.outputs if o.get("name") == "stdout")
    return nb, json.loads(text)


def test_every_notebook_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.ipynb")) == [
        "01_mapping_tour.ipynb", "02_sf_buf_pool_under_pressure.ipynb", "03_invalidation_costs.ipynb"]
    for path in EXAMPLES.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name}: commit it without outputs"


def test_mapping_tour_covers_every_arch():
    nb, check = execute("01_mapping_tour.ipynb")
    assert check["archs"] == kvabench.archs().names()
    for row in check["rows"]:
        with kvabench.Machine(row["arch"]) as m:
            assert row["levels"] == len(m.capabilities().table_reach) + 1
            assert row["va_bits"] == m.va_format[1]
            assert row["direct_map"] == m.has_direct_map
            entry_names = row["entries"].split("/")
            assert len(entry_names) == row["levels"]
        assert row["walk_pa_is_page"] and row["remapped_rows"] == 1
        assert row["aliases"] == 2  # the reservation, and the sf_buf (a direct-map address where there is one)
        assert row["cpu1_reads_old_page"] and row["cpu1_stale_entry"] and row["rule"]
    html = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("walk of" in o["data"]["text/html"] for o in html), "the walk renders as HTML"
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def test_sf_buf_pool_under_pressure_step_by_step():
    _, check = execute("02_sf_buf_pool_under_pressure.ipynb")
    with kvabench.Machine(check["arch"]) as m:
        assert m.mode == "pool"
    assert "t1 (sfbufa)" in check["deadlock"]
    assert check["nowait_is_null"] and check["catch_result"] is None
    assert check["sf_allocfail"] == 2  # NOWAIT, and CATCH interrupted by the signal
    assert check["woken"] == 1 and check["recycled_same_kva"]
    assert "recycled for another page" in check["stale_handle"]
    assert (check["skipped_when_unaccessed"], check["shootdowns_when_unaccessed"]) == (1, 0)
    assert (check["skipped_when_accessed"], check["shootdowns_when_accessed"]) == (0, 1)
    assert check["buggy_read"] == "aa"  # the old page's byte, through the recycled slot
    assert check["buggy_oracles"] == ["architectural", "observed"]


def test_invalidation_costs_across_archs():
    _, check = execute("03_invalidation_costs.ipynb")
    cpus = 4
    rows = check["rows"]
    assert {r["arch"] for r in rows} == set(kvabench.archs().names())
    for r in rows:
        if r["mode"] == "dmap":  # the sf_buf is the direct-map address: no mapping work at all
            assert (r["local_invalidations"], r["ipis"], r["shootdowns"], r["remaps"]) == (0, 0, 0, 0)
        elif r["variant"] == "shared":  # every CPU may hold the old mapping: local + IPI to each other
            assert (r["remaps"], r["shootdowns"], r["ipis"], r["local_invalidations"]) == (1, 1, cpus - 1, cpus)
        else:  # CPUPRIVATE: only the allocating CPU
            assert (r["remaps"], r["shootdowns"], r["ipis"], r["local_invalidations"]) == (1, 0, 0, 1)
    emulated = {a.name for a in kvabench.archs() if a.emulated}
    assert all(r["guest_instructions"] > 0 for r in rows if r["arch"] in emulated)
    # sendfile of a file cached in full: 48 pages through 8 slots, checksummed on CPU 1
    shared = {r["arch"]: r for r in rows if r["variant"] == "shared"}
    sent = check["sendfile"]
    assert [r["arch"] for r in sent] == kvabench.archs().names()
    for r in sent:
        assert (r["bytes"], r["pages"], r["mismatch"]) == (48 * kvabench.PAGE_SIZE, 48, None)
        assert r["checksum_ok"], "the guest's checksum is the file's Adler-32 on every arch"
        if r["mode"] == "dmap":
            assert (r["remaps"], r["local_invalidations"], r["ipis"], r["shootdowns"]) == (0, 0, 0, 0)
        else:  # every page recycles a slot shared with the checksum CPU: an sf_buf cycle's cost
            s = shared[r["arch"]]
            assert (r["remaps"], r["shootdowns"], r["ipis"], r["local_invalidations"]) == \
                (1, 1, cpus - 1, cpus) == (s["remaps"], s["shootdowns"], s["ipis"], s["local_invalidations"])
        assert r["guest_instructions"] > 0 if r["arch"] in emulated else r["guest_instructions"] == 0
    assert check["library_passed"] and check["library_jobs"] == len(kvabench.list_jobs(kvabench_cli.LIBRARY / "sf_buf"))
