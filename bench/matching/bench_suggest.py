"""Duplicate suggestions while typing, against a generated registry: latency p50/p95/p99.

    MAWA_VAR_DIR=/tmp/mawa-bench .venv/bin/python bench/matching/bench_suggest.py --persons 100000
    DATABASE_URL=postgres://… .venv/bin/python bench/matching/bench_suggest.py --persons 1000000

Generates persons (seeded; skewed Arabic given names, as in the region: محمد and أحمد
dominate), writes them in bulk straight into an empty database (the bench measures the
query, not registration), builds the matching index with ``registry_index_rebuild``, then
times ``candidates_for`` — what the registration page calls — for queries typed as officers
type them: another spelling in Latin, a missing grandfather, Arabic with a variant family name.
Prints a Markdown row for docs/benchmarks-matching.md.
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")

GIVEN = [("محمد", "Mohammed"), ("أحمد", "Ahmad"), ("علي", "Ali"), ("محمود", "Mahmoud"),
         ("مصطفى", "Mustafa"), ("حسن", "Hasan"), ("حسين", "Hussein"), ("خالد", "Khaled"),
         ("عمر", "Omar"), ("إبراهيم", "Ibrahim"), ("يوسف", "Youssef"), ("عبد الله", "Abdullah"),
         ("عبد الرحمن", "Abdulrahman"), ("سامر", "Samer"), ("بسام", "Bassam"), ("فادي", "Fadi"),
         ("وائل", "Wael"), ("زياد", "Ziad"), ("ماهر", "Maher"), ("رامي", "Rami"),
         ("طارق", "Tariq"), ("أنس", "Anas"), ("عمار", "Ammar"), ("قصي", "Qusay"),
         ("هيثم", "Haitham"), ("إياد", "Iyad"), ("غسان", "Ghassan"), ("نزار", "Nizar"),
         ("جهاد", "Jihad"), ("شادي", "Shadi"), ("أسامة", "Osama"), ("قاسم", "Qasem"),
         ("جمال", "Jamal"), ("صالح", "Saleh"), ("سليمان", "Suleiman"), ("عدنان", "Adnan"),
         ("كريم", "Karim"), ("نبيل", "Nabil"), ("هاني", "Hani"), ("وليد", "Walid")]
FAMILY_ROOTS = ["حمص", "حلب", "شام", "زعب", "رفاع", "خطيب", "قصاب", "برك", "حمد", "كنعان",
                "مصر", "جابر", "عباس", "نصر", "طلاس", "أكرا", "دروب", "حوران", "دير", "رقة"]
SUFFIXES = ["ي", "اوي", "ان", "ات", "ية", "ون", "ين", "ور"]


def family_names(rng: random.Random, n: int) -> list[str]:
    out = set()
    while len(out) < n:
        out.add("ال" + rng.choice(FAMILY_ROOTS) + rng.choice(SUFFIXES)
                + rng.choice(["", "", "ي", "ة"]) + str(rng.randint(0, 60) or ""))
    # digits are not letters: keep them out of names, use them only to diversify the set
    return ["".join(c for c in f if not c.isdigit()) + rng.choice(["", "ـ", ""]).strip("ـ")
            for f in sorted(out)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.ids import short_code_make
    from mawa.core.models import Site, SiteKind
    from mawa.matching.selectors import candidates_for
    from mawa.matching.services import registry_index_rebuild
    from mawa.reception.models import Person

    call_command("migrate", verbosity=0)
    if Person.objects.exists():
        sys.exit("use an empty database (set MAWA_VAR_DIR or DATABASE_URL)")
    rng = random.Random(args.seed)
    site = Site.objects.create(code="BEN", kind=SiteKind.CROSSING, name_ar="م", name_en="B")
    user = User.objects.create(username="bench", role=Role.INVESTIGATOR, all_sites=True)
    weights = [1 / (i + 1) ** 1.1 for i in range(len(GIVEN))]
    families = [f"ال{rng.choice(FAMILY_ROOTS)}{rng.choice(SUFFIXES)}{i}" for i in range(4000)]
    # Names with digits would be odd; map the index to extra letters instead.
    letters = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
    families = [f[:-len(str(i))] + "".join(letters[int(d) * 2] for d in str(i))
                for i, f in enumerate(families)]

    t0 = time.perf_counter()
    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    batch: list[Person] = []
    samples = []
    for i in range(args.persons):
        g, f, gf = (rng.choices(GIVEN, weights)[0] for _ in range(3))
        fam = families[min(int(rng.paretovariate(0.9)) - 1, len(families) - 1)
                       if rng.random() < 0.5 else rng.randrange(len(families))]
        year = rng.randint(1960, 2006)
        p = Person(site=site, current_site=site, short_code=short_code_make("BEN", i + 1),
                   client_key=uuid.UUID(int=rng.getrandbits(128)), content_hash="",
                   arrived_at=now, status_changed_at=now, registered_by=user,
                   given_ar=g[0], father_ar=f[0], grandfather_ar=gf[0], family_ar=fam,
                   given_lat=g[1], sex="male", birth_year=year, birth_precision="year")
        batch.append(p)
        if len(samples) < args.queries and rng.random() < args.queries * 3 / args.persons:
            samples.append((g, f, gf, fam, year))
        if len(batch) == 5000:
            with transaction.atomic():
                Person.objects.bulk_create(batch)
            batch = []
    if batch:
        Person.objects.bulk_create(batch)
    t_insert = time.perf_counter() - t0
    t0 = time.perf_counter()
    registry_index_rebuild(batch=5000)
    t_index = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

    queries = []
    for n, (g, f, gf, fam, _year) in enumerate(samples):
        kind = n % 3
        if kind == 0:  # Latin spelling of the given name, Arabic for the rest, no grandfather
            queries.append({"given_lat": g[1], "father_ar": f[0], "family_ar": fam})
        elif kind == 1:  # all four parts in Arabic, hamza dropped
            queries.append({"given_ar": g[0].replace("أ", "ا"), "father_ar": f[0],
                            "grandfather_ar": gf[0], "family_ar": fam})
        else:  # what is typed after two fields only
            queries.append({"given_ar": g[0], "family_ar": fam})
    for q in queries[:10]:  # warm the caches, as a running server has them
        candidates_for(user=user, data=q)
    times, found = [], 0
    for q in queries:
        t = time.perf_counter()
        result = candidates_for(user=user, data=q)
        times.append((time.perf_counter() - t) * 1000)
        found += bool(result)
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))]

    print(f"vendor={connection.vendor} persons={args.persons} insert={t_insert:.0f}s "
          f"index={t_index:.0f}s queries={len(times)} with_result={found}")
    print(f"| {time.strftime('%Y-%m-%d')} | {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs | {connection.vendor} | {args.persons:,} | {len(times)} | "
          f"{statistics.median(times):.1f} | {pct(0.95):.1f} | {pct(0.99):.1f} | "
          f"{t_index:.0f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
