"""Benchmark: the situation report for 1M persons and 500k custody items.

    .venv/bin/python bench/reports/bench_sitrep.py [--persons 1000000] [--items 500000]
    DATABASE_URL=postgres://… .venv/bin/python bench/reports/bench_sitrep.py   # PostgreSQL

Generates its own data in a throwaway database (SQLite in a temporary MAWA_VAR_DIR unless
DATABASE_URL is set), then times, as the operation runs them:

- the nightly job's snapshot of the report day (``mawa sitrep --store`` keeps the counts of a
  day that is over: one read of the whole register);
- the web page (HTML, Django test client) and the PDF of that day, each ``--runs`` times
  (median): they read the snapshot;
- a past day without a snapshot (its first report derives and keeps it), then again;
- today's page (the services' clock set to the day after the report day): yesterday's
  snapshot and the persons changed today.

``--compare-scan`` also times the page and the PDF of the report day with the snapshot left
out (every figure read from the register, as before the snapshot), in the same process on the
same data. Figures go in docs/benchmarks-reports.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure-only", action="store_true",
                        help="measure the database at MAWA_VAR_DIR / DATABASE_URL made by an "
                             "earlier run (kept with --keep) instead of generating one")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated scratch database and print where it is")
    parser.add_argument("--compare-scan", action="store_true",
                        help="also time the report day read from the register (no snapshot)")
    args = parser.parse_args()
    scratch = None
    if args.measure_only:
        if not (os.environ.get("DATABASE_URL") or os.environ.get("MAWA_VAR_DIR")):
            parser.error("--measure-only needs MAWA_VAR_DIR or DATABASE_URL")
    elif not os.environ.get("DATABASE_URL"):
        scratch = tempfile.mkdtemp(prefix="mawa-bench-reports-")
        os.environ["MAWA_VAR_DIR"] = scratch
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    try:
        if not args.measure_only:
            generate(args.persons, args.items)
        measure(args.runs, compare_scan=args.compare_scan)
    finally:
        if scratch and args.keep:
            print(f"database kept: MAWA_VAR_DIR={scratch}")
        elif scratch:
            shutil.rmtree(scratch, ignore_errors=True)


FK_DEFAULTS: dict = {}  # model label → pk, for required foreign keys (the site, the user)


def _defaults(model, overrides: dict) -> tuple[list[str], list]:
    """Column names and a template row: every concrete field, its default or an empty value."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    cols, values = [], []
    for f in model._meta.concrete_fields:
        cols.append(f.column)
        if f.name in overrides or f.attname in overrides:
            values.append(_u(overrides.get(f.name, overrides.get(f.attname))))
        elif f.default is not NOT_PROVIDED and not callable(f.default):
            values.append(f.get_db_prep_save(f.default, connection) if f.default is not None
                          else None)
        elif f.null:
            values.append(None)
        elif f.is_relation and f.related_model._meta.label in FK_DEFAULTS:
            values.append(_u(FK_DEFAULTS[f.related_model._meta.label]))
        elif f.get_internal_type() in ("CharField", "TextField"):
            values.append("")
        elif f.get_internal_type() == "JSONField":
            values.append("[]")
        else:
            values.append(0)
    return cols, values


def _u(value):
    """A UUID as the database stores it (hex text in SQLite, native in PostgreSQL)."""
    from django.db import connection

    if isinstance(value, uuid.UUID):
        return value.hex if connection.vendor == "sqlite" else str(value)
    return value


def _insert(model, cols: list[str], rows) -> None:
    from django.db import connection

    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
           f"VALUES ({', '.join(['%s'] * len(cols))})")
    with connection.cursor() as cur:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 20000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)


