"""Held-out evaluation of Mawa's dedupe: tuning set, held-out seed, second configuration.

    python bench/names/run_eval.py --people 5000 --out /tmp/names-eval [--names-db DB]

Data sets (generator ``bench/names/generate.py``):

* ``tune``  — configuration A, seed 11: the only set used to tune weights and train models;
* ``held``  — configuration A, seed 7: never used for tuning or training (held-out part);
* ``confB`` — configuration B, seed 5: another mix and other error rates, never tuned on.

For each set it runs ``mawa names dedupe`` (in process, through the CLI contract) and
prints P/R/F1 overall and by script pair (la-la split by romanisation habit), recall by
perturbation, false merges by hard-negative type, and pair completeness of blocking.
Results go to OUT/results.json.

With ``--bench-python PY`` (a venv with bench/names/requirements-splink.txt, see
``run_splink.py``) Splink runs beside Mawa in the same run, on the same files, scored by the
same ``evaluate.py``: its clustering threshold is the one with the best F1 on the ``tune``
set (swept over ``--splink-thresholds``), then applied unchanged to ``held`` and ``confB``.
Both engines then run as child processes through the CSV contract and a second table gives
wall time and the peak resident memory of each child's whole process tree (sampled every
0.1 s from /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from evaluate import evaluate_dedupe, pair_completeness  # noqa: E402
from generate import write_dataset  # noqa: E402

from mawa.names.cli import main as names_main  # noqa: E402

SETS = {"tune": ("A", 11), "held": ("A", 7), "confB": ("B", 5)}
SPLINK_THRESHOLDS = "0.5,0.7,0.8,0.9,0.95,0.98,0.99,0.995,0.999"


def _tree_rss_kb(root: int) -> int:
    """Resident memory (KiB) of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(d.name)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; return its wall time and the peak RSS of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.1)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return {"wall_s": round(time.perf_counter() - started, 1), "peak_mb": round(peak / 1024)}


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
    pc = r.get("pair_completeness")
    cells.append(f"{pc['completeness']:.4f}" if pc else "")  # Mawa's blocking only
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--names-db", type=Path, default=None)
    parser.add_argument("--sets", default="tune,held,confB")
    parser.add_argument("--bench-python", default="", help="python with Splink installed")
    parser.add_argument("--engine-args", default="", help="extra args for mawa names dedupe")
    parser.add_argument("--splink-thresholds", default=SPLINK_THRESHOLDS)
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}  # type: ignore[type-arg]
    cost: dict[str, dict[str, float]] = {}
    threshold: float | None = None
    if args.bench_python and not args.sets.startswith("tune"):
        parser.error("with --bench-python the first set must be tune (Splink's threshold)")
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
        mawa_cmd = ["dedupe", str(data / "records.csv"), "--output", str(out), "--quiet", *extra]
        if args.bench_python:  # measured as a child process, like Splink
            cost[name] = run_measured([sys.executable, "-m", "mawa.names.cli", *mawa_cmd])
        else:
            names_main(mawa_cmd)
        r = evaluate_dedupe(data, out)
        r["pair_completeness"] = pair_completeness(data)
        results[name] = r
        lines.append(_line(f"{name} (mawa)", r))
        if args.bench_python:
            splink = [args.bench_python, str(HERE / "run_splink.py"), "dedupe"]
            splink.append(str(data / "records.csv"))
            if threshold is None:  # the first set is the tuning set: sweep, keep best F1
                sweep = [float(t) for t in args.splink_thresholds.split(",")]
                pattern = str(data / "out_splink_{t}.csv")
                cost[name + "_splink"] = run_measured(
                    [*splink, "--output", pattern, "--threshold", args.splink_thresholds]
                )
                scored = {
                    t: evaluate_dedupe(data, Path(pattern.replace("{t}", f"{t:g}"))) for t in sweep
                }
                for t, rt in scored.items():
                    pw = rt["pairwise"]
                    print(
                        f"Splink on {name} at {t:g}: P {pw['precision']:.3f} "
                        f"R {pw['recall']:.3f} F1 {pw['f1']:.3f}"
                    )
                threshold = max(sweep, key=lambda t: scored[t]["pairwise"]["f1"])
                rs = scored[threshold]
            else:
                sp_out = data / "out_splink.csv"
                cost[name + "_splink"] = run_measured(
                    [*splink, "--output", str(sp_out), "--threshold", f"{threshold:g}"]
                )
                rs = evaluate_dedupe(data, sp_out)
            rs["threshold"] = threshold
            results[name + "_splink"] = rs
            lines.append(_line(f"{name} (Splink, threshold {threshold:g})", rs))
    if cost:
        results["cost"] = cost  # type: ignore[assignment]
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print("\n".join(lines))
    if cost:
        print("\n| set | Mawa wall / peak RSS (tree) | Splink wall / peak RSS (tree) |")
        print("|---|---|---|")
        for name in args.sets.split(","):
            m, sp = cost[name], cost[name + "_splink"]
            note = " (threshold sweep)" if name == args.sets.split(",")[0] else ""
            print(
                f"| {name} | {m['wall_s']} s / {m['peak_mb']} MB "
                f"| {sp['wall_s']} s / {sp['peak_mb']} MB{note} |"
            )
        print(f"load average at the end: {os.getloadavg()}")
    for name, r in results.items():
        if name == "cost":
            continue
        pert = ", ".join(
            f"{k} {v['recall']:.3f} ({v['pairs']})" for k, v in r["by_perturbation"].items()
        )
        print(f"\n{name} recall by perturbation: {pert}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
