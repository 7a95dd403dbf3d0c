"""The demo scenario: sites, one account per role, then the days of the operation.

Passwords are random, generated on first load and kept in ``var/demo-accounts.json`` (0600) so
that ``mawa demo --accounts`` can show them again.

The scenario is the seed's days (``demo_days``): over four days some 4,200 soldiers cross at
the Al-Qaim crossing, hand in their weapons, are registered and transferred to camp Al-Nour;
then the days of the camp follow, to yesterday (today is the user's). Each step is recorded
through the services of its app (``mawa.<app>.demo``) with the services' clock set to its moment
(``mawa.core.clock``), and at the end of each day the situation report of that day is stored,
as the nightly timer would have stored it (in Arabic; yesterday's in English too). ``size``
scales the story (the scenario test replays a few hundred people); ``on_day_end(day)`` is
called after each day, before its report is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mawa.accountability import demo as accountability_demo
from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.camp import demo as camp_demo
from mawa.core.audit import audit
from mawa.core.clock import clock_set
from mawa.core.models import Site, SiteKind
from mawa.custody import demo as custody_demo
from mawa.matching import demo as matching_demo
from mawa.reception import demo as reception_demo
from mawa.reports.services import sitrep_store

DEMO_SITES = [
    # code, kind, Arabic name, English name, location (restricted), note
    ("QAM", SiteKind.CROSSING, "معبر القائم", "Al-Qaim crossing", "34.377800",
     "41.088900", "Border post, customs hall"),
    ("NUR", SiteKind.CAMP, "مخيم النور", "Al-Nour camp", "34.161200", "41.962400",
     "Not disclosed outside the service"),
    ("DEP", SiteKind.DEPOT, "المستودع المركزي", "Central depot", "33.901100", "42.412800",
     "Armoury, building 3"),
    ("HQ", SiteKind.HQ, "المقر العام", "Headquarters", None, None, ""),
]

DEMO_USERS = [
    # username, role, first name, last name, site codes (None = all sites)
    ("reception", Role.RECEPTION_OFFICER, "Samir", "Haddad", ["QAM", "NUR"]),
    ("custody", Role.CUSTODY_OFFICER, "Rania", "Khoury", ["QAM", "DEP"]),
    ("campstaff", Role.CAMP_STAFF, "Yousef", "Nassar", ["NUR"]),
    # The camp manager receives groups from the crossing, so works at QAM too.
    ("campmanager", Role.CAMP_MANAGER, "Layla", "Mansour", ["NUR", "QAM"]),
    ("protection", Role.PROTECTION_OFFICER, "Huda", "Saleh", ["QAM", "NUR"]),
    ("investigator", Role.INVESTIGATOR, "Karim", "Azar", None),
    ("auditor", Role.AUDITOR, "Nadia", "Farah", None),
    ("admin", Role.ADMINISTRATOR, "Omar", "Darwish", None),
]

# The apps whose demo steps the days call (reception first: the persons; the compartment
# last: it refers to persons and items of the others).
APP_DEMOS = [reception_demo, custody_demo, camp_demo, matching_demo, accountability_demo]
DAYS = 14  # the first arrivals fourteen days ago; the last day of the story is yesterday
SIZE = reception_demo.FULL_SIZE

def accounts_file() -> Path:
    return Path(settings.MAWA_DEMO_ACCOUNTS_FILE)


def demo_accounts() -> list[dict]:
    try:
        return json.loads(accounts_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def demo_is_loaded() -> bool:
    return Site.objects.exists()


def demo_load(*, scenario: bool = True, size: int = SIZE,
              on_day_end: Callable[[dt.date], None] | None = None) -> list[dict]:
    """Load the demo into an empty database; return the accounts.

    ``scenario=False`` loads only the sites and accounts (tests that need nothing else)."""
    real_now = timezone.now()
    first_day = real_now.date() - dt.timedelta(days=DAYS)
    start = dt.datetime.combine(first_day, dt.time(3), tzinfo=dt.UTC)
    accounts = []
    with transaction.atomic(), clock_set(start) if scenario else nullcontext():
        sites = {}
        for code, kind, name_ar, name_en, lat, lon, note in DEMO_SITES:
            sites[code] = Site.objects.create(code=code, kind=kind, name_ar=name_ar,
                                              name_en=name_en, latitude=lat, longitude=lon,
                                              location_note=note)
            audit(actor="system:demo", action="create", obj=sites[code])
        users = {}
        for username, role, first, last, codes in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            user = User(username=username, role=role, first_name=first, last_name=last,
                        all_sites=codes is None, is_staff=role == Role.ADMINISTRATOR)
            user.set_password(password)
            user.save()
            if codes:
                user.sites.set([sites[c] for c in codes])
            users[role] = user
            audit(actor="system:demo", action="create", obj=user, detail={"role": str(role)})
            accounts.append({"username": username, "password": password, "role": str(role),
                             "sites": codes or ["*"]})
    if scenario:
        with transaction.atomic(), clock_set(start) as clock:
            demo_days(sites=sites, users=users, first_day=first_day, size=size,
                      clock=clock, until=real_now, on_day_end=on_day_end)
    path = accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(accounts, fh, indent=1)
    return accounts


def demo_days(*, sites, users, first_day: dt.date, size: int, clock, until: dt.datetime,
              on_day_end: Callable[[dt.date], None] | None = None) -> None:
    """The days of the story, each step at its moment (``clock.set``), through the services.

    Day 0–3: the groups arrive, hand in their weapons (custody), are processed and transferred
    to the camp the same day; each morning from day 1 a convoy takes yesterday's heavy
    materiel to the depot. From day 1 to today: the morning head count of every block,
    breakfast and lunch, and the events of the story on their days. After each day, its
    situation report is stored. Nothing is recorded later than ``until`` (the wall clock when
    the load began)."""
    factor = size / reception_demo.FULL_SIZE
    rng = random.Random(reception_demo.SEED)
    plans = reception_demo.groups_plan(size)
    custody = custody_demo.CustodyDemo(sites=sites, users=users, size_factor=factor)
    camp = camp_demo.CampDemo(sites=sites, users=users, size_factor=factor)
    hospital: list = []
    duplicate = None

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        moment = min(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC),
                     until)
        clock.set(moment)
        return moment

    for n in range(DAYS):
        day = first_day + dt.timedelta(days=n)
        if n == 0:
            at(day, 3)
            camp.layout()
            custody.stores_create()
        else:
            at(day, 4, 30)
            camp.rollcall(day, short=n == 5)
            at(day, 5)
            convoy = custody.convoy_dispatch()
            at(day, 6)
            camp.meals_hand_out(day, "breakfast")
        for group_no, plan in enumerate(p for p in plans if p.day == n):
            arrived = at(day, plan.hour + group_no % 2)
            group, persons = reception_demo.group_arrive(plan, rng=rng, sites=sites,
                                                         users=users, at=arrived)
            at(day, plan.hour + group_no % 2, 40)
            custody.group_surrender(group, persons)
            soldiers = reception_demo.group_process(
                persons, users=users, at=at(day, plan.hour + group_no % 2 + 2))
            at(day, plan.hour + group_no % 2 + 6)
            camp.house(soldiers, group.id)
        if n >= 1:
            at(day, 12, 30)
            camp.meals_hand_out(day, "lunch")
            at(day, 15)
            custody.convoy_receive(convoy)
        _story(n, day=day, at=at, camp=camp, custody=custody, sites=sites, users=users,
               hospital=hospital)
        if n == 2:
            at(day, 21)
            duplicate = matching_demo.duplicates_register(sites=sites, users=users)
            at(day, 23)
            matching_demo.duplicates_search(users=users)
        if n == 6:
            at(day, 16)
            matching_demo.watchlist_screen(users=users, match=duplicate)
        at(day + dt.timedelta(days=1), 0, 5)
        if on_day_end is not None:
            on_day_end(day)
        # the report of every day in Arabic, the last one in English too (each PDF takes
        # about half a second, and the demo must load within a couple of minutes)
        sitrep_store(day=day, site_code="ALL",
                     languages=("ar", "en") if n == DAYS - 1 else ("ar",))


def _story(n: int, *, day: dt.date, at, camp, custody, sites, users, hospital: list) -> None:
    """The events of the story, on their days of the camp."""
    if n == 3:
        at(day, 18)
        hospital += camp.hospitalise(0, 2, days=3, why="التهاب رئوي")
    if n == 4:
        at(day, 20)
        camp.incident("fire", kind="fire", severity="medium", summary=(
            "Cooking stove set fire to a tent flap; put out in 2 minutes, nobody hurt."))
    if n == 6:
        at(day, 10)
        camp.come_back(hospital[:2])
        at(day, 11)
        hospital[:2] = camp.hospitalise(40, 1, days=4, why="كسر في المعصم")
    if n == 7:
        at(day, 19)
        camp.incident("fight", kind="security", severity="low", persons=2, summary=(
            "Argument in the food queue between two men of different units."),
            follow_up="Both spoken to; queue split by block from tomorrow.")
        at(day, 20)
        custody.stock_check()
    if n == 8:
        at(day, 11)
        custody.discrepancy_resolve()
        at(day, 14)
        camp.asylum(60, "UNHCR-RSD-2026-0412")
    if n == 9:
        at(day, 13)
        accountability_demo.demo_load(sites=sites, users=users)
    if n == 10:
        at(day, 9)
        camp.incident("protection", kind="protection", severity="high", persons=1, summary=(
            "An internee reports threats from former superiors; referred for a "
            "confidential interview."))
    if n == 11:
        at(day, 14)
        camp.asylum(80, "UNHCR-RSD-2026-0433")
    if n == 12:
        at(day, 10)
        camp.come_back(hospital[:1])
        at(day, 11)
        camp.release(100)
    if n == 13:
        at(day, 17)
        hospital[:] = camp.hospitalise(120, 1, days=5, why="حمى مجهولة السبب")
