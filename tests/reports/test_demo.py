"""Done when: the demo's report for each of its days renders in Arabic and English and as a
PDF, and its totals equal the register's."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone, translation

from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.reception.models import Person
from mawa.reports import selectors, services


@pytest.fixture
def demo(db, settings, tmp_path):
    from mawa.demo.loader import demo_load

    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    demo_load()
    return User.objects.get(role=Role.ADMINISTRATOR)


def test_demo_report_for_each_day_in_both_languages_and_as_pdf(demo):
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
