"""Benchmark: `mawa verify` over a ledger of N entries (DESIGN.md: 1M entries ≤ 60 s).

Generates its own data: N entries spread over S streams with real hash chains (the same
``entry_hash`` the application uses), inserted in bulk, one checkpoint per stream signed with a
real site key, then times ``ledger_verify`` (the function behind ``mawa verify``).

    MAWA_VAR_DIR=/tmp/bench-ledger .venv/bin/python bench/core/bench_ledger.py --entries 1000000
    DATABASE_URL=postgres://… .venv/bin/python bench/core/bench_ledger.py --entries 1000000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.figures import figure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=20_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from mawa.core.ledger import (
        GENESIS,
        canonical_payload,
        checkpoint_all,
        entry_hash,
        ledger_verify,
    )
    from mawa.core.models import LedgerEntry, LedgerHead

    call_command("migrate", verbosity=0)
    if LedgerEntry.objects.exists():
        print(f"reusing {LedgerEntry.objects.count()} entries")
    else:
        rng = random.Random(7)
        started = time.perf_counter()
        heads: dict[str, tuple[int, str]] = {}
        batch = []
        base_ts = 1_760_000_000.0
        for i in range(args.entries):
            stream = f"person/{rng.randrange(args.streams):08d}"
            seq, prev = heads.get(stream, (0, GENESIS))
            seq += 1
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base_ts + i)) + ".000000Z"
            payload = canonical_payload({"action": "transition", "to": "interned", "n": i})
            digest = entry_hash(prev, stream, seq, ts, "system:bench", "RHM",
                                "person.transition", payload)
            heads[stream] = (seq, digest)
            batch.append(LedgerEntry(stream=stream, seq=seq, ts=ts, actor="system:bench",
                                     site="RHM", kind="person.transition", payload=payload,
                                     prev_hash=prev, entry_hash=digest))
            if len(batch) >= 20_000:
                with transaction.atomic():
                    LedgerEntry.objects.bulk_create(batch)
                batch.clear()
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(batch)
            LedgerHead.objects.bulk_create(
                [LedgerHead(stream=s, seq=q, head_hash=h) for s, (q, h) in heads.items()],
                batch_size=5000)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        made = checkpoint_all()
        print(f"generated {args.entries} entries in {len(heads)} streams in {generated:.1f} s; "
              f"{made} checkpoints signed in {time.perf_counter() - started:.1f} s")

    started, cpu_started = time.perf_counter(), time.process_time()
    report = ledger_verify()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    # CPU time of this process is reported beside wall time: on a shared, loaded machine the
    # wall time mostly measures the other processes.
    print(f"{connection.vendor}: verified {report.entries} entries, {report.streams} streams, "
          f"{report.checkpoints} checkpoints in {elapsed:.1f} s wall, {cpu:.1f} s CPU — "
          f"ok={report.ok}; load average {os.getloadavg()[0]:.1f}")
    figure("ledger.verify_s", round(elapsed, 1), "s", entries=report.entries, ok=report.ok,
           cpu_s=cpu, wall_s=elapsed)


if __name__ == "__main__":
    main()