def generate(n_persons: int, n_items: int) -> None:
    from django.db import transaction

    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.models import Site, SiteKind
    from mawa.reception.models import LifecycleEvent, Person

    rng = random.Random(7)
    t0 = time.perf_counter()
    crossings = [Site.objects.create(code=c, kind=SiteKind.CROSSING, name_ar=c, name_en=c)
                 for c in ("RHM", "QAS", "JBL")]
    camps = [Site.objects.create(code=c, kind=SiteKind.CAMP, name_ar=c, name_en=c)
             for c in ("NUR", "AMN")]
    user = User.objects.create(username="bench", role=Role.ADMINISTRATOR, all_sites=True)
    FK_DEFAULTS.update({"core.Site": crossings[0].pk, User._meta.label: user.pk})
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    statuses = ["interned"] * 70 + ["registered"] * 10 + ["hospitalised"] * 5 + \
        ["released", "repatriated", "referred_out", "escaped", "detained"] * 3
    ids = []
    p_cols, p_tpl = _defaults(Person, {"registered_by": user.pk})
    e_cols, e_tpl = _defaults(LifecycleEvent, {"actor": user.pk})
    pi = {c: i for i, c in enumerate(p_cols)}
    ei = {c: i for i, c in enumerate(e_cols)}

    def persons():
        for n in range(n_persons):
            row = list(p_tpl)
            pid = uuid.uuid4()
            ids.append(pid)
            arrived = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
            status = rng.choice(statuses)
            crossing = rng.choice(crossings)
            camp = rng.choice(camps)
            row[pi["id"]] = _u(pid)
            row[pi["site_id"]] = _u(crossing.pk)
            row[pi["current_site_id"]] = _u((camp if status != "registered" else crossing).pk)
            row[pi["short_code"]] = f"B{n:09d}"
            row[pi["client_key"]] = _u(uuid.uuid4())
            row[pi["arrived_at"]] = arrived.isoformat()
            row[pi["created_at"]] = arrived.isoformat()
            row[pi["updated_at"]] = arrived.isoformat()
            row[pi["status_changed_at"]] = (arrived + dt.timedelta(hours=8)).isoformat()
            row[pi["status"]] = status
            row[pi["sex"]] = "male" if rng.random() < 0.96 else "female"
            row[pi["birth_year"]] = rng.randrange(1960, 2008)
            row[pi["category"]] = "combatant"
            row[pi["languages"]] = "[]"
            row[pi["vulnerabilities"]] = "[]"
            yield row

    def events():
        for pid in ids:
            for to in ("arrived", "interned"):
                row = list(e_tpl)
                row[ei["id"]] = _u(uuid.uuid4())
                row[ei["person_id"]] = _u(pid)
                row[ei["to_status"]] = to
                row[ei["at"]] = start.isoformat()
                row[ei["site_id"]] = _u(crossings[0].pk)
                row[ei["details"]] = "{}"
                yield row

    with transaction.atomic():
        _insert(Person, p_cols, persons())
        _insert(LifecycleEvent, e_cols, events())
    print(f"generated {n_persons} persons (+{2 * n_persons} lifecycle events) in "
          f"{time.perf_counter() - t0:.1f} s")
    generate_items(n_items, crossings, user, rng)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def generate_items(n_items: int, sites, user, rng) -> None:
    from django.apps import apps
    from django.db import transaction

    try:
        Item = apps.get_model("custody.Item")
    except LookupError:
        print("custody.Item not available: items skipped")
        return
    t0 = time.perf_counter()
    cols, tpl = _defaults(Item, {})
    ci = {c: i for i, c in enumerate(cols)}
    kinds = ["weapon"] * 6 + ["ammunition"] * 3 + ["vehicle"]
    states = ["in_custody"] * 8 + ["destroyed", "in_transit", "missing"]
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    def rows():
        for n in range(n_items):
            row = list(tpl)
            at = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
            row[ci["id"]] = _u(uuid.uuid4())
            row[ci["site_id"]] = _u(rng.choice(sites).pk)
            row[ci["short_code"]] = f"I{n:09d}"
            row[ci["created_at"]] = at.isoformat()
            row[ci["kind"]] = rng.choice(kinds)
            row[ci["state"]] = rng.choice(states)
            row[ci["quantity"]] = 1
            for f in Item._meta.concrete_fields:  # unique keys (client_key …) get fresh uuids
                if f.unique and f.get_internal_type() == "UUIDField" and f.column != "id":
                    row[ci[f.column]] = _u(uuid.uuid4())
            row[ci["on_hold"]] = rng.random() < 0.01
            yield row

    with transaction.atomic():
        _insert(Item, cols, rows())
    print(f"generated {n_items} items in {time.perf_counter() - t0:.1f} s", flush=True)


def _median(label: str, times: list[float]) -> None:
    print(f"{label}: median {statistics.median(times):.2f} s, runs "
          f"{', '.join(f'{x:.2f}' for x in times)}", flush=True)


def measure(runs: int, *, compare_scan: bool = False) -> None:
    from contextlib import nullcontext
    from unittest import mock

    from django.conf import settings
    from django.test import Client

    from mawa.accounts.models import User
    from mawa.core.clock import clock_set
    from mawa.reports import selectors, services
    from mawa.reports.models import DaySnapshot

    settings.ALLOWED_HOSTS = ["testserver"]

    client = Client()
    user = User.objects.get(username="bench")
    client.force_login(user)
    day = "2025-03-30"
    report_day = dt.date.fromisoformat(day)

    def page(on: str = day) -> float:
        t = time.perf_counter()
        response = client.get("/reports/", {"date": on}, HTTP_ACCEPT_LANGUAGE="ar")
        assert response.status_code == 200, response.status_code
        return time.perf_counter() - t

    def pdf() -> float:
        # The PDF leaves only as a controlled export (purpose, recipient, encrypted zip): time
        # the service behind the export form — every section, charts, WeasyPrint, encryption,
        # ledger.
        t = time.perf_counter()
        services.sitrep_pdf_export(user=user, day=report_day, site_code=None, language="ar",
                                   purpose="benchmark", recipient="benchmark")
        return time.perf_counter() - t

    DaySnapshot.objects.filter(day__in=[report_day, dt.date(2025, 3, 5)]).delete()
    t = time.perf_counter()
    kept = services.snapshot_store(day=report_day)
    print(f"nightly snapshot of {day} (mawa sitrep --store): {time.perf_counter() - t:.2f} s, "
          f"{kept.rows if kept else 0} rows", flush=True)
    _median("web page (HTML)", [page() for _ in range(runs)])
    _median("PDF (controlled export)", [pdf() for _ in range(runs)])
    if compare_scan:
        # the same day read from the register, as before the snapshot
        with mock.patch.object(selectors, "snapshot_read", return_value=None):
            _median("web page (HTML), no snapshot", [page() for _ in range(runs)])
            _median("PDF (controlled export), no snapshot", [pdf() for _ in range(runs)])
    print(f"web page, a past day without a snapshot (derived and kept): {page('2025-03-05'):.2f} s")
    print(f"web page, the same day again (snapshot): {page('2025-03-05'):.2f} s")
    # today: the day after the report day, with the arrivals and moves of that day
    today = report_day + dt.timedelta(days=1)
    moment = dt.datetime.combine(today, dt.time(18), tzinfo=dt.UTC)
    with clock_set(moment) if dt.date.today() != today else nullcontext():
        _median(f"web page, today ({today}: yesterday's snapshot + today's changes)",
                [page(today.isoformat()) for _ in range(runs)])


if __name__ == "__main__":
    main()
