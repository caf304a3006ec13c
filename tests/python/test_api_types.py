"""The API's shape: docstrings and real signatures on every public name, consistent reprs,
records with to_dict(), IntFlag flags, tables that render as text, HTML and DataFrames, and
one vocabulary with the YAML testcases."""
import enum
import inspect
import re

import pytest

import kvabench
import kvabench_cli

PUBLIC_CLASSES = [getattr(kvabench, n) for n in kvabench.__all__ if inspect.isclass(getattr(kvabench, n))]
PUBLIC_FUNCTIONS = [getattr(kvabench, n) for n in kvabench.__all__ if inspect.isfunction(getattr(kvabench, n))]


def public_members(cls):
    for name, member in vars(cls).items():
        if name.startswith("_") or isinstance(member, (int, str, tuple)) or name in ("name", "value"):
            continue
        yield name, member


def test_every_public_name_has_a_docstring():
    missing = [n for n in kvabench.__all__ if not n.startswith("_") and not isinstance(getattr(kvabench, n), (int, str))
               and not (getattr(kvabench, n).__doc__ or "").strip()]
    for cls in PUBLIC_CLASSES:
        if issubclass(cls, enum.Enum):
            continue
        for name, member in public_members(cls):
            target = member.fget if isinstance(member, property) else member
            if callable(target) and not (getattr(target, "__doc__", None) or "").strip():
                missing.append(f"{cls.__name__}.{name}")
    assert missing == []


def test_every_public_callable_has_a_signature():
    for fn in PUBLIC_FUNCTIONS:
        inspect.signature(fn)
    checked = 0
    for cls in PUBLIC_CLASSES:
        for name, member in public_members(cls):
            if inspect.isfunction(member):
                params = inspect.signature(member).parameters
                assert list(params)[:1] in (["self"], ["cls"]) or isinstance(vars(cls)[name], staticmethod), name
                checked += 1
    assert checked > 60
    sig = inspect.signature(kvabench.Machine)
    assert list(sig.parameters) == ["arch", "cpus", "memory", "nsfbufs", "seed", "inject", "trace", "exec_mode",
                                    "buf", "device", "ad", "bbm"]
    assert sig.parameters["cpus"].default == 2 and sig.parameters["memory"].default == "16M"


def test_flags_are_int_flags():
    assert issubclass(kvabench.SfBufFlags, enum.IntFlag) and issubclass(kvabench.PteFlags, enum.IntFlag)
    assert kvabench.SfBufFlags.NOWAIT | kvabench.SfBufFlags.CATCH == 5


@pytest.fixture
def machine():
    with kvabench.Machine(kvabench.archs().where(emulated=True)[0].name, cpus=2) as m:
        yield m


def test_reprs_name_the_arch_and_key_fields(machine):
    arch = machine.arch
    assert re.fullmatch(rf"<Machine {arch} cpus=2 memory=16M (pool nsfbufs=64|dmap) seed=1>", repr(machine))
    page = machine.page_alloc()
    assert re.fullmatch(rf"<Page \d+ pa=0x[0-9a-f]+ wired=1 \({arch}\)>", repr(page))
    td = machine.thread("td0", cpu=1)
    assert repr(td) == f"<Thread td0 tid={td.tid} cpu=1 pinned idle ({arch})>"
    sf = machine.sf_buf_alloc(td, page)
    assert re.fullmatch(rf"<SfBuf \S+ kva=0x[0-9a-f]+ page={page.index} refs=1 cpumask=\{{[0-9,]*\}} \({arch}\)>", repr(sf))
    va = machine.kva_alloc()
    machine.kenter(va, page)
    assert re.fullmatch(rf"PteState\(va={va:#x}, pa={page.pa:#x}, flags=VALID\|WRITABLE(\|[A-Z]+)*\)", repr(machine.pte(va)))
    assert repr(kvabench.Machine("ref", memory=3 << 20)).startswith("<Machine ref cpus=2 memory=3M")


