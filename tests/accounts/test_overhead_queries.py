"""What the session check and site scoping cost per request, in queries (issue #9).

Every signed-in request checks the session against the account (password, role, sites,
"sign out everywhere") and then scopes its reads to the user's sites. Both need the user's
sites; they must be read once per request, and the number of queries of a page must not grow
with the number of persons listed or of sites assigned (N+1). Wall-clock time is measured by
``bench/security/bench_overhead.py``, never asserted here.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mawa.accounts import access
from mawa.accounts.roles import Role
from mawa.reception.services import PersonInput, person_register

pytestmark = pytest.mark.django_db


def _register(user, site, n: int) -> list:
    people = []
    for i in range(n):
        person, _created = person_register(
            actor=user, site=site, client_key=uuid.uuid4(),
            data=PersonInput(values={"given_ar": "محمد", "father_ar": "أحمد",
                                     "family_ar": f"الحسن{'ب' * (i + 1)}", "sex": "male",
                                     "service_number": f"Q{i:06d}"}, birth="1990"))
        people.append(person)
    return people


def _sites_reads(queries) -> int:
    """Queries that read a user's sites (the many-to-many table of accounts to sites), or
    the sites table itself."""
    return sum(1 for q in queries if "accounts_user_sites" in q["sql"]
               or 'FROM "core_site"' in q["sql"])


def _list(client, **params):
    with CaptureQueriesContext(connection) as q:
        response = client.get("/reception/persons/", params)
    assert response.status_code == 200
    return response, q.captured_queries


def test_a_signed_in_list_and_search_read_the_users_sites_once(users, sites,
                                                               signed_in_client):
    officer = users[Role.RECEPTION_OFFICER]
    _register(officer, sites["RHM"], 2)
    client = signed_in_client(officer)
    for params in ({}, {"q": "محمد"}, {"status": "arrived"}):
        response, queries = _list(client, **params)
        assert _sites_reads(queries) == 1, [q["sql"][:120] for q in queries]
        # the one read serves the session check, the scoping and the site menu
        assert [s.code for s in response.wsgi_request.user_sites] == ["NUR", "RHM"]


def test_a_registration_post_reads_the_users_sites_once(users, sites, signed_in_client):
    client = signed_in_client(users[Role.RECEPTION_OFFICER])
    client.post("/accounts/site/", {"site_id": str(sites["RHM"].pk)})
    with CaptureQueriesContext(connection) as q:
        response = client.post("/reception/persons/new/", {
            "client_key": str(uuid.uuid4()), "category": "combatant", "sex": "male",
            "given_ar": "خالد", "father_ar": "عمر", "family_ar": "الراوي", "birth": "1988",
            "service_number": "R123456"})
    assert response.status_code == 302, response.content[:300]
    assert "/reception/persons/" in response["Location"]
    assert _sites_reads(q.captured_queries) == 1, [x["sql"][:120] for x in q.captured_queries]


def test_the_queries_of_the_list_do_not_grow_with_persons_or_sites(users, sites, make_user):
    officer = users[Role.RECEPTION_OFFICER]
    one_site = make_user("one-site", Role.RECEPTION_OFFICER, [sites["RHM"]])
    three_sites = make_user("three-sites", Role.RECEPTION_OFFICER,
                            [sites["RHM"], sites["NUR"], sites["ZZZ"]])
    _register(officer, sites["RHM"], 2)
    counts = {}
    for label, user in (("one site", one_site), ("three sites", three_sites)):
        client = Client()
        client.force_login(user)
        _list(client)  # the session's "last seen" is written on the first request
        counts[label] = len(_list(client)[1])
    _register(officer, sites["RHM"], 12)
    client = Client()
    client.force_login(one_site)
    _list(client)
    response, queries = _list(client)
    assert response.content.decode().count("RHM-") >= 14
    assert len(queries) == counts["one site"] == counts["three sites"], counts


def test_the_session_check_reads_the_sites_afresh(users, sites):
    """The per-request copy of the sites never makes the session check stale: a change of
    sites changes the session hash even on a user object that has read its sites before."""
    user = users[Role.RECEPTION_OFFICER]
    before = user.get_session_auth_hash()
    assert access.site_ids(user) == {sites["RHM"].pk, sites["NUR"].pk}  # read and kept
    user.sites.add(sites["ZZZ"])
    after = user.get_session_auth_hash()
    assert after != before
    assert access.site_ids(user) == {sites["RHM"].pk, sites["NUR"].pk, sites["ZZZ"].pk}


def test_a_change_of_sites_alone_ends_a_live_session(users, sites, signed_in_client):
    officer = users[Role.RECEPTION_OFFICER]
    client = signed_in_client(officer)
    assert client.get("/reception/persons/").status_code == 200
    officer.sites.set([sites["RHM"]])  # one site fewer; role and all_sites unchanged
    response = client.get("/reception/persons/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_scoping_and_the_site_menu_from_the_shared_read(users, sites):
    """An inactive site is not offered; another site's persons stay out of the list."""
    officer, outsider = users[Role.RECEPTION_OFFICER], users["outsider"]
    person = _register(officer, sites["RHM"], 1)[0]
    sites["NUR"].is_active = False
    sites["NUR"].save(update_fields=["is_active"])
    client = Client()
    client.force_login(officer)
    response, _q = _list(client)
    assert [s.code for s in response.wsgi_request.user_sites] == ["RHM"]
    assert response.wsgi_request.site == sites["RHM"]
    assert f"/reception/persons/{person.id}/" in response.content.decode()
    client = Client()
    client.force_login(outsider)
    response, _q = _list(client, q=person.short_code)
    assert [s.code for s in response.wsgi_request.user_sites] == ["ZZZ"]
    assert f"/reception/persons/{person.id}/" not in response.content.decode()
    assert client.get(f"/reception/persons/{person.id}/").status_code == 404
