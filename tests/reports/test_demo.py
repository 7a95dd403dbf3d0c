"""Done when: the demo's report for each of its days renders in Arabic and English and as a
PDF, and its totals equal the register's; every day of the demo has its stored report; the
demo holds at least 4,000 persons and 3,500 weapons, and yesterday's report shows the camp
occupied and the materiel as the camp and custody pages do (issue 15)."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone, translation

from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.camp.selectors import camp_dashboard
from mawa.core.models import Site
from mawa.custody.models import Item, Kind, State
from mawa.custody.selectors import items_visible
from mawa.reception.models import Person
from mawa.reports import selectors, services
from mawa.reports.models import StoredReport


@pytest.fixture
def demo(db, settings, tmp_path):
    from mawa.demo.loader import demo_load

    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    demo_load()
    return User.objects.get(role=Role.ADMINISTRATOR)


@pytest.mark.full_demo
def test_the_demo_at_full_size(demo):
    """One load of the whole story (about two minutes) for both checks."""
    _report_for_each_day_in_both_languages_and_as_pdf(demo)
    _the_seed_days_at_full_size(demo)


def _report_for_each_day_in_both_languages_and_as_pdf(demo):
    first = Person.objects.order_by("arrived_at").first().arrived_at.date()
    today = timezone.now().date()
    day = first
    while day <= today:
        scope = selectors.sitrep_scope(user=demo, day=day)
        end = scope.end
        for language in ("ar", "en"):
            with translation.override(language):
                report = selectors.sitrep_build(scope)
            assert report["population"]["total"] == Person.objects.filter(
                arrived_at__lt=end).count()
            assert report["arrivals"]["total"] == report["population"]["total"]
        day += dt.timedelta(days=1)
    # today the report and the register agree status by status
    report = selectors.sitrep_build(selectors.sitrep_scope(user=demo, day=today))
    register = dict(Person.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert {r["status"]: r["total"] for r in report["population"]["rows"] if r["total"]} == \
        register
    for language in ("ar", "en"):
        for d in (first, today):
            pdf, _ = services.sitrep_pdf(user=demo, day=d, language=language)
            assert pdf.startswith(b"%PDF")


def _the_seed_days_at_full_size(demo):
    assert Person.objects.count() >= 4000
    weapons = Item.objects.filter(kind=Kind.WEAPON).exclude(state=State.REFUSED)
    assert weapons.count() >= 3500
    assert 30 <= Item.objects.filter(kind=Kind.VEHICLE).count() <= 50
    assert Item.objects.filter(kind=Kind.AMMUNITION).count() >= 300
    assert {"AKM", "AK-47", "PK", "RPG-7", "Makarov PM", "Tariq"} <= set(
        weapons.values_list("model", flat=True))
    assert weapons.filter(on_hold=True).count() == 2

    # every day of the story has its stored report, yesterday's in both languages
    first = Person.objects.order_by("arrived_at").first().arrived_at.date()
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    stored = StoredReport.objects.filter(site=None)
    assert set(stored.values_list("day", flat=True)) == {
        first + dt.timedelta(days=n) for n in range((yesterday - first).days + 1)}
    assert stored.filter(day=yesterday).count() == 2

    # yesterday's report: the camp occupied and the materiel as the pages show them now
    # (nothing was recorded today)
    report = selectors.sitrep_build(selectors.sitrep_scope(user=demo, day=yesterday))
    camp = camp_dashboard(user=User.objects.get(role=Role.CAMP_MANAGER),
                          site=Site.objects.get(code="NUR"))
    assert report["camp"]["occupied"] == camp["housed"] > 3500
    assert report["camp"]["capacity"] == camp["capacity"]
    items = items_visible(user=User.objects.get(role=Role.CUSTODY_OFFICER)).exclude(
        state=State.REFUSED)
    assert report["custody"]["in_custody"] == items.filter(state=State.IN_CUSTODY).count() \
        >= 3500
    assert report["custody"]["balanced"]
