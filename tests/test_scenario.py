"""The operation day by day (issue 15): a small version of the demo's timeline (the seed's days,
a few hundred people) replayed through the services, and after every day the situation report
of that day agrees with what the pages show: persons by status, camp occupancy and capacity,
custody items by kind and state, arrivals, and the materiel balance.

The figures are compared when the day has just ended (the replay's clock stands at a few
minutes past midnight, before anything of the next day is recorded), so "now" on the pages is
the end of the day the report describes. Runs on SQLite and on PostgreSQL (``--postgres``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Sum

from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.camp.selectors import camp_dashboard
from mawa.core.ledger import ledger_verify
from mawa.core.models import Site
from mawa.custody.models import Kind, State
from mawa.custody.selectors import items_visible
from mawa.demo import loader
from mawa.reception.models import ArrivalGroup, Status
from mawa.reception.selectors import persons_visible
from mawa.reports.consistency import consistency_check
from mawa.reports.models import StoredReport
from mawa.reports.selectors import sitrep_build, sitrep_scope

SIZE = 300  # people registered over the four days of arrivals
_days: list[dt.date] = []  # the days replayed so far


def _figures_agree(day: dt.date) -> None:
    """The situation report of ``day`` against the pages' selectors, at the end of the day."""
    # the report as headquarters reads it; each page as the officer who uses it sees it
    admin = User.objects.get(role=Role.ADMINISTRATOR)
    report = sitrep_build(sitrep_scope(user=admin, day=day, site_code="ALL"))

    persons = persons_visible(user=User.objects.get(role=Role.RECEPTION_OFFICER))
    by_status = dict(persons.values_list("status").annotate(n=Count("id")).order_by())
    assert {r["status"]: r["total"] for r in report["population"]["rows"] if r["total"]} == \
        by_status, day
    assert report["population"]["total"] == persons.count()
    assert report["arrivals"]["total"] == persons.count()

    camp = Site.objects.get(code="NUR")
    dashboard = camp_dashboard(user=User.objects.get(role=Role.CAMP_MANAGER), site=camp)
    assert report["camp"]["occupied"] == dashboard["housed"], day
    assert report["camp"]["capacity"] == dashboard["capacity"], day
    # every interned soldier is housed the day he arrives (the camp is not empty); a man in
    # hospital may keep his place
    interned = by_status.get(Status.INTERNED, 0)
    assert 0 < interned <= dashboard["housed"] <= interned + by_status.get(
        Status.HOSPITALISED, 0) + by_status.get(Status.DETAINED, 0), day

    items = items_visible(user=User.objects.get(role=Role.CUSTODY_OFFICER)).exclude(
        state=State.REFUSED)
    custody = report["custody"]
    assert custody["balanced"], day
    assert custody["in_custody"] == items.filter(state=State.IN_CUSTODY).count(), day
    assert custody["accounted"] == items.count(), day
    states = [s for s in State.values if s != State.REFUSED]
    for row in custody["rows"]:
        of_kind = items.filter(kind=row["kind"])
        if row["kind"] == Kind.AMMUNITION:  # the report counts rounds
            counts = dict(of_kind.values_list("state").annotate(n=Sum("quantity")).order_by())
        else:
            counts = dict(of_kind.values_list("state").annotate(n=Count("id")).order_by())
        assert dict(zip(states, row["cells"], strict=True)) == \
            {s: counts.get(s, 0) for s in states}, (day, row["kind"])


def _after_day(day: dt.date) -> None:
    """What must hold at the end of every day of the story (one line per check)."""
    _days.append(day)
    _figures_agree(day)
    report = consistency_check(day=day)
    assert report.ok, [(c.name, c.figures, c.examples) for c in report.failed]


@pytest.mark.django_db
def test_the_seed_days_replayed_agree_with_the_pages_every_day(settings, tmp_path):
    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    _days.clear()
    loader.demo_load(size=SIZE, on_day_end=_after_day)

    assert len(_days) == loader.DAYS >= 14
    assert [d - _days[0] for d in _days] == [dt.timedelta(days=n) for n in range(len(_days))]
    # each day's report was stored, as the nightly timer stores it
    assert set(StoredReport.objects.filter(site=None).values_list("day", flat=True)) == \
        set(_days)
    groups = ArrivalGroup.objects.all()
    assert len({g.arrived_at.date() for g in groups}) == 4
    assert all(g.reported_count >= g.persons.count() for g in groups)
    assert ledger_verify().ok
