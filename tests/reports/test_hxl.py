"""HXL exports of the protected statistics, validated with libhxl (offline: the HXL schema is
given inline, nothing is fetched)."""

import datetime as dt

import hxl
import hxl.input
import pytest

from mawa.accounts.roles import Role
from mawa.core.errors import Forbidden
from mawa.reception.models import Status
from mawa.reports import services
from tests.reports.conftest import DAY1

SCHEMA = [
    ["#valid_tag", "#valid_required", "#valid_datatype", "#valid_value+min"],
    ["#date", "true", "date", ""],
    ["#loc+camp+code", "true", "", ""],
    ["#affected+total", "", "number", "10"],
    ["#affected+m+adults", "", "number", "10"],
    ["#affected+f+adults", "", "number", "10"],
    ["#affected+m+children", "", "number", "10"],
    ["#affected+f+children", "", "number", "10"],
]


@pytest.fixture
def camp_population(make_person):
    for _ in range(23):
        make_person(status=Status.INTERNED)
    for _ in range(12):
        make_person(status=Status.INTERNED, sex="female")
    for _ in range(11):
        make_person(status=Status.HOSPITALISED, birth_year=2012)


def _release(users, day=DAY1 + dt.timedelta(days=1)):
    return services.stats_release(actor=users[Role.ADMINISTRATOR], day=day)


def _read(path):
    return hxl.data(str(path), hxl.input.InputOptions(allow_local=True))


def test_hxl_file_validates_and_shows_no_small_cell(camp_population, users, tmp_path):
    release = _release(users)
    text = services.stats_hxl(user=users[Role.ADMINISTRATOR], release=release,
                              purpose="publication on HDX", recipient="HDX")
    path = tmp_path / "stats.hxl.csv"
    path.write_text(text, encoding="utf-8")
    data = _read(path)
    tags = [c.display_tag for c in data.columns]
    assert "#affected+m+adults" in tags and "#loc+camp+code" in tags and "#date" in tags
    assert "#adm1+name" in tags
    errors = []
    schema = hxl.schema(SCHEMA, callback=errors.append)
    assert schema.validate(_read(path)), [str(e) for e in errors]
    rows = {row.get("#loc+camp+code"): row for row in _read(path)}
    nur = rows["NUR"]
    assert nur.get("#affected+m+adults") == "25"  # 23 rounded to 5
    assert nur.get("#affected+f+adults") == "10"  # 12 rounded to 5
    assert nur.get("#affected+total") == "45"  # 46
    # no girls and nobody of unknown sex: under 10, withheld; so are the 11 boys, else the
    # two empty cells would be "total minus the rest" = 0
    for tag in ("#affected+f+children", "#affected+unknown", "#affected+m+children"):
        assert nur.get(tag) in ("", None)


def test_publishing_needs_the_permission(camp_population, users):
    with pytest.raises(Forbidden):
        services.stats_release(actor=users[Role.CAMP_MANAGER], day=DAY1)


def test_publishing_a_day_twice_gives_the_first_release(camp_population, users, make_person):
    first = _release(users)
    make_person(status=Status.INTERNED)
    assert _release(users).table == first.table


def test_hxl_download_page_and_api(camp_population, users, client_for):
    from mawa.core.models import LedgerEntry

    release = _release(users)
    client = client_for(users[Role.ADMINISTRATOR])
    url = f"/reports/stats/{release.day.isoformat()}.hxl.csv"
    assert b'name="recipient"' in client.get(url).content
    assert client.post(url, {"purpose": "", "recipient": "HDX"}).status_code == 400
    page = client.post(url, {"purpose": "publication", "recipient": "HDX"})
    assert page.status_code == 200 and page.content.decode().splitlines()[1].startswith("#date")
    entry = LedgerEntry.objects.filter(stream="audit", kind="audit.export").last()
    assert '"export":"stats_hxl"' in entry.payload and '"recipient":"HDX"' in entry.payload
    api = client.get(f"/api/reports/stats/{release.day.isoformat()}.hxl.csv",
                     {"purpose": "publication", "recipient": "HDX"})
    assert api.status_code == 200 and api.content == page.content
    assert client.get(f"/api/reports/stats/{release.day.isoformat()}.hxl.csv").status_code \
        == 400
    assert client.get("/reports/stats/1999-01-01.hxl.csv").status_code == 404


def test_hxl_needs_the_publishing_permission(camp_population, users, client_for):
    release = _release(users)
    client = client_for(users[Role.AUDITOR])
    url = f"/reports/stats/{release.day.isoformat()}.hxl.csv"
    assert client.post(url, {"purpose": "p", "recipient": "r"}).status_code == 403
    assert client.get(f"/api/reports/stats/{release.day.isoformat()}.hxl.csv",
                      {"purpose": "p", "recipient": "r"}).status_code == 403
