"""``mawa consistency`` (issue 15): a small operation run through the services holds every
check; one record changed behind the lifecycle's back fails the check that names it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.camp import services as camp
from mawa.camp.models import Assignment, Movement
from mawa.reception.models import Status
from mawa.reception.services import person_transition
from mawa.reports.consistency import (
    consistency_check,
    consistency_last,
    consistency_store,
)


@pytest.fixture
def operation(sites, users, make_person):
    """Six persons interned at NUR through the camp's check-in, one hospitalised from the
    person page, one referred to asylum, one sent to court through the camp."""
    manager = users[Role.CAMP_MANAGER]
    protection = users[Role.PROTECTION_OFFICER]
    today = timezone.now().date()
    zone = camp.zone_create(actor=manager, site=sites["NUR"], name="A")
    block = camp.block_create(actor=manager, zone=zone, name="A1", x=1, y=1)
    tent = camp.shelter_create(actor=manager, block=block, name="T1", capacity=10)
    people = [make_person(arrived=today, status=Status.REGISTERED, current="RHM",
                          changed=timezone.now() - dt.timedelta(minutes=5)) for _ in range(6)]
    for p in people:
        camp.assignment_check_in(actor=manager, person=p, shelter=tent, client_key=uuid.uuid4())
    person_transition(actor=protection, person=people[0], to=Status.HOSPITALISED,
                      details={"facility": "Central hospital"})
    person_transition(actor=protection, person=people[1], to=Status.REFERRED_TO_ASYLUM,
                      details={"renunciation_assessment": "RA-1", "assessed_by": "UNHCR"})
    camp.movement_out(actor=protection, person=people[2], kind="court", site=sites["NUR"],
                      client_key=uuid.uuid4(), destination="Court 3",
                      due_back_at=timezone.now() + dt.timedelta(days=1))
    return people


def _by_name(report):
    return {c.name: c for c in report.checks}


def test_a_consistent_operation_holds_every_check(operation):
    report = consistency_check()
    assert report.ok, [(c.name, c.figures) for c in report.failed]
    checks = _by_name(report)
    assert checks["lifecycle_vs_camp"].figures["in_care"] == 5
    assert checks["lifecycle_vs_camp"].figures["occupancy"] == 5
    assert checks["lifecycle_vs_camp"].figures["out.hospital"] == 1
    assert checks["rollcall_expectation"].figures["expected"] == 3


def test_a_stay_closed_behind_the_lifecycles_back_fails_by_name(operation):
    Assignment.objects.filter(person=operation[3]).update(end_at=timezone.now())
    report = consistency_check()
    assert not report.ok
    failed = {c.name for c in report.failed}
    assert {"lifecycle_vs_camp", "one_open_stay", "rollcall_expectation"} <= failed
    assert operation[3].short_code in _by_name(report)["one_open_stay"].examples


def test_a_hospital_return_not_recorded_in_the_camp_fails(operation):
    Movement.objects.filter(person=operation[0]).update(is_open=False,
                                                        returned_at=timezone.now())
    failed = {c.name for c in consistency_check().failed}
    assert "lifecycle_vs_camp" in failed and "rollcall_expectation" in failed


def test_the_command_exits_0_when_all_hold_and_1_otherwise(operation, capsys):
    call_command("consistency")
    out = capsys.readouterr().out
    assert "lifecycle_vs_camp" in out and "custody_items" in out
    call_command("consistency", "--all-days")
    Assignment.objects.filter(person=operation[4]).update(end_at=timezone.now())
    with pytest.raises(CommandError) as exc:
        call_command("consistency", "--date", timezone.now().date().isoformat())
    assert exc.value.returncode == 1


def test_the_last_result_is_kept_for_the_managers(operation, settings, tmp_path, rf, users):
    from mawa.reports.dashboard import reports_panel

    settings.VAR_DIR = tmp_path
    assert consistency_last() is None
    consistency_store(consistency_check())
    assert consistency_last()["ok"] is True
    request = rf.get("/")
    request.user = users[Role.CAMP_MANAGER]
    panel = reports_panel(request)
    assert any("2" in str(m["label"]) or m["url"] == "" for m in panel["metrics"])
