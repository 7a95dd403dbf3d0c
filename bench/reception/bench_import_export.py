"""Import N generated rows through the real import path, then export the register as CSV.

    .venv/bin/python bench/reception/bench_import_export.py --rows 100000
    DATABASE_URL=postgres://… .venv/bin/python bench/reception/bench_import_export.py
    .venv/bin/python tests/pgcluster.py -- .venv/bin/python bench/reception/bench_import_export.py

Uses a throwaway test database (Django's test runner machinery). Prints wall-clock seconds and
the CPU time of this process (``time.process_time``: on PostgreSQL the server's own CPU is not
in it) for reading+checking and for writing, the load average before and after, the number of
queries of each step, and for the export its time and peak traced memory; the figures also
as ``MAWA-FIGURE`` lines (``bench/figures.py``) for ``bench/run_all.py``, with the CPU time per
1,000 rows.

Options: ``--profile OUT`` runs the import under cProfile (times are then inflated) and
prints the top functions (stats saved to OUT); ``--no-export`` skips the export;
``--verify`` runs ``ledger_verify`` after the import and fails if the ledger does not hold.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings_test")
from bench.figures import figure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--profile", metavar="OUT", help="cProfile the import, stats to OUT")
    ap.add_argument("--no-export", action="store_true", help="skip the export")
    ap.add_argument("--verify", action="store_true", help="ledger_verify after the import")
    args = ap.parse_args()
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        run(args.rows, profile=args.profile, export=not args.no_export, verify=args.verify)
    finally:
        teardown_databases(old, verbosity=0)


def _queries():
    """Count the statements run (executemany counts once), without keeping their text."""
    from django.db import connection

    counter = [0]

    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    return counter, connection.execute_wrapper(wrapper)


def _server_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving this connection, when the
    server runs on this machine (``/proc``); ``None`` on SQLite or when it cannot be read.
    Background processes (WAL writer, checkpointer) are not in it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(n: int, *, profile: str | None = None, export: bool = True, verify: bool = False
        ) -> None:
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
    del lines
    print(f"load average at start {os.getloadavg()}", flush=True)
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
    counter, wrapped = _queries()
    s0 = _server_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    with wrapped:
        if prof:
            prof.enable()
        table = imports.table_read(data, "bench.csv")
        result = imports.import_check(user=officer, site=rhm, table=table)
        if prof:
            prof.disable()
    t1, c1 = time.perf_counter(), time.process_time()
    q_check = counter[0]
    first = result.problems[0].reason if result.problems else ""
    # generated names collide (same names and birth date): drop those rows from the write
    bad = {p.row for p in result.problems}
    result.people = [p for i, p in enumerate(result.people) if i + 2 not in bad] \
        if bad else result.people
    result.problems = []
    counter, wrapped = _queries()
    t2, c2 = time.perf_counter(), time.process_time()
    with wrapped:
        if prof:
            prof.enable()
        imports.import_commit(user=officer, site=rhm, result=result)
        if prof:
            prof.disable()
    t3, c3 = time.perf_counter(), time.process_time()
    q_write = counter[0]
    s3 = _server_cpu()
    print(f"backend={connection.vendor} rows={n} flagged={len(bad)} (left out of the write; "
          f"first reason: {first or '-'})")
    print(f"read+check {t1 - t0:.1f}s  write {t3 - t2:.1f}s  import total "
          f"{t1 - t0 + t3 - t2:.1f}s")
    # CPU time of this process: what the other work on a shared machine does not inflate
    print(f"CPU: read+check {c1 - c0:.1f}s  write {c3 - c2:.1f}s  import total "
          f"{c1 - c0 + c3 - c2:.1f}s  (load {os.getloadavg()[0]:.1f}; "
          f"{'the PostgreSQL server' if connection.vendor == 'postgresql' else 'nothing'}"
          " outside this process not counted)")
    if s0 is not None and s3 is not None:
        print(f"PostgreSQL backend CPU (check + write + the bench's own trimming): "
              f"{s3 - s0:.1f}s")
    print(f"queries: check {q_check}  write {q_write}  peak RSS of the process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    cpu, wall = c1 - c0 + c3 - c2, t1 - t0 + t3 - t2
    figure("import.total_s", round(wall, 1), "s", rows=n, cpu_s=cpu, wall_s=wall,
           check_cpu_s=round(c1 - c0, 2), write_cpu_s=round(c3 - c2, 2),
           cpu_per_1000_rows_s=round(1000 * cpu / n, 3), backend=connection.vendor,
           profiled=bool(prof))
    if prof:
        import pstats

        prof.dump_stats(profile)
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    if verify:
        from mawa.core.ledger import ledger_verify

        tv = time.perf_counter()
        report = ledger_verify()
        print(f"ledger_verify: ok={report.ok} streams={report.streams} "
              f"entries={report.entries} ({time.perf_counter() - tv:.1f}s)", flush=True)
        if not report.ok:
            raise SystemExit(f"ledger does not verify: {report.first_failure}")
    if not export:
        print(f"load average at end {os.getloadavg()}")
        return
    t3, c3 = time.perf_counter(), time.process_time()
    cols = exports.persons_export_start(user=prot, purpose="bench")
    tracemalloc.start()
    size = 0
    for chunk in exports.persons_export_lines(user=prot, columns=cols):
        size += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t4 = time.perf_counter()
    print(f"export {t4 - t3:.1f}s  {size / 1e6:.1f} MB  peak traced memory {peak / 1e6:.1f} MB")
    figure("import.export_s", round(t4 - t3, 1), "s", rows=n, mb=round(size / 1e6, 1),
           peak_traced_mb=round(peak / 1e6, 1), cpu_s=time.process_time() - c3,
           wall_s=t4 - t3)
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
