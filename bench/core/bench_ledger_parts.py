"""Where `mawa verify` spends its time, as ratios in one process (robust on a loaded machine):
reading the rows alone and reading + ``entry_hash`` (the hash the writer and the verifier
share). Run after bench_ledger.py has generated the data.

    MAWA_VAR_DIR=/tmp/bench-ledger .venv/bin/python bench/core/bench_ledger_parts.py --rows 300000
"""

import argparse
import os
import time

import django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
    django.setup()
    from mawa.core.ledger import entry_hash
    from mawa.core.models import LedgerEntry

    def rows():
        return (LedgerEntry.objects.order_by("stream", "seq")
                .values_list("prev_hash", "stream", "seq", "ts", "actor", "site", "kind",
                             "payload")[: args.rows].iterator(chunk_size=20000))

    results = {}
    for name, fn in [("read only", None), ("read + entry_hash", entry_hash)]:
        started = time.process_time()
        for row in rows():
            if fn is not None:
                fn(*row)
        results[name] = time.process_time() - started
    base = results["read only"]
    for name, cpu in results.items():
        print(f"{name:22s} {cpu:7.2f} s CPU for {args.rows} rows  ({cpu / base:.2f}× reading)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
