"""Camp benchmark: a camp of 50,000 people with a year of daily roll calls and distributions.

    MAWA_VAR_DIR=/tmp/campbench .venv/bin/python bench/camp/run.py [--people 50000] [--days 365]

Builds its own data in a fresh SQLite database under MAWA_VAR_DIR (bulk inserts, no ledger
entries: the benchmark measures reads), then times the camp dashboard (p50/p95 over 50 runs)
and the reconciliation of one 2,000-person block (scan mode, every card but 3 scanned).
Distribution rows are generated for the last ``--detail-days`` days (default 30; each row is
one meal of one person); the daily totals the dashboard and the cost of hosting read cover
the whole year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
from bench.figures import figure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=50000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--detail-days", type=int, default=30)
    ap.add_argument("--measure-only", action="store_true",
                    help="time the reads again on the camp built by an earlier run")
    args = ap.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0, skip_checks=True)
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.camp import selectors
    from mawa.camp.models import (
        Assignment,
        Block,
        DailyDistribution,
        Distribution,
        ItemType,
        RollCall,
        Shelter,
        Zone,
    )
    from mawa.core.ids import short_code_make, uuid7
    from mawa.core.models import Site, SiteKind
    from mawa.reception.models import Person

    t0 = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    if args.measure_only:
        camp = Site.objects.get(code="BNC")
        user = User.objects.filter(username__startswith="bench").first()
        blocks = list(Block.objects.filter(site=camp).order_by("name"))
        RollCall.objects.filter(site=camp, day=today, mode="scan", block=blocks[0]).delete()
        _measure(selectors, camp, user, blocks, now, today, code=None)
        return
    with transaction.atomic():
        camp = Site.objects.create(code="BNC", kind=SiteKind.CAMP, name_ar="مخيم", name_en="Bench")
        user = User.objects.create(username=f"bench{uuid.uuid4().hex[:6]}",
                                   role=Role.CAMP_MANAGER, all_sites=True)
        n = 0

        def code():
            nonlocal n
            n += 1
            return short_code_make("BNC", n)

        blocks, shelters = [], []
        per_block = 2000
        n_blocks = (args.people + per_block - 1) // per_block
        zone = Zone.objects.create(site=camp, short_code=code(), name="Z")
        for b in range(n_blocks):
            blocks.append(Block(site=camp, short_code=code(), zone=zone, name=f"B{b:02d}",
                                x=(b % 6) * 160, y=(b // 6) * 130, width=150, height=120))
        Block.objects.bulk_create(blocks)
        for block in blocks:
            for s in range(80):
                shelters.append(Shelter(site=camp, short_code=code(), block=block,
                                        name=f"T{s:02d}", capacity=26))
        Shelter.objects.bulk_create(shelters)
        persons = [Person(site=camp, short_code=code(), client_key=uuid.uuid4(),
                          content_hash="", current_site=camp, arrived_at=now,
                          status="interned", status_changed_at=now, registered_by=user)
                   for _ in range(args.people)]
        Person.objects.bulk_create(persons, batch_size=5000)
        Assignment.objects.bulk_create([
            Assignment(client_key=uuid.uuid4(), site=camp, person=p,
                       shelter=shelters[i // 25], block=shelters[i // 25].block, start_at=now,
                       checked_in_by=user) for i, p in enumerate(persons)], batch_size=5000)
        items = [ItemType.objects.create(site=camp, short_code=code(), name_ar=x, name_en=x,
                                         unit_cost="2.00", stock=10**6,
                                         entitled_statuses=["interned"])
                 for x in ("breakfast", "lunch", "dinner")]
        rcs, daily = [], []
        for d in range(args.days):
            day = today - dt.timedelta(days=d)
            for block in blocks:
                rcs.append(RollCall(site=camp, short_code=code(), client_key=uuid.uuid4(),
                                    block=block, mode="count", day=day, started_at=now,
                                    status="balanced", expected=per_block, present=per_block,
                                    taken_by=user))
            for item in items:
                daily.append(DailyDistribution(site=camp, item=item, day=day,
                                               quantity=args.people, cost=2 * args.people))
        RollCall.objects.bulk_create(rcs, batch_size=5000)
        DailyDistribution.objects.bulk_create(daily, batch_size=5000)
    with connection.cursor() as cur:  # detail rows: raw executemany, the fastest path
        rows = []
        for d in range(args.detail_days):
            day = today - dt.timedelta(days=d)
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
            for item in items:
                for p in persons:
                    rows.append((uuid7().hex, uuid.uuid4().hex, camp.id.hex, item.id.hex,
                                 p.id.hex, 1, at.isoformat(), day.isoformat(), "2.00",
                                 user.id.hex if hasattr(user.id, "hex") else user.id))
                if len(rows) >= 200000:
                    cur.executemany(_insert(Distribution), rows)
                    rows = []
        if rows:
            cur.executemany(_insert(Distribution), rows)
    connection.commit() if not connection.get_autocommit() else None
    build = time.perf_counter() - t0
    print(f"built: {args.people} people, {len(blocks)} blocks, {len(rcs)} roll calls, "
          f"{Distribution.objects.count()} distribution rows, {len(daily)} daily totals "
          f"in {build:.0f} s")

    _measure(selectors, camp, user, blocks, now, today, code=code)


def _measure(selectors, camp, user, blocks, now, today, *, code) -> None:
    import uuid as _uuid

    from mawa.camp.models import Assignment, RollCall, RollCallScan
    from mawa.core.ids import short_code_make

    if code is None:
        def code():
            return short_code_make("BNC", 900000 + _uuid.uuid4().int % 90000)

    times, cpu = [], []
    for _ in range(50):
        s, c = time.perf_counter(), time.process_time()
        # as the camp page does: the plan's layout first, its counts reused by the figures
        layout = selectors.camp_layout(user=user, site=camp)
        d = selectors.camp_dashboard(user=user, site=camp, layout=layout)
        selectors.hosting_cost(site=camp, population=d["population"])
        times.append((time.perf_counter() - s) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    # CPU time of this process (SQLite runs in it) next to wall time: on a machine shared with
    # other work the wall time includes waiting for a core, the CPU time does not
    print(f"dashboard (figures + plan + cost): p50 {statistics.median(times):.1f} ms, "
          f"p95 {statistics.quantiles(times, n=20)[18]:.1f} ms; CPU p50 "
          f"{statistics.median(cpu):.1f} ms, p95 {statistics.quantiles(cpu, n=20)[18]:.1f} ms")
    figure("camp.dashboard_p95", round(statistics.quantiles(times, n=20)[18], 1), "ms",
           n=len(times), cpu_s=sum(cpu) / 1000, wall_s=sum(times) / 1000,
           cpu_p95_ms=round(statistics.quantiles(cpu, n=20)[18], 1))

    block = blocks[0]
    rc = RollCall.objects.create(site=camp, short_code=code(), client_key=uuid.uuid4(),
                                 block=block, mode="scan", day=today, started_at=now,
                                 taken_by=user)
    ids = list(Assignment.objects.filter(block=block).values_list("person_id", flat=True))
    RollCallScan.objects.bulk_create([RollCallScan(roll_call=rc, person_id=i, at=now)
                                      for i in ids[3:]])
    times = []
    c0 = time.process_time()
    for _ in range(30):
        s = time.perf_counter()
        result = selectors.rollcall_reconcile(rc)
        times.append((time.perf_counter() - s) * 1000)
    assert result.missing == 3 and result.expected == len(ids)
    print(f"reconcile a {len(ids)}-person block: p50 {statistics.median(times):.1f} ms, "
          f"p95 {statistics.quantiles(times, n=20)[18]:.1f} ms")
    figure("camp.rollcall_p95", round(statistics.quantiles(times, n=20)[18], 1), "ms",
           n=len(times), block=len(ids), cpu_s=time.process_time() - c0,
           wall_s=sum(times) / 1000)


def _insert(model) -> str:
    cols = ["id", "client_key", "site_id", "item_id", "person_id", "quantity", "at", "day",
            "unit_cost", "actor_id"]
    return (f'INSERT INTO "{model._meta.db_table}" ({", ".join(cols)}) '
            f'VALUES ({", ".join(["%s"] * len(cols))})')


if __name__ == "__main__":
    main()
