"""Security headers (protection.md R16, attack test 17): one test per header, and the checks
that keep the CSP honest (no inline script, no on*= handler, no hx-on in any template)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

import mawa

pytestmark = pytest.mark.django_db
TEMPLATES = sorted(Path(mawa.__file__).parent.glob("**/templates/**/*.html"))


def _csp(response) -> dict[str, str]:
    parts = [p.strip() for p in response["Content-Security-Policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts}


def test_csp_allows_scripts_from_this_origin_only(client, users, client_for):
    response = client_for(users["reception_officer"]).get(reverse("core:home"))
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'" and csp["base-uri"] == "'none'"


def test_csp_is_on_the_sign_in_page_and_api_answers_too(client, users, client_for):
    assert "script-src 'self'" in client.get(reverse("accounts:login"))[
        "Content-Security-Policy"]
    api = client_for(users["reception_officer"]).get("/api/reception/persons")
    assert "script-src 'self'" in api["Content-Security-Policy"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p).split("/mawa/", 1)[-1])
def test_no_template_holds_inline_script_or_event_handler(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "on*= event handler attribute"
    assert "hx-on" not in text, "hx-on is evaluated with Function(), refused by the CSP"
    assert "javascript:" not in text.lower()


def test_pages_load_their_behaviour_from_the_static_script(client, users, client_for):
    html = client_for(users["reception_officer"]).get(reverse("core:home")).content.decode()
    assert "/static/mawa/mawa.js" in html
    assert '"allowEval": false' in html  # htmx never evaluates attribute code


def test_hsts_when_served_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000  # what MAWA_HTTPS=1 sets
    response = client.get(reverse("accounts:login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get(reverse("accounts:login"))


def test_https_setting_turns_on_hsts_and_secure_cookies(monkeypatch):
    import importlib
    import os

    import mawa.settings as base

    monkeypatch.setitem(os.environ, "MAWA_HTTPS", "1")
    try:
        fresh = importlib.reload(base)
        assert fresh.SECURE_HSTS_SECONDS >= 31536000
        assert fresh.SESSION_COOKIE_SECURE and fresh.CSRF_COOKIE_SECURE
    finally:
        monkeypatch.delitem(os.environ, "MAWA_HTTPS")
        importlib.reload(base)


@pytest.mark.parametrize("name", ["core:home", "reception:person_list", "accounts:sessions"])
def test_authenticated_pages_are_never_stored(client_for, users, name):
    response = client_for(users["reception_officer"]).get(reverse(name))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_answers_are_never_stored(client_for, users):
    response = client_for(users["reception_officer"]).get("/api/reception/persons")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_refusals_are_never_stored_either(client_for, users):
    response = client_for(users["outsider"]).get("/accountability/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_sign_in_pages_are_never_stored(client):
    # the enrolment page holds the two-factor secret before the sign-in completes
    assert "no-store" in client.get(reverse("accounts:login"))["Cache-Control"]


def test_static_files_may_be_cached(client):
    response = client.get("/static/mawa/mawa.js")
    assert "no-store" not in response.get("Cache-Control", "")


def test_referrer_policy(client):
    assert client.get(reverse("accounts:login"))["Referrer-Policy"] == "same-origin"


def test_permissions_policy_allows_only_the_camera_here(client):
    policy = client.get(reverse("accounts:login"))["Permissions-Policy"]
    assert "camera=(self)" in policy
    for feature in ("geolocation=()", "microphone=()", "payment=()", "usb=()"):
        assert feature in policy


def test_nosniff_and_no_framing(client):
    response = client.get(reverse("accounts:login"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


# --- no personal data in URLs -------------------------------------------------------------

def test_person_search_form_posts_so_names_stay_out_of_the_url(client_for, users):
    html = client_for(users["reception_officer"]).get(
        reverse("reception:person_list")).content.decode()
    form = re.search(r'<form[^>]*role="search"[^>]*>', html).group(0)
    assert 'method="post"' in form


def test_person_search_by_post_finds_by_name(client_for, users, sites):
    import uuid

    from mawa.reception.services import PersonInput, person_register

    officer = users["reception_officer"]
    person, _ = person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                data=PersonInput(values={"given_ar": "سليمان",
                                                         "family_ar": "الحداد", "sex": "male"},
                                                 birth="1990"))
    client = client_for(officer)
    response = client.post(reverse("reception:person_list"), {"q": "سليمان"})
    assert response.status_code == 200
    assert person.short_code in response.content.decode()
    assert "سليمان" not in response.request["PATH_INFO"]
    assert not response.request.get("QUERY_STRING")


def test_compartment_search_form_posts(client_for, users):
    html = client_for(users["investigator"]).get("/accountability/").content.decode()
    form = re.search(r'<form[^>]*role="search"[^>]*>', html).group(0)
    assert 'method="post"' in form


def test_the_request_log_carries_the_path_without_the_query(client_for, users, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="mawa.request"):
        client_for(users["reception_officer"]).get("/reception/persons/?q=%D8%B3%D9%84%D9%8A%D9%85")
    assert caplog.records
    for record in caplog.records:
        assert "q=" not in record.getMessage() and "سليم" not in record.getMessage()
        assert "q=" not in str(getattr(record, "path", ""))


def test_nul_characters_are_refused_before_they_reach_the_database(users, client_for):
    """Attack 10: a NUL in a query, form field or JSON string is a clean 400, never a 500."""
    from mawa.accounts.roles import Role

    client = client_for(users[Role.RECEPTION_OFFICER])
    assert client.get("/api/reception/persons?status=a%00b").status_code == 400
    assert client.post("/reception/persons/", {"q": "a\x00b"}).status_code == 400
    response = client.post("/api/reception/persons/search", data='{"q": "a\\u0000b"}',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
