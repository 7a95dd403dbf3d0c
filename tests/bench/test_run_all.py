"""bench/run_all.py: the runner of every benchmark. One real run of the smallest benchmark at
smoke size (a few seconds: 300 imported rows in a throwaway database) checks the whole chain —
child process, figures, results file, the table rewritten between its markers — and the rest
is checked on results made here. Nothing here asserts on a time."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run_all = _load("mawa_bench_run_all", ROOT / "bench" / "run_all.py")

DOC = """# Benchmarks

Text before the table that must stay.

{begin}
an old table
{end}

## Later sections

| a | hand-written | table |
|---|---|---|
| 1 | 2 | 3 |
"""


@pytest.fixture
def docs(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(DOC.format(begin=run_all.BEGIN, end=run_all.END), encoding="utf-8")
    return path


def _outside(text: str) -> tuple[str, str]:
    start, end = text.index(run_all.BEGIN), text.index(run_all.END)
    return text[:start], text[end + len(run_all.END):]


def test_smoke_run_rewrites_the_table_with_real_figures(tmp_path, docs, monkeypatch):
    # always on SQLite: on the PostgreSQL run of the suite the benchmark's own throwaway test
    # database would be the suite's (same name), dropped under its feet
    monkeypatch.delenv("DATABASE_URL", raising=False)
    before = docs.read_text(encoding="utf-8")
    code = run_all.main(["--data", str(tmp_path / "data"), "--sizes", "small", "--allow-busy",
                         "--only", "import", "--docs", str(docs)])
    assert code == 0
    text = docs.read_text(encoding="utf-8")
    # one table, between its markers, and everything around it as it was
    assert text.count(run_all.BEGIN) == 1 and text.count(run_all.END) == 1
    assert _outside(text) == _outside(before)
    assert "an old table" not in text
    section = text[text.index(run_all.BEGIN):text.index(run_all.END)]
    assert f"{run_all.machine()['cores']} cores" in section
    assert run_all._commit().split()[0] in section
    assert "--allow-busy" in section or "load average" in section
    row = next(line for line in section.splitlines()
               if line.startswith("| bulk import with validation"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    work, target, size, measured, cpu, wall, load, status = cells
    assert (target, size) == ("≤ 60 s", "300 rows")
    assert measured.endswith(" s") and float(measured.split()[0]) > 0
    assert float(cpu) > 0 and float(wall) > 0
    assert "→" in load
    assert status in ("met", ) or status.startswith("**not met**")
    # every DESIGN.md target has its row, the ones not run say so
    assert "| verify the ledger (`mawa verify`) |" in section
    assert "not measured" in section
    # the results file holds the figure with what it cost
    [saved] = (tmp_path / "data" / "results").glob("*.json")
    result = json.loads(saved.read_text(encoding="utf-8"))
    [imp] = result["results"]
    [fig] = [f for f in imp["figures"] if f["name"] == "import.total_s"]
    assert fig["rows"] == 300 and fig["cpu_s"] > 0 and fig["wall_s"] > 0
    assert imp["exit"] == 0 and "load_before" in imp and "load_after" in imp


def test_refuses_to_start_on_a_busy_machine(tmp_path, docs, monkeypatch, capsys):
    before = docs.read_text(encoding="utf-8")
    monkeypatch.setattr(run_all.os, "getloadavg", lambda: (3.5, 2.0, 1.0))
    code = run_all.main(["--data", str(tmp_path / "data"), "--sizes", "small", "--only",
                         "import", "--docs", str(docs)])
    assert code == 2
    assert "3.50" in capsys.readouterr().err
    assert docs.read_text(encoding="utf-8") == before
    assert not (tmp_path / "data").exists()


def test_dry_run_runs_and_writes_nothing(tmp_path, docs, capsys):
    before = docs.read_text(encoding="utf-8")
    assert run_all.main(["--data", str(tmp_path / "data"), "--dry-run",
                         "--docs", str(docs)]) == 0
    out = capsys.readouterr().out
    for bench in run_all.BENCHES:
        assert bench.name in out
    assert "1M persons" in out
    assert docs.read_text(encoding="utf-8") == before
    assert not (tmp_path / "data").exists()


def test_table_gives_the_ratio_of_a_target_not_met_and_the_cost():
    results = [{"bench": "import", "size": "100k rows", "figures": [
        {"name": "import.total_s", "value": 90.0, "unit": "s", "cpu_s": 88.5, "wall_s": 90.0,
         "load_before": 0.2, "load_after": 1.1}]},
        {"bench": "ledger", "size": "1M entries", "figures": [
            {"name": "ledger.verify_s", "value": 13.0, "unit": "s", "process_cpu_s": 30.0,
             "process_wall_s": 31.0, "load_before": 0.3, "load_after": 0.9}]},
        {"bench": "splink", "size": "x", "figures": [], "skipped": "needs --splink-python"}]
    meta = {"started": "s", "finished": "f", "commit": "abc1234", "sizes": "full",
            "machine": {"arch": "x86_64", "cores": 2, "ram_gb": 23.5, "python": "3.11",
                        "database": "SQLite"}, "load_start": 0.2, "busy": False}
    section = run_all.table(results, meta)
    assert section.startswith(run_all.BEGIN) and section.endswith(run_all.END)
    assert "commit abc1234" in section and "2 cores, 23.5 GB RAM" in section
    assert "allow-busy" not in section
    lines = section.splitlines()
    imp = next(line for line in lines if line.startswith("| bulk import"))
    assert "| 90.0 s |" in imp and "| 88.5 |" in imp and "0.20 → 1.10" in imp
    assert "**not met** (1.50× the target)" in imp
    ledger = next(line for line in lines if line.startswith("| verify the ledger"))
    assert "| 30.0 ¹ |" in ledger and ledger.endswith("| met |")
    splink = next(line for line in lines if line.startswith("| Splink"))
    assert "not run: needs --splink-python" in splink


def test_missing_markers_are_refused(tmp_path):
    path = tmp_path / "b.md"
    path.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        run_all.docs_rewrite(path, "x")
    assert path.read_text(encoding="utf-8") == "# no markers\n"


def test_figures_are_json_lines():
    figures = _load("mawa_bench_figures", ROOT / "bench" / "figures.py")
    text = "noise\nMAWA-FIGURE {\"name\": \"a\", \"value\": 1, \"unit\": \"s\"}\nmore\n"
    assert figures.figures_parse(text) == [{"name": "a", "value": 1, "unit": "s"}]


def test_profile_summary_names_where_the_time_goes(tmp_path):
    import cProfile

    def heavy():
        return sum(i * i for i in range(200_000))

    prof = cProfile.Profile()
    prof.enable()
    heavy()
    prof.disable()
    path = tmp_path / "x.prof"
    prof.dump_stats(path)
    line = run_all.profile_summary(path)
    assert line.startswith("own time: ") and "%" in line and "genexpr" in line


def test_a_missed_target_is_found():
    bench = next(b for b in run_all.BENCHES if b.name == "import")
    assert run_all._missed(bench, {"figures": [{"name": "import.total_s", "value": 61}]})
    assert not run_all._missed(bench, {"figures": [{"name": "import.total_s", "value": 59}]})
    assert not run_all._missed(bench, {"figures": [{"name": "import.total_s", "error": "x"}]})


def test_data_is_generated_once_and_kept(tmp_path, docs, monkeypatch):
    """A benchmark's data is generated on the first run only; later runs measure what is
    kept under --data (named for SQLite: the PostgreSQL run of the suite sets DATABASE_URL)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    count = ("import os, pathlib; p = pathlib.Path(os.environ['MAWA_VAR_DIR']) / 'made'; "
             "p.write_text(str(int(p.read_text()) + 1) if p.exists() else '1')")
    measure = "from bench.figures import figure; figure('fake.x', 3.0, 's', cpu_s=0.5)"
    fake = run_all.Bench(
        "fake", what="a fake", sizes={"small": {"text": "tiny"}, "full": {"text": "big"}},
        generate=lambda s, d: [sys.executable, "-c", count],
        argv=lambda s, d: [sys.executable, "-c", measure],
        targets=[run_all.Target("fake work", "fake.x", 2, "s", "≤ 2 s")])
    monkeypatch.setattr(run_all, "BENCHES", [fake])
    monkeypatch.setattr(run_all, "UNMEASURED", [])
    args = ["--data", str(tmp_path / "data"), "--sizes", "small", "--allow-busy",
            "--docs", str(docs), "--no-profile"]
    assert run_all.main(args) == 0
    assert run_all.main(args) == 0
    assert (tmp_path / "data" / "fake-small" / "made").read_text() == "1"
    row = next(line for line in docs.read_text(encoding="utf-8").splitlines()
               if line.startswith("| fake work"))
    assert "| 3 s |" in row and "| 0.5 |" in row and "**not met** (1.50× the target)" in row
    assert len(list((tmp_path / "data" / "results").glob("*.json"))) == 2
