"""Camp fixtures: the NUR camp laid out with one zone, two blocks of small tents, and a
supply of persons created straight in the register (their registration is reception's
business and tested there)."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.camp import services
from mawa.core.services import short_code_next


@pytest.fixture
def manager(users):
    return users[Role.CAMP_MANAGER]


@pytest.fixture
def staff(users):
    return users[Role.CAMP_STAFF]


@pytest.fixture
def protection(users):
    return users[Role.PROTECTION_OFFICER]


@pytest.fixture
def camp(sites):
    return sites["NUR"]


@pytest.fixture
def layout(camp, manager):
    """Zone A with block A1 (tents T1, T2 of 3 places) and block A2 (tent T1 of 2)."""
    zone = services.zone_create(actor=manager, site=camp, name="A")
    a1 = services.block_create(actor=manager, zone=zone, name="A1", x=10, y=10)
    a2 = services.block_create(actor=manager, zone=zone, name="A2", x=200, y=10)
    return {
        "zone": zone, "A1": a1, "A2": a2,
        "A1/T1": services.shelter_create(actor=manager, block=a1, name="T1", capacity=3),
        "A1/T2": services.shelter_create(actor=manager, block=a1, name="T2", capacity=3),
        "A2/T1": services.shelter_create(actor=manager, block=a2, name="T1", capacity=2),
    }


@pytest.fixture
def make_person(sites, users):
    """A person straight in the register (status, site, rank and unit as given)."""
    from mawa.reception.models import Person

    def make(status="interned", site=None, rank="", unit="", group=None, given="Ali"):
        site = site or sites["NUR"]
        origin = sites["RHM"]
        now = timezone.now()
        return Person.objects.create(
            site=origin, short_code=short_code_next(site=origin), client_key=uuid.uuid4(),
            content_hash="x", current_site=site, arrived_at=now - dt.timedelta(days=3),
            given_lat=given, status=status, status_changed_at=now, rank=rank, unit=unit,
            group=group, registered_by=users[Role.RECEPTION_OFFICER])

    return make


@pytest.fixture
def housed(layout, make_person, staff):
    """Five interned persons: three in A1/T1, two in A1/T2."""
    people = [make_person(given=f"P{i}") for i in range(5)]
    for i, p in enumerate(people):
        services.assignment_check_in(actor=staff, person=p, client_key=uuid.uuid4(),
                                     shelter=layout["A1/T1"] if i < 3 else layout["A1/T2"])
    return people
