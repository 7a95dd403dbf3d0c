"""One life, one state machine (issue 15): every lifecycle move, wherever it is made, moves the
camp stay and the roll-call expectation in the same transaction."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.camp import selectors, services
from mawa.camp.models import Assignment, Movement
from mawa.reception.models import Status
from mawa.reception.services import person_transition


def key():
    return uuid.uuid4()


def _open_stay(person):
    return Assignment.objects.filter(person=person, end_at__isnull=True).exists()


def _expected(staff, layout):
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key())
    return selectors.rollcall_expected_ids(rc)


def test_asylum_from_the_person_page_ends_the_camp_stay(housed, protection, staff, layout):
    person_transition(actor=protection, person=housed[0], to=Status.REFERRED_TO_ASYLUM,
                      details={"renunciation_assessment": "RA-7", "assessed_by": "UNHCR"})
    assert not _open_stay(housed[0])
    assert housed[0].id not in _expected(staff, layout)


def test_hospitalising_from_the_person_page_pauses_the_stay(housed, protection, staff, layout):
    person_transition(actor=protection, person=housed[1], to=Status.HOSPITALISED,
                      details={"facility": "Central hospital"})
    assert _open_stay(housed[1])  # keeps his place
    out = Movement.objects.get(person=housed[1], is_open=True)
    assert out.kind == "hospital" and out.destination == "Central hospital"
    assert housed[1].id not in _expected(staff, layout)  # not "missing" at roll call
    person_transition(actor=protection, person=housed[1], to=Status.INTERNED)
    assert not Movement.objects.filter(person=housed[1], is_open=True).exists()
    assert housed[1].id in _expected(staff, layout)


def test_the_camp_has_an_asylum_movement(housed, protection, camp):
    m = services.movement_out(actor=protection, person=housed[2], kind="asylum", site=camp,
                              client_key=key(), details={"renunciation_assessment": "RA-9",
                                                         "assessed_by": "UNHCR"})
    housed[2].refresh_from_db()
    assert housed[2].status == Status.REFERRED_TO_ASYLUM
    assert not m.is_open and not _open_stay(housed[2])


def test_release_through_the_camp_closes_the_stay(housed, protection, camp):
    services.movement_out(actor=protection, person=housed[3], kind="release", site=camp,
                          client_key=key(), destination="Decision 12/2026")
    housed[3].refresh_from_db()
    assert housed[3].status == Status.RELEASED
    assert not _open_stay(housed[3])


def test_death_in_hospital_closes_the_movement_and_the_stay(housed, staff, manager, camp):
    services.movement_out(actor=staff, person=housed[4], kind="hospital", site=camp,
                          client_key=key(), due_back_at=timezone.now() + dt.timedelta(days=1),
                          destination="Clinic")
    person_transition(actor=manager, person=housed[4], to=Status.DECEASED,
                      details={"date": timezone.now().date(), "note": "in hospital"})
    assert not Movement.objects.filter(person=housed[4], is_open=True).exists()
    assert not _open_stay(housed[4])


def test_a_camp_movement_is_recorded_once(housed, staff, camp):
    services.movement_out(actor=staff, person=housed[0], kind="hospital", site=camp,
                          client_key=key(), due_back_at=timezone.now() + dt.timedelta(days=1),
                          destination="Clinic")
    assert Movement.objects.filter(person=housed[0]).count() == 1


@pytest.mark.parametrize("target,details", [
    (Status.ESCAPED, {"note": "fence"}),
])
def test_escape_from_the_person_page_ends_the_stay(housed, staff, target, details):
    person_transition(actor=staff, person=housed[0], to=target, details=details)
    assert not _open_stay(housed[0])
