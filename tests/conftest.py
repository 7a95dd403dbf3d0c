"""Shared fixtures: a cast of sites and one user per role.

The cast follows healthchecks' habit: each role has a user at the crossing RHM and the camp NUR;
``outsider`` works at another crossing (ZZZ) and must see nothing of RHM or NUR.
"""

from __future__ import annotations

import pytest

from mawa.accounts.roles import Role


@pytest.fixture
def sites(db):
    from mawa.core.models import Site, SiteKind

    return {
        "RHM": Site.objects.create(code="RHM", kind=SiteKind.CROSSING, name_ar="معبر وادي الرحمة",
                                   name_en="Wadi al-Rahma crossing", latitude="33.412300",
                                   longitude="40.985100"),
        "NUR": Site.objects.create(code="NUR", kind=SiteKind.CAMP, name_ar="مخيم النور",
                                   name_en="Al-Nour camp", latitude="32.771900",
                                   longitude="38.102400", location_note="secret"),
        "ZZZ": Site.objects.create(code="ZZZ", kind=SiteKind.CROSSING, name_ar="معبر آخر",
                                   name_en="Other crossing"),
        "HQ": Site.objects.create(code="HQ", kind=SiteKind.HQ, name_ar="المقر العام",
                                  name_en="Headquarters"),
    }


@pytest.fixture
def make_user(db):
    from mawa.accounts.models import User

    def make(username: str, role: str, site_list=(), *, all_sites=False,
             password: str = "correct horse battery staple"):
        user = User(username=username, role=role, all_sites=all_sites,
                    first_name=username.title())
        user.set_password(password)
        user.save()
        if site_list:
            user.sites.set(site_list)
        return user

    return make


HQ_ROLES = {Role.INVESTIGATOR, Role.AUDITOR, Role.ADMINISTRATOR}


@pytest.fixture
def users(sites, make_user):
    """One user per role, working at RHM and NUR (headquarters roles: every site)."""
    cast = {}
    for role in Role:
        cast[role] = make_user(role.value, role, [sites["RHM"], sites["NUR"]],
                               all_sites=role in HQ_ROLES)
    cast["outsider"] = make_user("outsider", Role.RECEPTION_OFFICER, [sites["ZZZ"]])
    return cast


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login


LEDGER_TABLES = ("core_ledgerentry", "core_checkpoint")


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_ledger_triggers():
    """Transactional tests empty the database between tests with Django's flush, which the
    ledger's append-only triggers rightly refuse. Only for that, the flush statements are
    wrapped so that the triggers are set aside and put back."""
    import django.db.backends.postgresql.base  # noqa: F401  (import order avoids a cycle)
    import django.db.backends.sqlite3.base  # noqa: F401
    from django.db.backends.postgresql.operations import DatabaseOperations as PgOps
    from django.db.backends.sqlite3.operations import DatabaseOperations as SqliteOps

    original_pg, original_sqlite = PgOps.sql_flush, SqliteOps.sql_flush

    def pg_flush(self, style, tables, **kwargs):
        statements = original_pg(self, style, tables, **kwargs)
        if not statements:
            return statements
        return ["SET session_replication_role = replica", *statements,
                "SET session_replication_role = DEFAULT"]

    def sqlite_flush(self, style, tables, **kwargs):
        statements = original_sqlite(self, style, tables, **kwargs)
        if not statements:
            return statements
        with self.connection.cursor() as cur:
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name IN "
                        "(?, ?)", LEDGER_TABLES)
            triggers = cur.fetchall()
        drops = [f"DROP TRIGGER IF EXISTS {name}" for name, _ in triggers]
        return [*drops, *statements, *(sql for _, sql in triggers)]

    PgOps.sql_flush, SqliteOps.sql_flush = pg_flush, sqlite_flush
    yield
    PgOps.sql_flush, SqliteOps.sql_flush = original_pg, original_sqlite


# --- browser tests ------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    import os

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser context (own cookies) on the live server; ``page.base`` is its URL."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base = live_server.url
    yield page
    context.close()


TOTP_SECRETS: dict[str, dict] = {}


def totp_code_for(username: str) -> str:
    """A code for ``username``'s authenticator, never a time step already used (no replay)."""
    import time

    from mawa.accounts.services import TOTP_STEP, totp_code_at

    entry = TOTP_SECRETS[username]
    current = int(time.time()) // TOTP_STEP
    # the current step (a slow, loaded machine may take seconds to post it), never a used one
    step = max(current, entry["last"] + 1)
    while step > current + 1:  # used every step the server accepts: wait for the next one
        time.sleep(1)
        current = int(time.time()) // TOTP_STEP
    entry["last"] = step
    return totp_code_at(entry["secret"], step * TOTP_STEP)


@pytest.fixture
def login_in_browser():
    """Sign in through the real pages: password, then the second factor (enrolling the
    authenticator on first sign-in, as every account must)."""
    import base64

    def login(page, username, password="correct horse battery staple", language=None):
        if language:
            page.context.add_cookies([{"name": "django_language", "value": language,
                                       "url": page.base}])
        page.goto(page.base + "/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if "/login/enrol/" in page.url:
            b32 = page.get_by_test_id("totp-secret").inner_text().strip()
            secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
            TOTP_SECRETS[username] = {"secret": secret, "last": 0}
            for _attempt in range(3):  # a step may roll over while a loaded machine posts
                page.fill("input[name=code]", totp_code_for(username))
                page.click("form button[type=submit]")
                page.wait_for_load_state()
                if "/login/enrol/" not in page.url:
                    break
            page.get_by_test_id("continue").click()
            page.wait_for_load_state()
        elif "/login/code/" in page.url:
            for _attempt in range(3):
                page.fill("input[name=code]", totp_code_for(username))
                page.click("form button[type=submit]")
                page.wait_for_load_state()
                if "/login/code/" not in page.url:
                    break

    return login


@pytest.fixture
def signed_in_client(client):
    """A test client signed in through the real two-step sign-in (password, then code)."""
    import time

    from mawa.accounts import services

    def sign_in(user, password="correct horse battery staple"):
        secret = services.totp_secret_new()
        now = time.time()
        services.totp_enrol_confirm(user=user, secret=secret,
                                    code=services.totp_code_at(secret, now))
        response = client.post("/accounts/login/", {"username": user.username,
                                                    "password": password})
        assert response.status_code == 302 and "/login/code/" in response["Location"]
        # the enrolment used the current step; the next one is still accepted (clock drift)
        code = services.totp_code_at(secret, now + services.TOTP_STEP)
        response = client.post("/accounts/login/code/", {"code": code})
        assert response.status_code == 302, response.content[:500]
        client.totp_secret = secret
        return client

    return sign_in
