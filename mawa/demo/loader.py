"""The demo scenario: sites, one account per role, then each app's own demo data.

Passwords are random, generated on first load and kept in ``var/demo-accounts.json`` (0600) so
that ``mawa demo --accounts`` can show them again. Each app with demo data provides
``mawa.<app>.demo`` with ``demo_load(*, sites, users)``; they run in the order of
``APP_DEMOS``, inside one transaction.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from mawa.accountability import demo as accountability_demo
from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.camp import demo as camp_demo
from mawa.core.audit import audit
from mawa.core.models import Site, SiteKind
from mawa.custody import demo as custody_demo
from mawa.matching import demo as matching_demo
from mawa.reception import demo as reception_demo

DEMO_SITES = [
    # code, kind, Arabic name, English name, location (restricted), note
    ("RHM", SiteKind.CROSSING, "معبر وادي الرحمة", "Wadi al-Rahma crossing", "33.412300",
     "40.985100", "Eastern gate, customs hall"),
    ("NUR", SiteKind.CAMP, "مخيم النور", "Al-Nour camp", "32.771900", "38.102400",
     "Not disclosed outside the service"),
    ("DEP", SiteKind.DEPOT, "المستودع المركزي", "Central depot", "32.901100", "38.412800",
     "Armoury, building 3"),
    ("HQ", SiteKind.HQ, "المقر العام", "Headquarters", None, None, ""),
]

DEMO_USERS = [
    # username, role, first name, last name, site codes (None = all sites)
    ("reception", Role.RECEPTION_OFFICER, "Samir", "Haddad", ["RHM", "NUR"]),
    ("custody", Role.CUSTODY_OFFICER, "Rania", "Khoury", ["RHM", "DEP"]),
    ("campstaff", Role.CAMP_STAFF, "Yousef", "Nassar", ["NUR"]),
    # The camp manager receives groups from the crossing, so works at RHM too.
    ("campmanager", Role.CAMP_MANAGER, "Layla", "Mansour", ["NUR", "RHM"]),
    ("protection", Role.PROTECTION_OFFICER, "Huda", "Saleh", ["RHM", "NUR"]),
    ("investigator", Role.INVESTIGATOR, "Karim", "Azar", None),
    ("auditor", Role.AUDITOR, "Nadia", "Farah", None),
    ("admin", Role.ADMINISTRATOR, "Omar", "Darwish", None),
]

# Reception first (the persons), then what hangs off it; the compartment last (it refers to
# persons and items of the others).
APP_DEMOS = [reception_demo, custody_demo, camp_demo, matching_demo, accountability_demo]


def accounts_file() -> Path:
    return Path(settings.MAWA_DEMO_ACCOUNTS_FILE)


def demo_accounts() -> list[dict]:
    try:
        return json.loads(accounts_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def demo_is_loaded() -> bool:
    return Site.objects.exists()


def demo_load(*, scenario: bool = True) -> list[dict]:
    """Load the demo into an empty database; return the accounts.

    ``scenario=False`` loads only the sites and accounts (tests that need nothing else)."""
    accounts = []
    with transaction.atomic():
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
        for module in APP_DEMOS if scenario else []:
            module.demo_load(sites=sites, users=users)
    path = accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(accounts, fh, indent=1)
    return accounts
