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
