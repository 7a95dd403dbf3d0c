"""A registry of N persons (default 1M), then the latencies a gate officer feels.

    MAWA_VAR_DIR=/tmp/mawa-1m .venv/bin/python bench/reception/bench_registry.py generate
    MAWA_VAR_DIR=/tmp/mawa-1m .venv/bin/python bench/reception/bench_registry.py measure
    DATABASE_URL=postgres://… .venv/bin/python bench/reception/bench_registry.py generate
    DATABASE_URL=postgres://… .venv/bin/python bench/reception/bench_registry.py measure

``generate`` fills an EMPTY database (a bench database, never a real one): seeded Syrian and
Iraqi names with the skew of the region (محمد and أحمد dominate, a heavy head of family
names), a Latin spelling for a third of them, a birth year or full date, a service number for
most and a national ID for some, in 40 arrival groups. Rows go in with ``core.db.rows.fast_insert``
(persons, documents, search keys) and ``matching.services.registry_index_write`` (the matching
index) — no ledger entries per generated person: the figures measured are reads and single
writes, whose cost does not grow with the ledger's length (a stream is one person's).

``measure`` (after ``generate``), each after warm-up, in this process:
- save one registration: ``services.person_register`` — the service behind the form and the
  API, with its ledger entries, name keys, matching index, duplicate queue and screening;
- the person list / search page: the real view through Django's test client (rendering
  included) for the list, a name search in each script, a short code, a service number,
  a status filter and the next page;
- duplicate suggestions while typing: ``matching.selectors.candidates_for``;
- CSV export of the whole register: ``exports.persons_export_lines``, streamed, with the
  resident memory before and after.
Prints p50/p95/p99 in ms and the load average at start and end.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "matching"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")

BATCH = 10_000

from bench.figures import figure  # noqa: E402


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, from /proc."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


def _q(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(q * len(times)))]


def _pct(times: list[float]) -> str:
    return (f"n={len(times)} p50={statistics.median(times):.1f} p95={_q(times, 0.95):.1f} "
            f"p99={_q(times, 0.99):.1f} ms")


def _setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _cast():
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.models import Site, SiteKind

    site, _ = Site.objects.get_or_create(code="BEN", defaults={
        "kind": SiteKind.CROSSING, "name_ar": "معبر", "name_en": "Bench crossing"})
    users = {}
    for name, role in (("bench-r", Role.RECEPTION_OFFICER), ("bench-p", Role.PROTECTION_OFFICER),
                       ("bench-i", Role.INVESTIGATOR)):
        u, created = User.objects.get_or_create(username=name, defaults={"role": role})
        if created:
            u.set_password("bench-password-not-used")
            u.save()
            u.sites.set([site])
        users[role] = u
    return site, users


def generate(n: int, seed: int) -> None:
    from bench_suggest import FAMILY_ROOTS, GIVEN, SUFFIXES
    from django.db import connection, transaction
    from django.utils import timezone

    from mawa.core.db.rows import fast_insert, row
    from mawa.core.ids import short_code_make, uuid7
    from mawa.core.models import ShortCodeCounter
    from mawa.matching.services import registry_index_write
    from mawa.reception.models import ArrivalGroup, IdentityDocument, Person, PersonNameKey
    from mawa.reception.services import person_completeness, person_name_keys
    from mawa.reception.values import document_lookup

    if Person.objects.exists():
        sys.exit("generate needs an empty database (set MAWA_VAR_DIR or DATABASE_URL)")
    site, users = _cast()
    officer = users["reception_officer"]
    rng = random.Random(seed)
    now = timezone.now()
    groups = []
    for i in range(40):
        g = ArrivalGroup(site=site, short_code=short_code_make("BEN", n + 1 + i),
                         client_key=uuid.UUID(int=rng.getrandbits(128)), arrived_at=now,
                         reported_count=n // 40, created_by=officer)
        g.save()
        groups.append(g)
    weights = [1 / (i + 1) ** 1.1 for i in range(len(GIVEN))]
    letters = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
    families = []
    for i in range(4000):
        tail = "".join(letters[int(d) * 2] for d in str(i))
        families.append(f"ال{rng.choice(FAMILY_ROOTS)}{rng.choice(SUFFIXES)}{tail}")
    statuses = ["arrived", "registered", "interned", "interned", "interned"]
    t0 = time.perf_counter()
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        persons, docs, keys = [], [], []
        for i in range(done, done + size):
            g, f, gf = (rng.choices(GIVEN, weights)[0] for _ in range(3))
            k = (min(int(rng.paretovariate(0.9)) - 1, len(families) - 1)
                 if rng.random() < 0.5 else rng.randrange(len(families)))
            fam = families[k]
            year = rng.randint(1960, 2006)
            full = rng.random() < 0.6
            p = Person(id=uuid7(), site=site, current_site=site,
                       short_code=short_code_make("BEN", i + 1),
                       client_key=uuid.UUID(int=rng.getrandbits(128)), content_hash="",
                       group=groups[i % 40], arrived_at=now, status=rng.choice(statuses),
                       status_changed_at=now, registered_by=officer, created_at=now,
                       updated_at=now, given_ar=g[0], father_ar=f[0], grandfather_ar=gf[0],
                       family_ar=fam, given_lat=g[1] if i % 3 == 0 else "", sex="male",
                       birth_year=year, birth_month=rng.randint(1, 12) if full else None,
                       birth_day=rng.randint(1, 28) if full else None,
                       birth_precision="day" if full else "year",
                       service_number=f"S{i:08d}" if rng.random() < 0.8 else "",
                       nationality=rng.choice(["SY", "IQ"]), rank="", unit="")
            p.completeness = person_completeness(p.__dict__)
            persons.append(p)
            if rng.random() < 0.3:
                docs.append(row(IdentityDocument, id=uuid7(), person_id=p.id,
                                kind="national_id", number=f"N{i:09d}",
                                number_key=document_lookup(f"N{i:09d}"), issuer="",
                                expiry=None,
                                created_at=now))
            keys += [row(PersonNameKey, person_id=p.id, part=part, key=key)
                     for part, key in person_name_keys(p.__dict__, [])]
        with transaction.atomic():
            fast_insert(Person, persons)
            fast_insert(IdentityDocument, docs)
            fast_insert(PersonNameKey, keys)
            registry_index_write(persons, aliases={},
                                 national_ids={d.person_id: d.number_key for d in docs},
                                 registered=True, screen=False)
        done += size
        if done % 100_000 == 0 or done == n:
            print(f"  {done:,} persons  {time.perf_counter() - t0:.0f} s  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    ShortCodeCounter.objects.update_or_create(site=site, defaults={"last_number": n + 100})
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"generated {n:,} persons in {time.perf_counter() - t0:.0f} s ({connection.vendor})")


def _list_pages(prot, sample: list, samples: int) -> None:
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    client.force_login(prot)
    with override_settings(ALLOWED_HOSTS=["*"]):
        first = client.get("/reception/persons/")
        assert first.status_code == 200, first.status_code
        from mawa.reception.selectors import person_search

        after = person_search(user=prot).next_cursor
        kinds = {
            "list": lambda s: {},
            "name ar": lambda s: {"q": f"{s['given_ar']} {s['family_ar']}"},
            "name lat": lambda s: {"q": s["given_lat"] or "Mohammed"},
            "short code": lambda s: {"q": s["short_code"]},
            "service no": lambda s: {"q": s["service_number"] or "S00000001"},
            "status": lambda s: {"status": "interned"},
            "next page": lambda s: {"after": after},
        }
        all_times = []
        c0, w0 = time.process_time(), time.perf_counter()
        for label, make in kinds.items():
            times = []
            for i in range(max(10, samples // 5) + 3):
                q = make(sample[i % len(sample)])
                t = time.perf_counter()
                r = client.get("/reception/persons/", q)
                took = (time.perf_counter() - t) * 1000
                assert r.status_code == 200, r.status_code
                if i >= 3:
                    times.append(took)
            all_times += times
            print(f"  list page, {label}: {_pct(times)}")
        print(f"search/list page, all kinds: {_pct(all_times)}")
        figure("registry.list_p95", round(_q(all_times, 0.95), 1), "ms", n=len(all_times),
               cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)


def measure(samples: int, seed: int, export: bool, only: set[str] | None = None,
            compare: bool = True) -> None:
    from django.db import connection

    from mawa.matching.selectors import candidates_for
    from mawa.reception import exports
    from mawa.reception.models import Person
    from mawa.reception.services import PersonInput, person_register

    site, users = _cast()
    officer, prot = users["reception_officer"], users["protection_officer"]
    total = Person.objects.count()
    print(f"{time.strftime('%Y-%m-%d %H:%M')} {platform.machine()} {os.cpu_count()} CPUs "
          f"vendor={connection.vendor} persons={total:,} load={os.getloadavg()}")
    rng = random.Random(seed)
    from mawa.core.ids import short_code_make

    codes = [short_code_make("BEN", rng.randint(1, total - 50)) for _ in range(samples * 3)]
    sample = list(Person.objects.filter(short_code__in=codes).values(
        "id", "given_ar", "given_lat", "father_ar", "grandfather_ar", "family_ar",
        "birth_year", "short_code", "service_number"))
    print(f"sampled {len(sample)} existing persons for queries")

    def wanted(step: str) -> bool:
        return only is None or step in only

    # 1. save one registration (a new person whose names resemble existing ones)
    times = []
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(samples + 10 if wanted("register") else 0):
        s = sample[i % len(sample)]
        data = PersonInput(values={"given_ar": s["given_ar"], "father_ar": s["father_ar"],
                                   "family_ar": s["family_ar"], "sex": "male",
                                   "service_number": f"B{rng.getrandbits(40)}"},
                           birth=str(s["birth_year"]))
        t = time.perf_counter()
        person_register(actor=officer, site=site, client_key=uuid.uuid4(), data=data)
        if i >= 10:
            times.append((time.perf_counter() - t) * 1000)
    if times:
        print(f"save one registration: {_pct(times)}")
        figure("registry.save_p95", round(_q(times, 0.95), 1), "ms", n=len(times),
               cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)

    # 2. the person list / search page through the real view
    if wanted("list"):
        _list_pages(prot, sample, samples)

    # 3. duplicate suggestions while typing
    queries = []
    if not wanted("suggest"):
        sample = []
    for n, s in enumerate(sample[:samples]):
        kind = n % 3
        if kind == 0:
            queries.append({"given_lat": s["given_lat"] or "Mohammed", "father_ar": s["father_ar"],
                            "family_ar": s["family_ar"]})
        elif kind == 1:
            queries.append({"given_ar": s["given_ar"].replace("أ", "ا"),
                            "father_ar": s["father_ar"], "grandfather_ar": s["grandfather_ar"],
                            "family_ar": s["family_ar"]})
        else:
            queries.append({"given_ar": s["given_ar"], "family_ar": s["family_ar"]})
    for q in queries[:10]:
        candidates_for(user=prot, data=q)
    times, found, shown = [], 0, []
    c0, w0 = time.process_time(), time.perf_counter()
    for q in queries:
        t = time.perf_counter()
        result = candidates_for(user=prot, data=q)
        times.append((time.perf_counter() - t) * 1000)
        found += bool(result)
        shown.append(result)
    if queries:
        print(f"duplicate suggestion while typing: {_pct(times)} (with a result: {found})")
        figure("registry.suggest_p95", round(_q(times, 0.95), 1), "ms", n=len(times),
               cpu_s=time.process_time() - c0, wall_s=time.perf_counter() - w0)
        _recall(queries, sample, shown)
    if queries and compare:
        _suggest_before_after(prot, queries)

    # 4. CSV export of the whole register, streamed
    if export and wanted("export"):
        rss0, _peak0 = _rss_mb()
        t, c0 = time.perf_counter(), time.process_time()
        cols = exports.persons_export_start(user=prot, purpose="benchmark")
        size = lines = 0
        for chunk in exports.persons_export_lines(user=prot, columns=cols):
            size += len(chunk)
            lines += chunk.count("\n")
        took = time.perf_counter() - t
        rss1, peak1 = _rss_mb()
        print(f"CSV export: {lines:,} lines, {size / 1e6:.0f} MB in {took:.1f} s; RSS "
              f"{rss0:.0f} MB before, {rss1:.0f} MB after, peak {peak1:.0f} MB")
        figure("registry.export_s", round(took, 1), "s", lines=lines,
               rss_before_mb=round(rss0), rss_after_mb=round(rss1), rss_peak_mb=round(peak1),
               cpu_s=time.process_time() - c0, wall_s=took)
    print(f"load at end: {os.getloadavg()}")


def _recall(queries, sample, shown) -> None:
    """How often the person a query was typed from is among the five suggestions — or ties
    with all five (a common name typed so far fits hundreds of persons equally well)."""
    from mawa.matching import engine
    from mawa.matching.models import IndexedPerson
    from mawa.matching.selectors import index_scorer
    from mawa.names import prepare

    records = dict(IndexedPerson.objects.filter(
        person_id__in=[s["id"] for s in sample[:len(queries)]]).values_list("person_id",
                                                                           "record"))
    exact = tied = 0
    for q, s, result in zip(queries, sample, shown, strict=False):
        ids = [r.person.pk for r in result]
        if s["id"] in ids:
            exact += 1
            continue
        p = prepare(engine.typed_record(q))
        own, _m = engine.score(index_scorer(query=p), p,
                               prepare(engine.record_from_json(records[s["id"]])))
        tied += len(result) == 5 and min(r.probability for r in result) >= own - 1e-9
    n = len(queries)
    print(f"  typed person suggested: {exact}/{n}; suggested or tied with all five shown: "
          f"{exact + tied}/{n}")


def _suggest_before_after(user, queries) -> None:
    """The suggestion as it was before the caps (every key block grouped, 300 candidates
    scored, each record re-parsed) against now, query by query alternately in this process,
    so that the other work on the machine weighs on both alike."""
    from mawa.matching import selectors as sel
    from mawa.names import prepare

    now = {"MAX_BLOCK": sel.MAX_BLOCK, "TYPING_CANDIDATES": sel.TYPING_CANDIDATES,
           "prepared_record": sel.prepared_record}
    before = {"MAX_BLOCK": 10**9, "TYPING_CANDIDATES": 300, "prepared_record": prepare}
    times: dict[str, list[float]] = {"before": [], "now": []}
    for i, q in enumerate(queries):
        order = [("before", before), ("now", now)] if i % 2 else [("now", now),
                                                                  ("before", before)]
        for label, config in order:
            for k, v in config.items():
                setattr(sel, k, v)
            t = time.perf_counter()
            sel.candidates_for(user=user, data=q)
            times[label].append((time.perf_counter() - t) * 1000)
    for k, v in now.items():
        setattr(sel, k, v)
    p95 = {k: sorted(v)[int(0.95 * len(v))] for k, v in times.items()}
    print(f"  suggestion before the caps: {_pct(times['before'])}")
    print(f"  suggestion now:             {_pct(times['now'])}")
    print(f"  p95 now / before = {p95['now'] / p95['before']:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=["generate", "measure"])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated: register,list,suggest,export")
    args = ap.parse_args(argv)
    _setup()
    if args.step == "generate":
        generate(args.persons, args.seed)
    else:
        only = set(filter(None, args.only.split(","))) or None
        measure(args.samples, args.seed, not args.no_export, only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