def test_records_convert_to_dicts(machine):
    page = machine.page_alloc(fill=7)
    va = machine.kva_alloc()
    machine.kenter(va, page)
    machine.read(1, va, 4)
    pte = machine.pte(va)
    d = pte.to_dict()
    assert d == {"va": va, "valid": True, "pa": page.pa, "writable": True, "accessed": True,
                 "modified": pte.modified, "global": pte.global_, "executable": pte.executable,
                 "page_size": kvabench.PAGE_SIZE, "cache": "wb",
                 "level": len(machine.capabilities().table_reach)}
    assert dict(pte) == d and pte["global"] == pte.global_
    entry = machine.tlb(1).leaves().where(va=va)[0]
    assert entry.to_dict() == {"cpu": 1, "va": va, "span": kvabench.PAGE_SIZE, "pa": page.pa, "kind": "leaf",
                               "name": entry.name, "level": d["level"], "writable": True, "global": entry.global_,
                               "asid": 0, "stale": False, "holding": "demand", "bbm": False, "rule": None}
    with pytest.raises(TypeError):
        iter(pte)


def test_tables_render_as_text_html_and_dataframes(machine):
    pd = pytest.importorskip("pandas")
    page = machine.page_alloc()
    va = machine.kva_alloc()
    machine.kenter(va, page)
    machine.read(0, va, 1)
    machine.kenter(va, machine.page_alloc())
    machine.read(0, va, 1)  # stale on cpu 0
    tlb = machine.tlb()
    assert "<table" in tlb._repr_html_() and "stale" in repr(tlb)
    df = machine.stale().to_pandas()
    assert isinstance(df, pd.DataFrame) and "architectural" in set(df["oracle"])
    assert list(machine.tlb(0).to_pandas().columns) == ["cpu", "va", "span", "pa", "kind", "name", "level", "writable",
                                                        "global", "asid", "stale", "holding", "bbm", "rule"]
    counters = machine.stats()
    assert counters.to_pandas().loc["pmap.loads", "value"] == counters.pmap.loads == 2
    assert "<table" in counters._repr_html_()


def test_counter_names_are_the_runners(machine):
    """Machine.stats() uses the YAML/JSON counter names: a testcase's results carry the same."""
    result = kvabench.run(kvabench_cli.LIBRARY / "sf_buf" / "hash_hit_refcount.yaml", archs=[machine.arch])[0]
    assert set(machine.stats().flat()) == set(result.counters)


DOCS = (kvabench_cli.REPO / "docs" / "testcases.md").read_text()


def test_one_vocabulary_with_yaml(machine):
    page = machine.page_alloc()
    assert page.wired, "page_alloc wires by default, as YAML's"
    assert machine.cpus == 2 and not hasattr(machine, "ncpus")
    assert machine.mode in ("pool", "dmap")
    va = machine.kva_alloc()
    machine.kenter(va, page)
    machine.read(1, va, 4)
    machine.shootdown(0, "all", va)
    assert machine.stats().pmap.shootdown_targets == 1
    machine.kremove(va)
    page.unwire()
    machine.page_free(page)
    assert inspect.signature(machine.read).parameters["n"].default == 16  # YAML read len
    assert inspect.signature(machine.sf_buf_free).parameters["thread"].default is None
    # buf(9) and file steps of docs/testcases.md are Machine methods of the same name
    for op in ("getblk", "bread", "breadn", "geteblk", "bawrite", "bdwrite", "brelse", "bqrelse", "allocbuf",
               "bstrategy", "buf_set_valid", "buf_set_dirty", "bwrite", "bufwait", "buf_map", "buf_daemon",
               "file_create", "file_read", "file_write", "file_write_mapped", "fsync", "sync", "truncate",
               "sendfile", "pageout", "crash"):
        assert callable(getattr(machine, op)) and f"`{op}`" in DOCS, op
    assert inspect.signature(machine.file_write).parameters["mode"].default == "delayed"


def test_run_results_are_tables_with_a_dataframe():
    pd = pytest.importorskip("pandas")
    results = kvabench.run(kvabench_cli.LIBRARY / "sf_buf" / "recycle_accessed_shootdown.yaml")
    df = results.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == len(results) == len(kvabench.archs().where(default=True))
    row = df[df.arch == df.arch.iloc[0]].iloc[0]
    assert row["status"] == "pass" and row["sf_buf.remaps"] == results[0].counters["sf_buf.remaps"]
    assert "<table" in results._repr_html_()
    assert str(results.summary()).startswith("arch")
