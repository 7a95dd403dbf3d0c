"""Speed and memory of the Mawa engine: dedupe, screening and typing suggestions.

    python bench/names/bench_speed.py dedupe DATA_DIR          # time + peak RSS of the CLI
    python bench/names/bench_speed.py query DATA_DIR --n 1000  # p50/p95 of NameIndex.query

``query`` builds a NameIndex over DATA_DIR/records.csv and times single queries made from
partial records (given and family name only, as typed first, then with the father's name),
which is what the registration page sends while the officer types.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.figures import figure  # noqa: E402
from mawa.names import NameIndex, NameRecord, Report, prepare, read_records_csv  # noqa: E402


def query(data: Path, n: int, seed: int) -> None:
    started = time.perf_counter()
    index = NameIndex()
    records = []
    with (data / "records.csv").open(encoding="utf-8", newline="") as f:
        for _, r in read_records_csv(f, Report("records")):
            index.add(r)
            records.append(r)
    built = time.perf_counter() - started
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"given+family": [], "given+father+family": []}
    for r in rng.sample(records, n):
        for label, q in (
            ("given+family", NameRecord("q", given_name=r.given_name, family_name=r.family_name)),
            (
                "given+father+family",
                NameRecord(
                    "q",
                    given_name=r.given_name,
                    father_name=r.father_name,
                    family_name=r.family_name,
                ),
            ),
        ):
            t = time.perf_counter()
            index.query(prepare(q), top=5)
            timings[label].append((time.perf_counter() - t) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"index of {len(index)} records built in {built:.1f}s, peak RSS {rss:.0f} MB")
    for label, ts in timings.items():
        ts.sort()
        p95 = ts[int(0.95 * len(ts)) - 1]
        print(
            f"{label}: n={len(ts)} p50={statistics.median(ts):.1f} ms p95={p95:.1f} ms "
            f"max={ts[-1]:.1f} ms"
        )
    every = sorted(t for ts in timings.values() for t in ts)
    figure("names.query_p95", round(every[int(0.95 * len(every)) - 1], 1), "ms", n=len(every),
           records=len(index), index_build_s=round(built, 1), rss_peak_mb=round(rss))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("query")
    q.add_argument("data", type=Path)
    q.add_argument("--n", type=int, default=1000)
    q.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    query(args.data, args.n, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
