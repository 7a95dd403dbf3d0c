"""To every role but investigators the compartment does not exist (protection.md R1): pages,
API, menus, home-page counts and search answer as if nothing were there — the very same answer
as an unknown URL."""

import re
import uuid

import pytest

from mawa.accounts.roles import Role

OTHER_ROLES = [r for r in Role if r != Role.INVESTIGATOR]


def _strip(html: str, path: str) -> str:
    # Tokens differ on every response, and the page echoes its own path in the language and
    # site switches; nothing else may differ.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return html.replace(path, "PATH")


def _urls(event, evidence):
    return [
        "/accountability/", f"/accountability/events/{event.id}/", "/accountability/events/new/",
        f"/accountability/evidence/{evidence.id}/",
        "/api/accountability/events", f"/api/accountability/events/{event.id}",
        f"/api/accountability/evidence/{evidence.id}",
    ]


@pytest.mark.parametrize("role", [*OTHER_ROLES, "outsider", "anonymous"])
def test_every_compartment_url_answers_like_an_unknown_url(role, users, client, event,
                                                           evidence):
    if role != "anonymous":
        client.force_login(users[role])
    unknown_path = f"/no-such-page-{uuid.uuid4().hex}/"
    unknown_api_path = f"/api/no-such-endpoint-{uuid.uuid4().hex}"
    unknown, unknown_api = client.get(unknown_path), client.get(unknown_api_path)
    assert unknown.status_code == 404
    for url in _urls(event, evidence):
        got = client.get(url)
        expected, path = ((unknown_api, unknown_api_path) if url.startswith("/api/")
                          else (unknown, unknown_path))
        assert got.status_code == 404, url
        assert _strip(got.content.decode(), url) == _strip(expected.content.decode(), path), url
        assert got["Content-Type"] == expected["Content-Type"], url
    post = client.post("/api/accountability/events", {"client_key": str(uuid.uuid4()),
                                                      "title": "x"},
                       content_type="application/json")
    assert post.status_code == 404


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_menu_entry_count_or_word_of_it_on_the_home_page(role, users, client, event):
    client.force_login(users[role])
    page = client.get("/").content.decode()
    assert "/accountability/" not in page
    assert event.short_code not in page


def test_the_openapi_schema_does_not_name_the_compartment(users, client):
    client.force_login(users[Role.RECEPTION_OFFICER])
    schema = client.get("/api/openapi.json").content.decode()
    assert "/api/accountability" not in schema


def test_a_person_page_shows_no_allegation_flag(users, client, act, persons):
    client.force_login(users[Role.RECEPTION_OFFICER])
    page = client.get(f"/reception/persons/{persons[0].id}/")
    text = page.content.decode()
    for word in ("accountability", "allegation", "alleged", act.short_code):
        assert word not in text.lower()
    found = client.get("/reception/persons/", {"q": "Nouri"}).content.decode().lower()
    assert "alleged" not in found and "accountability" not in found


def test_investigators_see_the_menu_counts_and_pages(users, client, event, evidence):
    client.force_login(users[Role.INVESTIGATOR])
    home = client.get("/").content.decode()
    assert "/accountability/" in home
    assert client.get("/accountability/").status_code == 200
    assert event.short_code in client.get(f"/accountability/events/{event.id}/").content.decode()
    api = client.get("/api/accountability/events").json()
    assert [e["short_code"] for e in api] == [event.short_code]
    assert client.get(f"/api/accountability/evidence/{evidence.id}").json()["sha256"] == \
        evidence.sha256


def test_a_missing_id_answers_like_a_forbidden_one(users, client, event):
    client.force_login(users[Role.INVESTIGATOR])
    missing_path = f"/accountability/events/{uuid.uuid4()}/"
    unknown_path = f"/no-such-page-{uuid.uuid4().hex}/"
    missing, unknown = client.get(missing_path), client.get(unknown_path)
    assert missing.status_code == 404
    # (the menu marks the investigator's own section active; the answer itself is the same)
    main = re.compile(r"<main.*</main>", re.S)
    assert main.search(missing.content.decode()).group() == \
        main.search(unknown.content.decode()).group()


def test_every_read_of_an_event_is_audited(users, client, event):
    from mawa.core.models import LedgerEntry

    client.force_login(users[Role.INVESTIGATOR])
    before = LedgerEntry.objects.filter(kind="audit.read").count()
    client.get(f"/accountability/events/{event.id}/")
    assert LedgerEntry.objects.filter(kind="audit.read").count() == before + 1


def test_the_api_refuses_a_post_without_csrf(users, event):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(users[Role.INVESTIGATOR])
    got = c.post("/api/accountability/events", {"client_key": str(uuid.uuid4()),
                                                "title": "x"}, content_type="application/json")
    assert got.status_code == 403
