"""Held-out evaluation of Mawa's dedupe: tuning set, held-out seed, second configuration.

    python bench/names/run_eval.py --people 5000 --out /tmp/names-eval [--names-db DB]

Data sets (generator ``bench/names/generate.py``):

* ``tune``  — configuration A, seed 11: the only set used to tune weights and train models;
* ``held``  — configuration A, seed 7: never used for tuning or training (held-out part);
* ``confB`` — configuration B, seed 5: another mix and other error rates, never tuned on.

For each set it runs ``mawa names dedupe`` (in process, through the CLI contract) and
prints P/R/F1 overall and by script pair (la-la split by romanisation habit), recall by
perturbation, false merges by hard-negative type, and pair completeness of blocking.
Results go to OUT/results.json. Splink is run beside it only with ``--bench-python``
(a venv with bench/names/requirements-bench.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from evaluate import evaluate_dedupe, pair_completeness  # noqa: E402
from generate import write_dataset  # noqa: E402

from mawa.names.cli import main as names_main  # noqa: E402

SETS = {"tune": ("A", 11), "held": ("A", 7), "confB": ("B", 5)}


def _line(name: str, r: dict) -> str:  # type: ignore[type-arg]
    pw = r["pairwise"]
    sp = r["by_script_pair"]
    fm = r["false_merges"]
    cells = [
        name,
        f"{pw['precision']:.3f} / {pw['recall']:.3f} / {pw['f1']:.3f}",
        *(
            f"{sp[k]['precision']:.3f} / {sp[k]['recall']:.3f}"
            for k in ("ar-ar", "la-la same habit", "la-la en/fr", "ar-la")
        ),
        *(
            f"{100 * fm[k]['rate']:.2f} % ({fm[k]['merged']}/{fm[k]['pairs']})"
            for k in ("brothers", "father_son", "omar_amr", "namesake", "namesake_inseparable")
        ),
    ]
    if "pair_completeness" in r:
        cells.append(f"{r['pair_completeness']['completeness']:.4f}")
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--names-db", type=Path, default=None)
    parser.add_argument("--sets", default="tune,held,confB")
    parser.add_argument("--bench-python", default="", help="python with Splink installed")
    parser.add_argument("--engine-args", default="", help="extra args for mawa names dedupe")
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}  # type: ignore[type-arg]
    header = (
        "| set | P / R / F1 | ar-ar P / R | la-la same habit P / R | la-la en/fr P / R "
        "| ar-la P / R | brothers | father/son | Omar/Amr | namesakes | namesakes agreeing "
        "on every field | pair completeness |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name in args.sets.split(","):
        config, seed = SETS[name]
        data = args.out / name
        if not (data / "records.csv").exists():
            write_dataset(data, args.people, seed, 0, args.names_db, config=config)
        out = data / "out_mawa.csv"
        extra = args.engine_args.split() if args.engine_args else []
        names_main(["dedupe", str(data / "records.csv"), "--output", str(out), "--quiet", *extra])
        r = evaluate_dedupe(data, out)
        r["pair_completeness"] = pair_completeness(data)
        results[name] = r
        lines.append(_line(f"{name} (mawa)", r))
        if args.bench_python:
            sp_out = data / "out_splink.csv"
            subprocess.run(
                [
                    args.bench_python,
                    str(HERE / "run_splink.py"),
                    "dedupe",
                    str(data / "records.csv"),
                    "--output",
                    str(sp_out),
                ],
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            rs = evaluate_dedupe(data, sp_out)
            results[name + "_splink"] = rs
            lines.append(_line(f"{name} (Splink)", rs))
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print("\n".join(lines))
    for name, r in results.items():
        pert = ", ".join(
            f"{k} {v['recall']:.3f} ({v['pairs']})" for k, v in r["by_perturbation"].items()
        )
        print(f"\n{name} recall by perturbation: {pert}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
