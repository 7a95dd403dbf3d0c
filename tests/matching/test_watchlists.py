"""Watch lists: import, screening, and the compartment: investigators only."""

import re

import pytest
from django.core.management import call_command

from mawa.accounts.roles import Role
from mawa.core import jobs
from mawa.core.errors import Conflict, NotFound
from mawa.core.models import LedgerEntry
from mawa.matching import selectors, services
from mawa.matching.models import MatchPair, PairKind, Watchlist

from .conftest import WATCHLIST

pytestmark = pytest.mark.django_db


def test_import_records_source_version_licence_and_bad_rows(watchlist):
    wl = watchlist.watchlist
    assert (wl.source, wl.version, wl.licence, wl.entity_count) == ("Test list", "1", "CC0", 2)
    assert wl.report["skipped"] == 2  # the broken line and the Company
    assert LedgerEntry.objects.filter(stream=f"watchlist/{wl.pk}",
                                      kind="watchlist.imported").exists()


def test_the_registry_is_screened_when_a_list_arrives(watchlist, homsi):
    hit = MatchPair.objects.get(kind=PairKind.WATCHLIST)
    assert hit.person_a == homsi and hit.entry.entity_id == "wl-1"
    assert watchlist.run.pairs_new == 1


@pytest.mark.django_db(transaction=True)  # the real worker loop runs
def test_a_new_registration_is_screened_by_the_worker(watchlist, register):
    person = register(given_lat="Mohammed", father_lat="Khaled", family_lat="Al-Homsi",
                      birth="1988")
    # not in the registering request: the worker screens it afterwards
    assert not MatchPair.objects.filter(kind=PairKind.WATCHLIST, person_a=person).exists()
    jobs.jobs_work(batch=True, worker_id="test-worker")
    assert MatchPair.objects.filter(kind=PairKind.WATCHLIST, person_a=person).exists()
    # screening again (a task run twice) raises nothing twice
    services.persons_screen([person.pk])
    assert MatchPair.objects.filter(kind=PairKind.WATCHLIST, person_a=person).count() == 1


def test_a_new_version_replaces_the_old_one(investigator, watchlist):
    with pytest.raises(Conflict):
        services.watchlist_import(actor=investigator, content=WATCHLIST, source="Test list",
                                  version="1", licence="CC0")
    services.watchlist_import(actor=investigator, content=WATCHLIST, source="Test list",
                              version="2", licence="CC0")
    assert list(Watchlist.objects.filter(active=True).values_list("version", flat=True)) == ["2"]
    # same person, same entity id in the new version: one more hit row, the old one kept
    assert MatchPair.objects.filter(kind=PairKind.WATCHLIST).count() == 2


def _page(answer, url) -> str:
    # the same page as for a missing record, once the per-request CSRF token and the address
    # asked for are set aside
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", answer.content.decode().replace(url, "URL"))


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.PROTECTION_OFFICER,
                                  Role.AUDITOR, Role.ADMINISTRATOR, Role.CAMP_MANAGER])
def test_hits_do_not_exist_outside_the_compartment(client_for, users, watchlist, role):
    user = users[role]
    hit = MatchPair.objects.get(kind=PairKind.WATCHLIST)
    client = client_for(user)
    nowhere = "/matching/pairs/00000000-0000-7000-8000-000000000000/"
    missing = client.get(nowhere)
    answer = client.get(f"/matching/pairs/{hit.pk}/")
    assert answer.status_code == missing.status_code  # 404, or 403 for every pair alike
    assert _page(answer, f"/matching/pairs/{hit.pk}/") == _page(missing, nowhere)
    lists, hits = client.get("/matching/watchlists/"), client.get("/matching/hits/")
    assert lists.status_code == hits.status_code == 404
    assert _page(lists, "/matching/watchlists/") == _page(hits, "/matching/hits/")
    api_hit = client.get(f"/api/matching/pairs/{hit.pk}")
    api_missing = client.get("/api/matching/pairs/00000000-0000-7000-8000-000000000000")
    assert (api_hit.status_code, api_hit.json()) == (api_missing.status_code, api_missing.json())
    # the watch-list kind answers what a kind that does not exist answers (issue 20)
    listed, unknown = (client.get("/api/matching/pairs", {"kind": kind})
                       for kind in ("watchlist", "no-such-kind"))
    assert (listed.status_code, listed.content) == (unknown.status_code, unknown.content)
    home = client.get("/").content.decode()
    assert "/matching/hits/" not in home and "Test list" not in home
    if selectors.pair_count_open(user=user):
        assert all(p.kind == PairKind.DUPLICATE for p in selectors.pair_queue(user=user))
    with pytest.raises(NotFound):
        selectors.watchlist_list(user=user)
    assert all(r.kind != "screen_registry" for r in selectors.run_list(user=user)) \
        if role == Role.ADMINISTRATOR else True


def test_an_investigator_sees_and_decides_hits(client_for, investigator, watchlist):
    hit = MatchPair.objects.get(kind=PairKind.WATCHLIST)
    client = client_for(investigator)
    assert "/matching/hits/" in client.get("/").content.decode()
    page = client.get("/matching/hits/")
    assert page.status_code == 200 and "Test list" in page.content.decode()
    assert client.get("/matching/watchlists/").status_code == 200
    assert client.post(f"/matching/pairs/{hit.pk}/", {
        "decision": "match", "reason": "Same DOB and father"}).status_code == 302
    hit.refresh_from_db()
    assert hit.decision == "match"


def test_the_command_line(tmp_path, homsi, capsys):
    path = tmp_path / "list.jsonl"
    path.write_bytes(WATCHLIST)
    call_command("matching", "import-watchlist", str(path), "--source", "CLI list",
                 "--version", "7", "--licence", "CC0")
    out = capsys.readouterr()
    assert "2 entities, 2 rows skipped" in out.out and "list.jsonl:3" in out.err
    call_command("matching", "screen-registry")
    call_command("matching", "dedupe-registry")
    call_command("matching", "reindex")
    assert "1 persons indexed" in capsys.readouterr().out


def test_csv_watchlists_are_read_too(investigator, homsi):
    csv = ("record_id,site,given_name,father_name,grandfather_name,family_name,mother_name,"
           "sex,birth_date,birth_place,nationality,military_id,national_id\n"
           "c-1,,محمد,خالد,,الحمصي,,M,1988,,SY,,\n").encode()
    result = services.watchlist_import(actor=investigator, content=csv, source="CSV list",
                                       version="1", licence="CC0")
    assert result.watchlist.entity_count == 1 and result.run.pairs_new == 1
