"""A small generated population, end to end through the CLI and the evaluation."""

import csv

from bench.names.evaluate import evaluate_dedupe, evaluate_screen
from bench.names.generate import write_dataset
from mawa.names import CSV_COLUMNS, Report, read_ftm, read_records_csv
from mawa.names.cli import main


def test_generated_people_are_deduplicated_with_high_precision_and_recall(tmp_path):
    data = tmp_path / "data"
    summary = write_dataset(data, people=400, seed=3, builtin=True)
    assert summary["source"] == "builtin"
    out = tmp_path / "out.csv"
    assert main(["dedupe", str(data / "records.csv"), "--output", str(out), "--quiet"]) == 0
    result = evaluate_dedupe(data, out)
    assert result["missing_in_output"] == 0
    assert result["pairwise"]["precision"] >= 0.95
    assert result["pairwise"]["recall"] >= 0.85
    assert result["by_script_pair"]["ar-la"]["recall"] >= 0.8
    assert result["false_merges"]["father_son"]["rate"] <= 0.02


def test_generated_people_are_found_on_the_watch_list(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, people=300, seed=5, builtin=True, watch_extra=300)
    hits = tmp_path / "hits.csv"
    code = main(
        [
            "screen",
            str(data / "records.csv"),
            "--watchlist",
            str(data / "watchlist.jsonl"),
            "--output",
            str(hits),
            "--quiet",
        ]
    )
    assert code == 0
    result = evaluate_screen(data, hits)
    assert result["recall_at_5"] >= 0.9


def test_generated_files_are_read_whole_by_the_public_readers(tmp_path):
    data = tmp_path / "data"
    summary = write_dataset(data, people=60, seed=9, builtin=True)
    with (data / "records.csv").open(encoding="utf-8", newline="") as f:
        assert tuple(next(csv.reader(f))) == CSV_COLUMNS
    report = Report("records.csv")
    with (data / "records.csv").open(encoding="utf-8", newline="") as f:
        records = [r for _line, r in read_records_csv(f, report)]
    assert len(records) == report.read == summary["records"]
    assert report.bad == []
    with (data / "truth.csv").open(encoding="utf-8", newline="") as f:
        truth = {row["record_id"] for row in csv.DictReader(f)}
    assert {r.record_id for r in records} == truth
    listed = Report("watchlist.jsonl")
    with (data / "watchlist.jsonl").open(encoding="utf-8") as f:
        entities = [r for _line, r in read_ftm(f, listed)]
    assert len(entities) == summary["watchlist"] and listed.bad == []
    assert all(e.record_id.startswith("W-E") and e.given_name for e in entities)
