"""Run Mawa, Splink and nomenklatura logic-v2 on one generated data set; print a table.

    python bench/names/compare.py DATA_DIR --bench-python /tmp/bench-venv/bin/python

Every engine is run as a separate process through the same CSV contract; wall time and the
peak memory of each child are measured here. Mawa runs with this interpreter (which needs
only Mawa's runtime dependencies); Splink and nomenklatura with ``--bench-python``.
Results go to DATA_DIR/results.json and a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from evaluate import evaluate_dedupe, evaluate_screen  # noqa: E402


def _run(cmd: list[str]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime - before.ru_utime, 1),
        # ru_maxrss of children is the largest child so far, in KiB on Linux.
        "peak_rss_mb": round(after.ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--bench-python", default="/tmp/bench-venv/bin/python")
    parser.add_argument("--skip", nargs="*", default=[], choices=["splink", "nomenklatura"])
    parser.add_argument("--no-screen", action="store_true")
    parser.add_argument(
        "--screen-records",
        type=int,
        default=2000,
        help="screen only the first N records (logic-v2 takes ~1 ms a pair)",
    )
    args = parser.parse_args(argv)
    data: Path = args.data
    records = str(data / "records.csv")
    mawa = [
        sys.executable,
        "-c",
        "import sys; from mawa.names.cli import main; sys.exit(main(sys.argv[1:]))",
    ]
    engines = {
        "mawa": mawa + ["dedupe", records, "--output", str(data / "out_mawa.csv"), "--quiet"],
        "splink": [
            args.bench_python,
            str(HERE / "run_splink.py"),
            "dedupe",
            records,
            "--output",
            str(data / "out_splink.csv"),
        ],
        "nomenklatura": [
            args.bench_python,
            str(HERE / "run_nomenklatura.py"),
            "dedupe",
            records,
            "--output",
            str(data / "out_nomenklatura.csv"),
        ],
    }
    results: dict[str, dict[str, object]] = {}
    for name, cmd in engines.items():
        if name in args.skip:
            continue
        print(f"running {name} dedupe …", file=sys.stderr)
        run = _run(cmd)
        results[f"dedupe/{name}"] = {"run": run, **evaluate_dedupe(data, data / f"out_{name}.csv")}
    if not args.no_screen:
        sub = _screen_subset(data, args.screen_records)
        records = str(sub / "records.csv")
        watch = str(data / "watchlist.jsonl")
        screens = {
            "mawa": mawa
            + [
                "screen",
                records,
                "--watchlist",
                watch,
                "--output",
                str(sub / "hits_mawa.csv"),
                "--top",
                "5",
                "--quiet",
            ],
            "nomenklatura": [
                args.bench_python,
                str(HERE / "run_nomenklatura.py"),
                "screen",
                records,
                "--watchlist",
                watch,
                "--output",
                str(sub / "hits_nomenklatura.csv"),
                "--top",
                "5",
            ],
        }
        for name, cmd in screens.items():
            if name in args.skip:
                continue
            print(f"running {name} screen …", file=sys.stderr)
            run = _run(cmd)
            results[f"screen/{name}"] = {
                "run": run,
                **evaluate_screen(sub, sub / f"hits_{name}.csv"),
            }
    (data / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))
    return 0


def _screen_subset(data: Path, n: int) -> Path:
    """Write the first ``n`` records and their truth to DATA/screen_N for screening runs."""
    import csv

    sub = data / f"screen_{n}"
    sub.mkdir(exist_ok=True)
    for name in ("records.csv", "truth.csv"):
        with (
            (data / name).open(encoding="utf-8", newline="") as f,
            (sub / name).open("w", encoding="utf-8", newline="") as out,
        ):
            reader = csv.reader(f)
            writer = csv.writer(out)
            for i, row in enumerate(reader):
                if i > n:
                    break
                writer.writerow(row)
    (sub / "watch_truth.csv").write_bytes((data / "watch_truth.csv").read_bytes())
    return sub


def markdown(results: dict[str, dict]) -> str:  # type: ignore[type-arg]
    lines = [
        "| engine | pairs P / R | B³ P / R | ar-ar P / R | la-la P / R | ar-la P / R "
        "| held-out R | brothers | father/son | Omar/Amr | wall s | CPU s | peak MB |",
        "|---" * 13 + "|",
    ]
    for key, r in results.items():
        if not key.startswith("dedupe/"):
            continue
        s = r["by_script_pair"]
        fm = r["false_merges"]

        def pr(d: dict) -> str:  # type: ignore[type-arg]
            return f"{d['precision']:.3f} / {d['recall']:.3f}"

        lines.append(
            f"| {key.split('/')[1]} | {pr(r['pairwise'])} | {pr(r['bcubed'])} "
            f"| {pr(s['ar-ar'])} | {pr(s['la-la'])} | {pr(s['ar-la'])} "
            f"| {r['held_out_given_names']['recall']:.3f} "
            f"| {fm['brothers']['rate']:.2%} | {fm['father_son']['rate']:.2%} "
            f"| {fm['omar_amr']['rate']:.2%} | {r['run']['wall_s']} | {r['run']['cpu_s']} "
            f"| {r['run']['peak_rss_mb']} |"
        )
    screen = [(k, r) for k, r in results.items() if k.startswith("screen/")]
    if screen:
        lines += [
            "",
            "| engine | recall@1 | recall@5 | threshold for recall 0.95 "
            "| alerts / 1,000 | false alerts / 1,000 | wall s | CPU s |",
            "|---" * 8 + "|",
        ]
        for key, r in screen:
            a = r["at_recall_0.95"]
            if isinstance(a, dict):
                cells = f"{a['threshold']} | {a['alerts_per_1000']} | {a['false_alerts_per_1000']}"
            else:
                cells = f"{a} | – | –"
            lines.append(
                f"| {key.split('/')[1]} | {r['recall_at_1']} | {r['recall_at_5']} "
                f"| {cells} | {r['run']['wall_s']} | {r['run']['cpu_s']} |"
            )
    lines.append("")
    lines.append("Per perturbation (pair recall), Mawa:")
    mawa = results.get("dedupe/mawa")
    if mawa:
        lines.append(
            ", ".join(
                f"{k} {v['recall']:.3f} ({v['pairs']})" for k, v in mawa["by_perturbation"].items()
            )
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
