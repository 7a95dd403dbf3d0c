"""``mawa camp …``: the same selectors and services as the pages, as the user named."""

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mawa.camp import services
from mawa.camp.models import Movement, RollCallStatus

pytestmark = pytest.mark.django_db


def camp(*args):
    out = StringIO()
    call_command("camp", *args, stdout=out)
    return out.getvalue()


def test_rollcall_reconcile_names_the_missing_and_closes(housed, staff, layout):
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=uuid.uuid4())
    for p in housed[1:]:
        services.rollcall_scan(actor=staff, roll_call=rc, code=p.short_code)
    with pytest.raises(CommandError) as exc:
        camp("rollcall", "--user", staff.username, "--site", "NUR", "--block",
             layout["A1"].short_code.lower(), "--close")
    assert exc.value.returncode == 1
    rc.refresh_from_db()
    assert rc.status == RollCallStatus.DISCREPANCY
    with pytest.raises(CommandError):
        out = StringIO()
        call_command("camp", "rollcall", "--user", staff.username, "--block",
                     layout["A1"].short_code, stdout=out)
    assert f"missing  {housed[0].short_code}" in out.getvalue()
    assert "expected 5, present 4, missing 1" in out.getvalue()


def test_the_cli_answers_not_found_for_another_site_or_role(housed, users, layout):
    with pytest.raises(CommandError) as exc:
        camp("rollcall", "--user", users["outsider"].username, "--site", "NUR", "--block",
             layout["A1"].short_code)
    assert exc.value.returncode == 2
    with pytest.raises(CommandError):
        camp("stock", "--user", "nobody-at-all", "--site", "NUR")


def test_out_lists_the_overdue(housed, staff):
    from mawa.core.models import Site

    nur = Site.objects.get(code="NUR")
    m = services.movement_out(actor=staff, person=housed[1], kind="visit", site=nur,
                              client_key=uuid.uuid4(),
                              due_back_at=timezone.now() + dt.timedelta(hours=1))
    services.movement_out(actor=staff, person=housed[2], kind="visit", site=nur,
                          client_key=uuid.uuid4(),
                          due_back_at=timezone.now() + dt.timedelta(hours=3))
    Movement.objects.filter(pk=m.pk).update(due_back_at=timezone.now() - dt.timedelta(hours=1))
    out = camp("out", "--user", staff.username, "--site", "NUR", "--overdue")
    assert out.startswith("1 people out") and housed[1].short_code in out and "OVERDUE" in out
    assert housed[2].short_code in camp("out", "--user", staff.username)


def test_stock_shows_days_of_supply(manager, housed):
    from mawa.core.models import Site

    nur = Site.objects.get(code="NUR")
    item = services.item_type_create(actor=manager, site=nur, client_key=uuid.uuid4(),
                                     data={"name_ar": "خبز", "name_en": "Bread",
                                           "per_person_per_day": "2"})
    services.stock_adjust(actor=manager, item=item, quantity=100, reason="delivery",
                          client_key=uuid.uuid4())
    out = camp("stock", "--user", manager.username, "--site", "NUR")
    assert "population 5" in out and "Bread  stock 100" in out and "days of supply 10.0" in out
