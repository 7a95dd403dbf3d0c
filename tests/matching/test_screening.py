"""Screening after the commit (issue 20, item 6): a registration never screens the person
itself, so registering a listed person runs the very same statements as registering anybody
else (the registering officer cannot time it); the worker screens afterwards, as the system,
and raises the hit into the investigators' queue. An import queues one task per batch."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from mawa.core import context as action_context
from mawa.core import jobs
from mawa.matching import services
from mawa.matching.models import MatchPair, PairKind
from mawa.reception import imports
from mawa.reception import services as reception
from mawa.reception.services import PersonInput

pytestmark = pytest.mark.django_db(transaction=True)  # the real worker loop runs

SCREEN_TASK = "mawa.matching.services.screen_persons"
# wl-2 of the test list; nobody like either of them is registered (no duplicate look-alike)
LISTED = {"given_lat": "Tariq", "family_lat": "Barakat"}
UNLISTED = {"given_lat": "Samir", "family_lat": "Qabbani"}


def _shape(sql: str) -> str:
    """A statement without its values: literals, and the length of value and IN lists (a
    name has as many keys as it has), set aside."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", re.sub(r'"s\d+_x\d+"', "SP", sql))
    sql = re.sub(r"\?(?:, \?)+", "?", sql)
    return re.sub(r"\(\?\)(?:, \(\?\))+", "(?)", sql)


def _register(officer, site, values):
    person, _created = reception.person_register(
        actor=officer, site=site, client_key=uuid.uuid4(),
        data=PersonInput(values={"sex": "male", **values}, birth="1970"))
    return person


def _statements(officer, site, values):
    with CaptureQueriesContext(connection) as queries:
        person = _register(officer, site, values)
    return person, [_shape(q["sql"]) for q in queries.captured_queries]


def test_a_listed_and_an_unlisted_registration_run_the_same_statements(watchlist, officer,
                                                                       sites):
    site = sites["RHM"]
    _register(officer, site, {"given_lat": "Warm", "family_lat": "Up"})  # caches filled
    listed, listed_sql = _statements(officer, site, LISTED)
    unlisted, unlisted_sql = _statements(officer, site, UNLISTED)
    assert len(listed_sql) == len(unlisted_sql)
    assert listed_sql == unlisted_sql
    # nothing about the watch lists was asked while registering
    assert not any("watchlist" in q.lower() for q in listed_sql)
    assert not MatchPair.objects.filter(kind=PairKind.WATCHLIST,
                                        person_a__in=[listed, unlisted]).exists()
    # the worker then raises the listed person's hit, and only that one
    jobs.jobs_work(batch=True, worker_id="test-worker")
    hits = MatchPair.objects.filter(kind=PairKind.WATCHLIST, person_a__in=[listed, unlisted])
    assert [(h.person_a_id, h.entry.entity_id, h.decision) for h in hits] == [
        (listed.pk, "wl-2", "")]
    assert not DBTaskResult.objects.filter(task_path=SCREEN_TASK).exclude(
        status="SUCCESSFUL").exists()


def test_without_an_active_list_a_registration_still_queues_its_screening(officer, sites):
    person = _register(officer, sites["RHM"], LISTED)
    (entry,) = DBTaskResult.objects.filter(task_path=SCREEN_TASK)
    assert entry.args_kwargs["args"] == [[str(person.pk)]]
    jobs.jobs_work(batch=True, worker_id="test-worker")
    entry.refresh_from_db()
    assert entry.status == "SUCCESSFUL"
    assert not MatchPair.objects.filter(kind=PairKind.WATCHLIST).exists()


def test_a_rolled_back_registration_queues_nothing(officer, sites):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _register(officer, sites["RHM"], LISTED)
        raise RuntimeError("the request failed after the save")
    assert not DBTaskResult.objects.filter(task_path=SCREEN_TASK).exists()


def test_an_import_queues_one_screening_task_per_batch(monkeypatch, officer, sites,
                                                        watchlist):
    monkeypatch.setattr(services, "SCREEN_BATCH", 2)
    jobs.jobs_work(batch=True, worker_id="test-worker")  # the fixtures' registrations
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    csv = "given_lat,family_lat,sex,birth\n" + "".join(
        f"{given},{family},male,1970\n" for given, family in (
            ("Tariq", "Barakat"), ("Samir", "Qabbani"), ("Fadi", "Nasr"), ("Omar", "Haddad"),
            ("Rami", "Sabbagh")))
    result = imports.import_check(user=officer, site=sites["RHM"],
                                  table=imports.table_read(csv.encode(), "f.csv"))
    assert result.ok, result.problems
    written = imports.import_commit(user=officer, site=sites["RHM"], result=result)
    assert len(written) == 5
    tasks = DBTaskResult.objects.filter(task_path=SCREEN_TASK).exclude(pk__in=before) \
        .order_by("enqueued_at")
    assert [len(t.args_kwargs["args"][0]) for t in tasks] == [2, 2, 1]
    jobs.jobs_work(batch=True, worker_id="test-worker")
    hits = MatchPair.objects.filter(kind=PairKind.WATCHLIST, person_a__in=written)
    assert [h.person_a_id for h in hits] == [written[0].pk]


def test_the_worker_screens_as_the_system_not_as_the_officer(monkeypatch, watchlist, officer,
                                                             sites):
    seen = []
    real = services._screen_one

    def spy(person, prepared, **kw):
        seen.append(action_context.current().channel)
        return real(person, prepared, **kw)

    monkeypatch.setattr(services, "_screen_one", spy)
    _register(officer, sites["RHM"], LISTED)
    assert seen == []
    jobs.jobs_work(batch=True, worker_id="test-worker")
    assert seen and set(seen) == {"job"}
