import json
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_roll_call_through_the_api(client_for, staff, housed, layout):
    c = client_for(staff)
    post = lambda url, data: c.post(url, json.dumps(data), content_type="application/json")  # noqa: E731
    rc = post("/api/camp/rollcalls", {"client_key": str(uuid.uuid4()),
                                      "block": str(layout["A1"].id)}).json()
    for p in housed[1:]:
        assert post(f"/api/camp/rollcalls/{rc['id']}/scans", {"code": p.short_code}).json()[
            "expected"]
    closed = post(f"/api/camp/rollcalls/{rc['id']}/close", {}).json()
    assert (closed["missing"], closed["status"]) == (1, "discrepancy")
    d = c.get("/api/camp/NUR/dashboard").json()
    assert d["housed"] == 5 and d["discrepancies_open"] == 1


def test_api_refusal_is_json_with_the_code(client_for, staff, layout):
    c = client_for(staff)
    r = c.post("/api/camp/rollcalls", json.dumps({"client_key": str(uuid.uuid4()),
                                                  "block": str(layout["A2"].id)}),
               content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "nobody_housed"


def _post(c, url, data, method="post"):
    return getattr(c, method)(url, json.dumps(data), content_type="application/json")


def test_layout_through_the_api(client_for, manager, staff, housed, layout):
    d = client_for(staff).get("/api/camp/NUR/layout").json()
    assert d["occupied"] == 5 and d["capacity"] == sum(z["capacity"] for z in d["zones"])
    c = client_for(manager)
    zone = _post(c, "/api/camp/zones", {"site": "NUR", "name": "South"}).json()
    block = _post(c, "/api/camp/blocks", {"zone": zone["id"], "name": "S1"}).json()
    shelter = _post(c, "/api/camp/shelters", {"block": block["id"], "name": "T1",
                                              "capacity": 12}).json()
    out = _post(c, f"/api/camp/shelters/{shelter['id']}/capacity", {"capacity": 14}).json()
    assert out["capacity"] == 14 and out["occupied"] == 0
    r = _post(client_for(staff), "/api/camp/zones", {"site": "NUR", "name": "North"})
    assert r.status_code == 403


def test_item_rules_through_the_api(client_for, manager):
    c = client_for(manager)
    lunch = _post(c, "/api/camp/items", {"site": "NUR", "client_key": str(uuid.uuid4()),
                                         "name_ar": "غداء", "name_en": "Lunch",
                                         "max_per_day": 1}).json()
    iftar = _post(c, "/api/camp/items", {"site": "NUR", "client_key": str(uuid.uuid4()),
                                         "name_ar": "إفطار", "name_en": "Iftar",
                                         "excludes": [lunch["id"]]}).json()
    assert iftar["excludes"] == [lunch["id"]]
    changed = _post(c, f"/api/camp/items/{lunch['id']}", {"min_interval_hours": 4},
                    method="patch").json()
    assert changed["min_interval_hours"] == 4 and changed["excludes"] == [iftar["id"]]
    r = _post(c, f"/api/camp/items/{lunch['id']}", {"excludes": [lunch["id"]]}, method="patch")
    assert r.status_code == 400
    names = {i["name_en"] for i in c.get("/api/camp/NUR/items").json()}
    assert {"Lunch", "Iftar"} <= names


def test_sensitive_incidents_only_for_protection_through_the_api(client_for, staff, protection,
                                                                housed):
    # client_for signs the one test client in as each user in turn
    fight = _post(client_for(staff), "/api/camp/incidents", {
        "site": "NUR", "client_key": str(uuid.uuid4()), "kind": "security", "severity": "low",
        "occurred_at": "2026-01-01T10:00:00Z", "summary": "Fight", "persons":
        [housed[0].short_code]}).json()
    assert fight["persons"] == [housed[0].short_code]
    sgbv = _post(client_for(protection), "/api/camp/incidents", {
        "site": "NUR", "client_key": str(uuid.uuid4()), "kind": "sgbv", "severity": "high",
        "occurred_at": "2026-01-01T11:00:00Z", "summary": "Reported"}).json()
    p = client_for(protection)
    assert {i["id"] for i in p.get("/api/camp/NUR/incidents").json()} == {fight["id"],
                                                                         sgbv["id"]}
    closed = _post(p, f"/api/camp/incidents/{sgbv['id']}/follow-ups",
                   {"note": "Referred", "close": True}).json()
    assert closed["is_closed"] and closed["follow_ups"][0]["note"] == "Referred"
    c = client_for(staff)
    assert {i["id"] for i in c.get("/api/camp/NUR/incidents").json()} == {fight["id"]}
    assert c.get(f"/api/camp/incidents/{sgbv['id']}").status_code == 404
    assert c.get(f"/api/camp/incidents/{uuid.uuid4()}").status_code == 404
    assert _post(c, f"/api/camp/incidents/{sgbv['id']}/follow-ups",
                 {"note": "x"}).status_code == 404
