"""Custody benchmark: N items and ~N×E custody events, then the item page and the store list
(p95 over real requests through Django's test client), the reconciliation report and
`mawa custody verify` (hash chains + replay of every event).

    MAWA_VAR_DIR=/tmp/bench-custody .venv/bin/python bench/custody/bench_custody.py \
        --items 500000 --events 10            # the issue's 500k items / 5M events

The data is generated directly (bulk inserts), but with exactly what the services would write:
the same payloads, the same `derive.apply` states, a valid hash chain — so `custody verify`
must pass on it, and does.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.figures import figure  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
os.environ.setdefault("MAWA_VAR_DIR", "/tmp/bench-custody")


def p95(samples):
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--events", type=int, default=10, help="events per item (≥ 5)")
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection, transaction

    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.ids import short_code_make, uuid7
    from mawa.core.ledger import GENESIS, canonical_payload, entry_hash, ledger_now
    from mawa.core.models import LedgerEntry, LedgerHead, Site, SiteKind
    from mawa.custody import derive
    from mawa.custody.models import CustodyEvent, Item, Kind, Store
    from mawa.reception.models import ArrivalGroup

    rng = random.Random(7)  # noqa: S311
    site, _ = Site.objects.get_or_create(code="RHM", defaults={
        "kind": SiteKind.CROSSING, "name_ar": "معبر", "name_en": "Crossing"})
    user = User.objects.filter(username="bench").first()
    if user is None:
        user = User.objects.create(username="bench", role=Role.CUSTODY_OFFICER)
        user.sites.set([site])
    actor = str(user.pk)
    stream = "custody/RHM"
    t0 = time.perf_counter()
    if not Item.objects.exists():
        group = ArrivalGroup.objects.create(site=site, short_code=short_code_make("RHM", 1),
                                            client_key=uuid.uuid4(), arrived_at="2026-01-01T00:00Z",
                                            reported_count=1, created_by=user)
        stores = [Store.objects.create(site=site, name=f"Store {n}",
                                       short_code=short_code_make("RHM", 2 + n))
                  for n in range(args.stores)]
        from mawa.custody.models import Receipt

        receipt = Receipt.objects.create(site=site, short_code=short_code_make("RHM", 100),
                                         client_key=uuid.uuid4(), group=group,
                                         received_by=user, status="issued")
        prev, seq = GENESIS, 0
        # RFC 8785 text of these payloads (strings, integers, booleans; no floats, nothing to
        # escape beyond what json escapes) is json.dumps with sorted keys and no spaces — about
        # 20× faster than rfc8785.dumps, which made generation crawl at ~40 items/s.
        dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False)
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:  # a throwaway database: no fsync while filling it
                cur.execute("PRAGMA synchronous=OFF")
        chunk = 20000
        for start in range(0, args.items, chunk):
            items, entries, index = [], [], []
            for n in range(start, min(start + chunk, args.items)):
                kind = Kind.AMMUNITION if n % 10 == 0 else Kind.WEAPON
                item_id = uuid7()
                store = stores[n % len(stores)]
                qty = 500 if kind == Kind.AMMUNITION else 1
                plan = [("surrendered", {"receipt": receipt.short_code, "bearer": group.short_code},
                         {"new": True, "qty": qty}),
                        ("safety_cleared", {"by": "A"}, {}), ("verified", {"by": "B"}, {}),
                        ("tagged", {"tag": "x"}, {}),
                        ("stored", {"store": str(store.pk), "bay": "B1", "rack": "R1"}, {})]
                plan += [("sealed", {"seal": f"S{k}"}, {}) for k in range(args.events - 5)]
                state = None
                for kind_name, data, extra in plan:
                    before = state
                    state = derive.apply(state, kind_name, data, extra, actor=actor, site="RHM")
                    seq += 1
                    line = {"id": str(item_id), "n": state["n"], **extra, "after": state}
                    text = dumps({"data": data, "items": [line]})
                    if seq <= 1000:  # the fast text is the canonical text (checked on a sample)
                        assert text == canonical_payload(json.loads(text)), text
                    ts = ledger_now()
                    digest = entry_hash(prev, stream, seq, ts, actor, "RHM", kind_name, text)
                    entries.append(LedgerEntry(id=seq, stream=stream, seq=seq, ts=ts, actor=actor,
                                               site="RHM", kind=kind_name, payload=text,
                                               prev_hash=prev, entry_hash=digest))
                    index.append(CustodyEvent(
                        item_id=item_id, ledger_entry_id=seq, kind=kind_name,
                        item_seq=state["n"], at=ts,
                        from_state=before["state"] if before else None,
                        to_state=state["state"],
                        from_quantity=before["quantity"] if before else None,
                        to_quantity=state["quantity"]))
                    prev = digest
                items.append(Item(
                    id=item_id, site=site, short_code=short_code_make("RHM", 1000 + n),
                    client_key=uuid.uuid4(), kind=kind, receipt=receipt, model="AKM",
                    serial_number=f"SN{n}", serial_key=f"SN{n}", calibre="7.62×39 mm",
                    iti_category="SA-assault" if kind == Kind.WEAPON else "",
                    state=state["state"], custodian_id=actor, location_site=site,
                    store_id=state["store"], bay="B1", rack="R1", quantity=state["quantity"],
                    seal=state["seal"], item_seq=state["n"]))
            with transaction.atomic():
                Item.objects.bulk_create(items)
                LedgerEntry.objects.bulk_create(entries)
                CustodyEvent.objects.bulk_create(index)
            print(f"  {min(start + chunk, args.items)} items, {seq} events", flush=True)
        LedgerHead.objects.update_or_create(stream=stream, defaults={"seq": seq,
                                                                     "head_hash": prev})
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
    gen = time.perf_counter() - t0
    n_items, n_events = Item.objects.count(), LedgerEntry.objects.filter(stream=stream).count()
    print(f"data: {n_items} items, {n_events} custody events ({gen:.0f} s to generate)")

    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    codes = list(Item.objects.values_list("short_code", flat=True)[:1])
    all_ids = n_items
    samples = []
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(args.requests):
        code = short_code_make("RHM", 1000 + rng.randrange(all_ids))
        t = time.perf_counter()
        r = client.get(f"/custody/items/{code}/")
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (code, r.status_code)
    print(f"item page: p95 {p95(samples):.0f} ms, median {statistics.median(samples):.0f} ms "
          f"({args.requests} requests)")
    figure("custody.item_page_p95", round(p95(samples)), "ms", n=len(samples),
           cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)
    c0, w0 = time.process_time(), time.perf_counter()
    store_codes = list(Store.objects.values_list("short_code", flat=True))
    samples = []
    for k in range(args.requests):
        code = rng.choice(store_codes)
        url = f"/custody/stores/{code}/"
        if k % 2:  # a deep page too: keyset pagination
            before = Item.objects.filter(store__short_code=code).order_by("id").values_list(
                "id", flat=True)[rng.randrange(max(1, n_items // len(store_codes) - 1))]
            url += f"?before={before}"
        t = time.perf_counter()
        r = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    print(f"store list: p95 {p95(samples):.0f} ms, median {statistics.median(samples):.0f} ms "
          f"({args.requests} requests, half of them deep pages)")
    figure("custody.store_list_p95", round(p95(samples)), "ms", n=len(samples),
           cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)
    t, c0 = time.perf_counter(), time.process_time()
    r = client.get("/custody/reconciliation/")
    assert r.status_code == 200
    print(f"reconciliation report page: {time.perf_counter() - t:.2f} s")
    figure("custody.reconciliation_s", round(time.perf_counter() - t, 2), "s",
           cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - t)
    from mawa.custody.verify import custody_verify

    t, c0 = time.perf_counter(), time.process_time()
    report = custody_verify()
    took = time.perf_counter() - t
    figure("custody.verify_s", round(took, 1), "s", events=report.entries, ok=report.ok,
           cpu_s=time.process_time() - c0, wall_s=took)
    print(f"custody verify (chains + replay): {took:.1f} s, ok={report.ok}, "
          f"{report.entries} entries, {report.items} items")
    assert report.ok, (report.chain_failures[:3], report.problems[:3])
    print(f"database: {connection.vendor}; items sample {codes}")


if __name__ == "__main__":
    main()
