"""The REST API uses the same services and access rules as the pages."""

import json
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.reception.models import Person


@pytest.fixture
def other_client():
    """A second, independent session (``client_for`` re-uses one client)."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api(client_for, officer):
    client = client_for(officer)

    def call(method, path, body=None, client=client):
        kw = {"content_type": "application/json"}
        if body is not None:
            kw["data"] = json.dumps(body)
        return getattr(client, method)("/api/reception" + path, **kw)

    return call


def test_the_gate_to_camp_path_over_the_api(api):
    key = str(uuid.uuid4())
    g = api("post", "/groups", {"client_key": key, "site": "RHM",
                                "arrived_at": "2024-05-01T08:00:00Z", "reported_count": 2})
    assert g.status_code == 201, g.content
    group = g.json()
    body = {"client_key": str(uuid.uuid4()), "group": group["id"], "birth": "١٩٩٠",
            "values": {"given_ar": "محمد", "family_lat": "Halabi", "sex": "male"}}
    created = api("post", "/persons", body)
    assert created.status_code == 201, created.content
    again = api("post", "/persons", body)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    body["values"]["given_ar"] = "علي"
    assert api("post", "/persons", body).status_code == 409
    pid = created.json()["id"]
    for to, details in (("disarmed", {}), ("registered", {}), ("interned", {"camp": "NUR"})):
        r = api("post", f"/persons/{pid}/transitions", {"to": to, "details": details})
        assert r.status_code == 200, r.content
    assert r.json()["status"] == "interned"
    history = api("get", f"/persons/{pid}/transitions").json()["history"]
    assert [h["to_status"] for h in history] == ["arrived", "disarmed", "registered", "interned"]
    counts = api("get", f"/groups/{group['id']}").json()["counts"]
    assert counts["at_camp"] == 1 and counts["missing"] == 1


def test_validation_errors_are_per_field(api, group):
    r = api("post", "/persons", {"client_key": str(uuid.uuid4()), "group": str(group.id),
                                 "birth": "1990-13", "values": {"given_ar": "Ali"}})
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"birth", "given_ar"}


def test_mass_assignment_is_refused(api, group):
    r = api("post", "/persons", {"client_key": str(uuid.uuid4()), "group": str(group.id),
                                 "values": {"given_ar": "علي", "status": "released"}})
    assert r.status_code == 403
    assert Person.objects.count() == 0


def test_stale_update_is_409(api, register):
    person, _ = register()
    ok = api("patch", f"/persons/{person.id}", {"version": 1, "changes": {"rank": "Major"}})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert api("patch", f"/persons/{person.id}",
               {"version": 1, "changes": {"rank": "Colonel"}}).status_code == 409


def test_outsider_gets_404_everywhere(other_client, users, api, register, group):
    person, _ = register()
    outsider = other_client(users["outsider"])
    for path in (f"/persons/{person.id}", f"/groups/{group.id}",
                 f"/persons/{person.id}/transitions"):
        assert api("get", path, client=outsider).status_code == 404
    assert api("post", f"/persons/{person.id}/transitions", {"to": "disarmed"},
               client=outsider).status_code == 404
    found = api("get", "/persons?code=" + person.short_code, client=outsider).json()
    assert found["persons"] == []
    found = api("post", "/persons/search", {"q": person.short_code}, client=outsider).json()
    assert found["persons"] == []


def test_sensitive_fields_are_absent_without_the_permission(other_client, users, api, register):
    person, _ = register(family_contact_phone="0999", vulnerabilities=["sick"])
    staff = other_client(users[Role.CAMP_STAFF])
    body = api("get", f"/persons/{person.id}", client=staff).json()
    assert "family_contact_phone" not in body and "vulnerabilities" not in body
    assert "family_contact_phone" in body["sensitive_hidden"]
    full = api("get", f"/persons/{person.id}").json()
    assert full["family_contact_phone"] == "0999"


def test_search_by_name_code_document_and_service_number(api, register, sites, officer):
    from mawa.reception import services
    from mawa.reception.services import DocumentInput, PersonInput

    p1, _ = register()
    p2, _ = services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "عمر", "given_lat": "Omar"},
                         documents=[DocumentInput(kind="passport", number="N 778899")]))
    def codes(q):
        return {p["short_code"] for p in api("post", "/persons/search", {"q": q})
                .json()["persons"]}

    assert codes(p1.short_code.lower().replace("-", "")) == {p1.short_code}
    assert codes("Mohammed") == {p1.short_code}
    assert codes("الحلبي") == {p1.short_code}
    assert codes("حلبي محمد") == {p1.short_code}
    assert codes("a12345") == {p1.short_code}
    assert codes("n778899") == {p2.short_code}
    assert codes("عمرو") == set()


def test_get_lists_by_code_and_refuses_a_name_in_the_url(api, register):
    """Attack test 17: no personal data in URLs. GET takes a short code, status or group;
    a name search is a POST with the search in the body."""
    p1, _ = register()
    listed = api("get", "/persons?code=" + p1.short_code.lower()).json()["persons"]
    assert [p["short_code"] for p in listed] == [p1.short_code]
    assert api("get", "/persons?q=Mohammed").status_code == 400
    assert api("get", "/persons?code=Mohammed").status_code == 400
    found = api("post", "/persons/search", {"q": "Mohammed", "limit": 5}).json()["persons"]
    assert [p["short_code"] for p in found] == [p1.short_code]


def test_keyset_pagination(api, register):
    made = [register(given_ar=n)[0] for n in ("علي", "عمر", "زيد", "خالد", "سعد")]
    seen, after = [], None
    while True:
        q = "/persons?limit=2" + (f"&after={after}" if after else "")
        page = api("get", q).json()
        seen += [p["short_code"] for p in page["persons"]]
        after = page["next_cursor"]
        if not after:
            break
    assert seen == [p.short_code for p in reversed(made)]


def test_list_query_count_does_not_grow(client_for, officer, register, settings,
                                        django_assert_max_num_queries):
    """No N+1: the same number of queries for 3 and for 33 persons (session, scoping, the
    audit entry of the search, the page itself), and never more than a fixed bound."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MAWA_CHECKPOINT_EVERY = 0  # a periodic checkpoint would add its own queries
    client = client_for(officer)
    urls = ("/reception/persons/?q=علي", "/api/reception/persons?limit=50",
            "/reception/groups/", "/reception/persons/")

    def counts():
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx))
        return out

    for i in range(3):
        register(given_ar="علي", service_number=f"S{i}")
    counts()  # warm up: the first request of a session writes the session itself
    few = counts()
    for i in range(30):
        register(given_ar="علي", service_number=f"T{i}")
    assert counts() == few
    for url in urls:
        with django_assert_max_num_queries(20):
            client.get(url)


