"""Train the default learned scorer on the generator's tuning set; write it into the package.

    python bench/names/train.py --data /tmp/names-eval/tune [--people 5000]
        [--out mawa/names/model_default.json]

Only the tuning set (configuration A, seed 11, see ``run_eval.py``) is used: the held-out
seed and configuration B are never seen. Training pairs are the pairs dedupe's blocking
proposes (the population the model decides on), each with the rule-based comparisons as
features and the generator's truth as label; name frequencies come from the same set.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from generate import write_dataset  # noqa: E402

from mawa.names import NameFrequencies, Report, Scorer, prepare, read_records_csv  # noqa: E402
from mawa.names._cluster import candidate_blocks  # noqa: E402
from mawa.names._learned import train_model  # noqa: E402


def examples(data: Path) -> list[tuple[dict[str, float], int]]:
    """Blocking pairs of a generated set as (features, label)."""
    with (data / "truth.csv").open(encoding="utf-8", newline="") as f:
        entity = {r["record_id"]: r["entity_id"] for r in csv.DictReader(f)}
    with (data / "records.csv").open(encoding="utf-8", newline="") as f:
        prepared = [prepare(r) for _line, r in read_records_csv(f, Report("records.csv"))]
    scorer = Scorer(NameFrequencies.from_records(prepared), model=None)
    seen: set[tuple[int, int]] = set()
    out: list[tuple[dict[str, float], int]] = []
    for block in candidate_blocks(prepared):
        for x in range(len(block)):
            for y in range(x + 1, len(block)):
                i, j = sorted((block[x], block[y]))
                if i == j or (i, j) in seen:
                    continue
                seen.add((i, j))
                a, b = prepared[i], prepared[j]
                label = int(entity[a.record_id] == entity[b.record_id])
                out.append((scorer.features(a, b), label))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--names-db", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "mawa/names/model_default.json")
    parser.add_argument("--l2", type=float, default=0.1)
    args = parser.parse_args(argv)
    if not (args.data / "records.csv").exists():
        write_dataset(args.data, args.people, 11, 0, args.names_db, config="A")
    ex = examples(args.data)
    today = dt.date.today().isoformat()
    model = train_model(
        ex,
        l2=args.l2,
        meta={
            "version": f"generator-A-seed11-{today}",
            "trained_on": "bench/names/generate.py configuration A, seed 11 (tuning set)",
        },
    )
    args.out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(json.dumps(model.meta), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
