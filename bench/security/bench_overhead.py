"""What two-factor sign-in and site scoping add to a registration save and a person search
(issue #9: no more than 10 % on the p95), measured in one process, A and B interleaved.

    MAWA_VAR_DIR=/tmp/ovh-20k .venv/bin/python bench/reception/bench_registry.py generate \\
        --persons 20000
    MAWA_VAR_DIR=/tmp/ovh-20k .venv/bin/python bench/security/bench_overhead.py
    DATABASE_URL=postgres://… .venv/bin/python bench/security/bench_overhead.py

It runs against a bench database made by ``bench_registry.py generate`` (never a real one): it
registers persons, enrols the bench users' authenticator afresh at every sign-in, and adds a
check site ``BEX`` (a camp) with one check user, ``bench-x``.

Two configurations of the same code, each with its own test client signed in through the
real two-step sign-in (password, then a TOTP code) and CSRF enforced:

A. as shipped;
B. baseline, without touching the app's files:
   - two-factor: Mawa checks the second factor once, at sign-in (a session is signed in only
     after the code); no per-request check of the code exists. What runs on every request to
     keep that verified session safe is removed: ``SessionSecurityMiddleware`` (absolute
     lifetime, the live-session list) leaves ``MIDDLEWARE``, and the session hash goes back to
     Django's (password only, instead of password + role + sites + "sign out everywhere");
   - scoping: ``access.site_ids`` answers "every site" (``None``) for every signed-in user, so
     ``scope`` returns the queryset unfiltered, ``in_scope`` allows everything and the list
     takes the unscoped path.
   Role permissions, CSRF, the idle timeout (``SESSION_SAVE_EVERY_REQUEST``), audit and ledger
   run in both.

Measured, after warm-up, alternating A and B request by request (ABBA order, the same input
for both in a pair): (a) the registration POST ``/reception/persons/new/`` (form → policy →
``services.person_register`` → ledger → redirect); (b) the person list/search GETs that
``bench_registry.py measure`` times (list, Arabic name, Latin name, short code, service
number, status filter, next page), cycling through the kinds. Printed: p50/p95 wall and CPU
time for A and B, p95(A)/p95(B) with a bootstrap 90 % interval, the overhead, the number of
samples, queries per request for A and B (with the ones A adds), the checks that B really
differs, and the load average at start and end.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reception"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "matching"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")

PASSWORD = "bench-password-not-used"  # bench_registry's bench users
SESSION_GUARD = "mawa.accounts.middleware.SessionSecurityMiddleware"
SEARCH_KINDS = ("list", "name ar", "name lat", "short code", "service no", "status",
                "next page")
ROW_LINK = re.compile(r'href="/reception/persons/[0-9a-f-]{36}/"')


# --- the two configurations ---------------------------------------------------------------

class Config:
    """A configuration: which of the security layers are removed, and its signed-in clients.

    ``drop`` holds any of "guard" (SessionSecurityMiddleware), "hash" (the extended session
    hash) and "scope" (site scoping). Entering the configuration applies it to the process;
    its clients are signed in while it is applied, so their middleware chain and their session
    hash are the configuration's own.
    """

    def __init__(self, name: str, drop: frozenset[str]):
        self.name, self.drop = name, drop
        self.clients: dict[str, object] = {}
        self._undo: list = []

    def __enter__(self):
        from django.conf import settings
        from django.contrib.auth.base_user import AbstractBaseUser
        from django.test.utils import override_settings

        from mawa.accounts import access
        from mawa.accounts.models import User

        if "guard" in self.drop:
            o = override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE
                                              if m != SESSION_GUARD])
            o.enable()
            self._undo.append(o.disable)
        if "hash" in self.drop:
            shipped = User.__dict__["get_session_auth_hash"]
            User.get_session_auth_hash = AbstractBaseUser.get_session_auth_hash
            self._undo.append(lambda: setattr(User, "get_session_auth_hash", shipped))
        if "scope" in self.drop:
            shipped_ids = access.site_ids

            def every_site(user):
                return None if getattr(user, "is_authenticated", False) else set()

            access.site_ids = every_site
            self._undo.append(lambda: setattr(access, "site_ids", shipped_ids))
        return self

    def __exit__(self, *exc):
        while self._undo:
            self._undo.pop()()


def _token(response) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(user, site=None):
    """A client with CSRF checks on, signed in through the real two steps: password, then a
    TOTP code (the authenticator is enrolled afresh, as the test fixture does, so that a code
    is always unused). Returns the client and the CSRF token of its session."""
    from django.test import Client

    from mawa.accounts import services

    client = Client(enforce_csrf_checks=True)
    token = _token(client.get("/accounts/login/"))
    secret = services.totp_secret_new()
    now = time.time()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, now))
    r = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD,
                                         "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and "/login/code/" in r["Location"], (r.status_code, r.get(
        "Location"))
    r = client.post("/accounts/login/code/", {
        "code": services.totp_code_at(secret, now + services.TOTP_STEP),
        "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and "/login/" not in r["Location"], r.status_code
    token = _token(client.get("/reception/persons/"))
    if site is not None:
        r = client.post("/accounts/site/", {"site_id": str(site.pk),
                                            "csrfmiddlewaretoken": token})
        assert r.status_code == 302, r.status_code
    return client, token


# --- the requests -------------------------------------------------------------------------

def _registration(s: dict, rng: random.Random, token: str) -> dict:
    return {"csrfmiddlewaretoken": token, "client_key": str(uuid.uuid4()),
            "category": "combatant", "sex": "male", "given_ar": s["given_ar"],
            "father_ar": s["father_ar"], "family_ar": s["family_ar"],
            "birth": str(s["birth_year"]), "service_number": f"B{rng.getrandbits(40)}"}


def _search(kind: str, s: dict, after: str) -> dict:
    return {
        "list": {},
        "name ar": {"q": f"{s['given_ar']} {s['family_ar']}"},
        "name lat": {"q": s["given_lat"] or "Mohammed"},
        "short code": {"q": s["short_code"]},
        "service no": {"q": s["service_number"] or "S00000001"},
        "status": {"status": "interned"},
        "next page": {"after": after},
    }[kind]


def do_register(config: Config, s: dict, rng: random.Random):
    client, token = config.clients["r"]
    r = client.post("/reception/persons/new/", _registration(s, rng, token))
    assert r.status_code == 302 and "/reception/persons/" in r["Location"], (
        config.name, r.status_code, r.content[:300])
    return r


def do_search(config: Config, kind: str, s: dict, after: str):
    client, _token = config.clients["p"]
    r = client.get("/reception/persons/", _search(kind, s, after))
    assert r.status_code == 200, (config.name, kind, r.status_code)
    return r


# --- figures ------------------------------------------------------------------------------

def _q(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(q * len(times)))]


def _ratio_interval(a: list[float], b: list[float], rounds: int = 1000,
                    seed: int = 5) -> tuple[float, float]:
    """Bootstrap 90 % interval of p95(A)/p95(B) (pairs resampled together: the pairs shared
    the machine's state)."""
    rng = random.Random(seed)
    n = len(a)
    ratios = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        ratios.append(_q([a[i] for i in idx], 0.95) / _q([b[i] for i in idx], 0.95))
    ratios.sort()
    return ratios[int(0.05 * rounds)], ratios[int(0.95 * rounds) - 1]


def report(label: str, wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict:
    a, b = wall["A"], wall["B"]
    pa, pb = _q(a, 0.95), _q(b, 0.95)
    lo, hi = _ratio_interval(a, b)
    ca, cb = _q(cpu["A"], 0.95), _q(cpu["B"], 0.95)
    print(f"{label}: n={len(a)} per configuration\n"
          f"  wall ms  A p50 {statistics.median(a):7.1f} p95 {pa:7.1f} | "
          f"B p50 {statistics.median(b):7.1f} p95 {pb:7.1f} | p95 A/B {pa / pb:.3f} "
          f"(90 % interval {lo:.3f}–{hi:.3f}), overhead {100 * (pa / pb - 1):+.1f} %\n"
          f"  CPU ms   A p50 {statistics.median(cpu['A']):7.1f} p95 {ca:7.1f} | "
          f"B p50 {statistics.median(cpu['B']):7.1f} p95 {cb:7.1f} | p95 A/B {ca / cb:.3f}, "
          f"overhead {100 * (ca / cb - 1):+.1f} %", flush=True)
    return {"n": len(a), "a50": statistics.median(a), "a95": pa, "b50": statistics.median(b),
            "b95": pb, "lo": lo, "hi": hi, "ca95": ca, "cb95": cb}


# --- the checks that B is what it claims ---------------------------------------------------

def _rows(response) -> int:
    return len(set(ROW_LINK.findall(response.content.decode())))


def _site_filtered(sql: str) -> bool:
    """A condition on the person's sites (not the join of ``select_related``)."""
    return bool(re.search(r'"(current_)?site_id"\s*(IN\s*\(|=\s*[^\s"])', sql))


def checks(a: Config, b: Config, cast: dict, sample: list, after: str) -> None:
    """Print what A refuses and B answers, and that B's SQL has no site filter."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from mawa.accounts import services
    from mawa.reception.models import Person

    print("checks (A as shipped, B baseline):")
    # 1. an unverified session: the password given, the code not
    for config in (a, b):
        with config:
            c = Client(enforce_csrf_checks=True)
            token = _token(c.get("/accounts/login/"))
            services.totp_enrol_confirm(
                user=cast["p"], secret=(secret := services.totp_secret_new()),
                code=services.totp_code_at(secret, time.time()))
            c.post("/accounts/login/", {"username": cast["p"].username, "password": PASSWORD,
                                        "csrfmiddlewaretoken": token})
            r = c.get("/reception/persons/")
            print(f"  {config.name}: password given, code not → {r.status_code} "
                  f"{r.get('Location', '')[:40]}")
    print("    (the second factor is checked at sign-in; neither configuration signs in "
          "without it, so B removes no sign-in step, only what runs on every request)")
    # 2. a session past its absolute lifetime (12 h)
    for config in (a, b):
        with config:
            c, _t = sign_in(cast["p"], cast["site"])
            s = c.session
            s["login_at"] = time.time() - 13 * 3600
            s.save()
            r = c.get("/reception/persons/")
            print(f"  {config.name}: signed in 13 h ago → {r.status_code} "
                  f"{r.get('Location', '')[:40]}")
    # 3. a session whose user was given another site since (role/sites in the session hash)
    x, bex = cast["x"], cast["bex"]
    for config in (a, b):
        with config:
            c, _t = sign_in(x)
            x.sites.add(cast["site"])
            try:
                r = c.get("/reception/persons/")
            finally:
                x.sites.set([bex])
            print(f"  {config.name}: user's sites changed after sign-in → {r.status_code} "
                  f"{r.get('Location', '')[:40]}")
    # 4. a person of BEN asked for by a user of BEX only
    person = Person.objects.filter(site=cast["site"]).order_by("id").first()
    for config in (a, b):
        with config:
            c, _t = sign_in(x)
            r = c.get(f"/reception/persons/{person.id}/")
            print(f"  {config.name}: a BEX officer opens a BEN person → {r.status_code}")
    # 5. the SQL of a name search and of the list; 6. the same rows in A and B
    for kind in ("name ar", "list"):
        seen = {}
        for config in (a, b):
            with config:
                with CaptureQueriesContext(connection) as q:
                    r = do_search(config, kind, sample[0], after)
                person_sql = [x["sql"] for x in q.captured_queries
                              if "reception_person" in x["sql"]]
                seen[config.name] = _rows(r)
                print(f"  {config.name}: {kind}: site filter in the person SQL: "
                      f"{any(_site_filtered(s) for s in person_sql)}; rows {_rows(r)}")
        assert seen["A"] == seen["B"], f"A and B list different rows for {kind}: {seen}"
    differs = 0
    for i, s in enumerate(sample[:70]):
        kind = SEARCH_KINDS[i % len(SEARCH_KINDS)]
        with a:
            ra = _rows(do_search(a, kind, s, after))
        with b:
            rb = _rows(do_search(b, kind, s, after))
        differs += ra != rb
    print(f"  searches of the run giving a different number of rows in A and B: {differs}/70")


def query_counts(cast: dict, sample: list, after: str, rng: random.Random) -> None:
    """Queries per request, by configuration, and which layer adds which (structural: does
    not depend on the machine's load)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    layers = {"A": frozenset(), "A without the session guard": frozenset({"guard"}),
              "A without the extended hash": frozenset({"hash"}),
              "A without scoping": frozenset({"scope"}),
              "B": frozenset({"guard", "hash", "scope"})}
    configs = {name: Config(name, drop) for name, drop in layers.items()}
    counts: dict[str, dict[str, int]] = {}
    sql: dict[str, dict[str, list[str]]] = {}
    for name, config in configs.items():
        with config:
            config.clients["r"] = sign_in(cast["r"], cast["site"])
            config.clients["p"] = sign_in(cast["p"], cast["site"])
            counts[name], sql[name] = {}, {}
            ops = [("registration", lambda c=config: do_register(c, sample[1], rng))]
            ops += [(kind, lambda c=config, k=kind: do_search(c, k, sample[2], after))
                    for kind in SEARCH_KINDS]
            for op, run in ops:
                run()  # warm (the session's "last seen" is written once a minute)
                with CaptureQueriesContext(connection) as q:
                    run()
                counts[name][op] = len(q.captured_queries)
                sql[name][op] = [x["sql"] for x in q.captured_queries]
    print("queries per request (CaptureQueriesContext, BEGIN/COMMIT/SAVEPOINT included):")
    names = list(layers)
    print("  " + "operation".ljust(13) + "".join(n[:28].rjust(30) for n in names))
    for op in counts["A"]:
        print("  " + op.ljust(13) + "".join(str(counts[n][op]).rjust(30) for n in names))
    print("  (\"A without scoping\" keeps the session check's read of the user's sites and then "
          "reads every active site for the site menu: one query more than A)")
    print("  what A runs that B does not (registration):")
    for line in _extra(sql["A"]["registration"], sql["B"]["registration"]):
        print(f"    + {line}")
    print("  what A runs that B does not (list):")
    for line in _extra(sql["A"]["list"], sql["B"]["list"]):
        print(f"    + {line}")


def _extra(a: list[str], b: list[str]) -> list[str]:
    def shape(s: str) -> str:
        s = re.sub(r"'[^']*'", "?", s)
        return re.sub(r"\d+", "?", s)[:160]

    rest = [shape(s) for s in b]
    out = []
    for s in a:
        k = shape(s)
        if k in rest:
            rest.remove(k)
        else:
            out.append(k)
    return out


# --- the run --------------------------------------------------------------------------------

def _cast_all() -> dict:
    from bench_registry import _cast

    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.models import Site, SiteKind

    site, users = _cast()
    bex, _ = Site.objects.get_or_create(code="BEX", defaults={
        "kind": SiteKind.CAMP, "name_ar": "مخيم", "name_en": "Bench check camp"})
    x, created = User.objects.get_or_create(username="bench-x",
                                            defaults={"role": Role.PROTECTION_OFFICER})
    if created:
        x.set_password(PASSWORD)
        x.save()
    x.sites.set([bex])
    for u in users.values():
        if u.password and not u.check_password(PASSWORD):
            sys.exit(f"{u.username}: not bench_registry's bench user")
    return {"site": site, "bex": bex, "r": users[Role.RECEPTION_OFFICER],
            "p": users[Role.PROTECTION_OFFICER], "x": x}


def run(samples: int, search_samples: int, warmup: int, seed: int,
        profile: str | None = None, profile_out: str | None = None) -> None:
    from django.db import connection
    from django.test.utils import override_settings

    from mawa.core.ids import short_code_make
    from mawa.reception.models import Person
    from mawa.reception.selectors import person_search

    load0 = os.getloadavg()
    cast = _cast_all()
    total = Person.objects.count()
    print(f"{time.strftime('%Y-%m-%d %H:%M')} {platform.machine()} {os.cpu_count()} CPUs "
          f"Python {platform.python_version()} vendor={connection.vendor} "
          f"persons={total:,} load at start={load0}", flush=True)
    rng = random.Random(seed)
    codes = [short_code_make("BEN", rng.randint(1, total - 50)) for _ in range(600)]
    sample = list(Person.objects.filter(short_code__in=codes).values(
        "given_ar", "given_lat", "father_ar", "grandfather_ar", "family_ar", "birth_year",
        "short_code", "service_number"))
    after = person_search(user=cast["p"]).next_cursor
    a = Config("A", frozenset())
    b = Config("B", frozenset({"guard", "hash", "scope"}))
    hosts = override_settings(ALLOWED_HOSTS=["*"])
    hosts.enable()
    try:
        for config in (a, b):
            with config:
                config.clients["r"] = sign_in(cast["r"], cast["site"])
                config.clients["p"] = sign_in(cast["p"], cast["site"])
        checks(a, b, cast, sample, after)
        query_counts(cast, sample, after, rng)
        if profile:
            _profile(a if profile.startswith("A") else b, profile.split(":")[1], sample,
                     after, rng, profile_out)
            return

        def measure(label: str, n: int, op):
            wall = {"A": [], "B": []}
            cpu = {"A": [], "B": []}
            for i in range(warmup + n):
                order = (a, b) if i % 2 == 0 else (b, a)
                for config in order:
                    with config:
                        c0, t0 = time.thread_time(), time.perf_counter()
                        op(config, i)
                        t1, c1 = time.perf_counter(), time.thread_time()
                    if i >= warmup:
                        wall[config.name].append((t1 - t0) * 1000)
                        cpu[config.name].append((c1 - c0) * 1000)
            return wall, cpu

        results = {}
        wall, cpu = measure("registration", samples,
                            lambda c, i: do_register(c, sample[i % len(sample)], rng))
        results["registration POST"] = report("registration POST", wall, cpu)
        wall, cpu = measure("search", search_samples, lambda c, i: do_search(
            c, SEARCH_KINDS[i % len(SEARCH_KINDS)], sample[i % len(sample)], after))
        results["search/list GET, all kinds"] = report("search/list GET, all kinds", wall, cpu)
        print("  by kind (ms; A/B is the p95 ratio):")
        for k, kind in enumerate(SEARCH_KINDS):
            idx = [j for j in range(len(wall["A"])) if (j + warmup) % len(SEARCH_KINDS) == k]
            line = f"  {kind:<11} n={len(idx)}"
            for what, d in (("wall", wall), ("CPU", cpu)):
                a_, b_ = [d["A"][j] for j in idx], [d["B"][j] for j in idx]
                line += (f" | {what} p50 A {statistics.median(a_):6.1f} B "
                         f"{statistics.median(b_):6.1f} p95 A {_q(a_, .95):6.1f} B "
                         f"{_q(b_, .95):6.1f} A/B {_q(a_, .95) / _q(b_, .95):.2f}")
            print(line)
        print("\n| operation | n per config | A p50 | A p95 | B p50 | B p95 | p95 A/B (90 % "
              "interval) | overhead |")
        print("|---|---|---|---|---|---|---|---|")
        for op, r in results.items():
            print(f"| {op} | {r['n']} | {r['a50']:.1f} | {r['a95']:.1f} | {r['b50']:.1f} | "
                  f"{r['b95']:.1f} | {r['a95'] / r['b95']:.3f} ({r['lo']:.3f}–{r['hi']:.3f})"
                  f" | {100 * (r['a95'] / r['b95'] - 1):+.1f} % |")
    finally:
        hosts.disable()
        print(f"load at start={load0} at end={os.getloadavg()}", flush=True)


def _profile(config: Config, op: str, sample: list, after: str, rng: random.Random,
             out: str | None) -> None:
    """cProfile of ``op`` (register or search) under one configuration, 100 requests."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    with config:
        for i in range(120):
            if i == 20:
                prof.enable()
            if op == "register":
                do_register(config, sample[i % len(sample)], rng)
            else:
                do_search(config, SEARCH_KINDS[i % len(SEARCH_KINDS)], sample[i % len(sample)],
                          after)
        prof.disable()
    if out:
        prof.dump_stats(out)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=400,
                    help="registration POSTs per configuration (after warm-up)")
    ap.add_argument("--search-samples", type=int, default=1400,
                    help="search/list GETs per configuration, cycling the 7 kinds")
    ap.add_argument("--warmup", type=int, default=21)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--profile", choices=["A:register", "B:register", "A:search", "B:search"],
                    help="only profile one operation under one configuration")
    ap.add_argument("--profile-out", help="also write the profile's stats to this file")
    args = ap.parse_args(argv)
    import logging

    from bench_registry import _setup

    _setup()
    logging.getLogger("mawa.request").setLevel(logging.WARNING)
    run(args.samples, args.search_samples, args.warmup, args.seed, args.profile,
        args.profile_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