def test_openapi_schema_lists_the_endpoints(client_for, officer):
    schema = client_for(officer).get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert "/api/reception/persons/{person_id}/transitions" in paths
    assert "/api/reception/groups" in paths


def test_a_value_of_the_wrong_type_is_refused_per_field_in_the_users_language(
        client_for, officer, group):
    """The body's schema is typed: a number where a name is expected answers 422 with the
    place of the value and a message in the user's language (Arabic unless English was
    chosen), not pydantic's English."""
    from django.conf import settings

    client = client_for(officer)
    body = {"client_key": str(uuid.uuid4()), "group": str(group.id),
            "values": {"given_ar": "علي", "languages": 5}, "approximate_age": "old"}

    def refused(language):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        r = client.post("/api/reception/persons", json.dumps(body),
                        content_type="application/json")
        assert r.status_code == 422, r.content
        return {tuple(e["loc"][2:]): e["msg"] for e in r.json()["detail"]}

    arabic = refused("ar")
    assert arabic[("approximate_age",)] == "أدخل رقما صحيحا."
    assert ("values", "languages") in {loc[:2] for loc in arabic}
    assert refused("en")[("approximate_age",)] == "Enter a whole number."
    assert Person.objects.count() == 0


def test_a_person_answers_with_its_schema(api, register):
    """The person's answer is the documented ``PersonOut``: every field the role reads, the
    sensitive ones included for a reception officer; an update takes only the fields given."""
    person, _ = register(family_contact_phone="0999")
    body = api("get", f"/persons/{person.id}").json()
    assert body["family_contact_phone"] == "0999" and body["photo"] is False
    assert body["sensitive_hidden"] == [] and body["version"] == 1
    changed = api("patch", f"/persons/{person.id}", {"version": 1,
                                                      "changes": {"rank": "Major"}}).json()
    assert (changed["rank"], changed["given_ar"], changed["family_contact_phone"]) == (
        "Major", body["given_ar"], "0999")
    assert api("patch", f"/persons/{person.id}", {"version": 2, "changes": {"status": "released"}}
               ).status_code == 403
    transitions = api("get", f"/persons/{person.id}/transitions").json()
    assert transitions["history"][0]["to_status"] == "arrived"
    assert {"to", "label", "requires"} <= set(transitions["allowed"][0])


def test_the_apis_own_refusals_answer_in_the_users_language(client_for, officer):
    """The reception API's 400s are Mawa's messages, translated like the pages' (issue 20)."""
    client = client_for(officer)
    for lang, expected in (("ar", "هذا ليس رمزًا مختصرًا من رموز مأوى."),
                           ("en", "This is not a Mawa short code.")):
        client.cookies["django_language"] = lang
        answer = client.get("/api/reception/persons?code=Mohammed")
        assert answer.status_code == 400
        assert answer.json() == {"detail": expected}
        body = {"client_key": str(uuid.uuid4()), "values": {"given_ar": "محمد"}}
        answer = client.post("/api/reception/persons", data=json.dumps(body),
                             content_type="application/json")
        assert answer.status_code == 400
        assert answer.json()["detail"] != "site or group is required"
        assert answer.json()["detail"].isascii() == (lang == "en")
