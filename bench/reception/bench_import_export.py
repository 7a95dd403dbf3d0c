"""Import N generated rows through the real import path, then export the register as CSV.

    .venv/bin/python bench/reception/bench_import_export.py --rows 100000
    DATABASE_URL=postgres://… .venv/bin/python bench/reception/bench_import_export.py

Uses a throwaway test database (Django's test runner machinery). Prints wall-clock seconds for
reading+checking, writing, and exporting, and the exporter's peak traced memory.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings_test")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        run(args.rows)
    finally:
        teardown_databases(old, verbosity=0)


def run(n: int) -> None:
    from django.db import connection

    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.models import Site, SiteKind
    from mawa.reception import demo, exports, imports

    rhm = Site.objects.create(code="RHM", kind=SiteKind.CROSSING, name_ar="م", name_en="RHM")
    officer = User(username="r", role=Role.RECEPTION_OFFICER)
    officer.set_password("x" * 20)
    officer.save()
    officer.sites.set([rhm])
    prot = User(username="p", role=Role.PROTECTION_OFFICER)
    prot.set_password("x" * 20)
    prot.save()
    prot.sites.set([rhm])
    rng = random.Random(1)
    lines = ["given_ar,given_lat,father_ar,family_ar,family_lat,sex,birth,service_number,rank"]
    for i in range(n):
        g, gl = rng.choice(list(demo.GIVEN_MALE.items()))
        f = rng.choice(list(demo.GIVEN_MALE))
        fam, faml = rng.choice(list(demo.FAMILY_SY.items()))
        lines.append(f"{g},{rng.choice(gl)},{f},{fam},{rng.choice(faml)},male,"
                     f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
                     f"S{i:07d},{rng.choice(demo.RANKS)}")
    data = ("\n".join(lines) + "\n").encode()
    t0, c0 = time.perf_counter(), time.process_time()
    table = imports.table_read(data, "bench.csv")
    result = imports.import_check(user=officer, site=rhm, table=table)
    t1, c1 = time.perf_counter(), time.process_time()
    dupes = sum(1 for p in result.problems if "row" in p.reason or "same" in p.reason.lower())
    # generated names collide (same names and birth date): drop those rows from the write
    bad = {p.row for p in result.problems}
    result.people = [p for i, p in enumerate(result.people) if i + 2 not in bad] \
        if bad else result.people
    result.problems = []
    t2, c2 = time.perf_counter(), time.process_time()
    imports.import_commit(user=officer, site=rhm, result=result)
    t3, c3 = time.perf_counter(), time.process_time()
    cols = exports.persons_export_start(user=prot, purpose="bench")
    tracemalloc.start()
    size = 0
    for chunk in exports.persons_export_lines(user=prot, columns=cols):
        size += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t4 = time.perf_counter()
    print(f"backend={connection.vendor} rows={n} flagged={len(bad)} (dupes {dupes})")
    print(f"read+check {t1 - t0:.1f}s  write {t3 - t2:.1f}s  import total {t3 - t0:.1f}s")
    # CPU time of this process: what the other work on a shared machine does not inflate
    print(f"CPU: read+check {c1 - c0:.1f}s  write {c3 - c2:.1f}s  import total "
          f"{c1 - c0 + c3 - c2:.1f}s  (load {os.getloadavg()[0]:.1f})")
    print(f"export {t4 - t3:.1f}s  {size / 1e6:.1f} MB  peak traced memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
