"""Custody cast: the crossing RHM, a depot DEP with a store, a custody officer at both, a
person and an arrival group who hand items in (created directly: reception's services are
not under test here)."""

import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.custody import services
from mawa.custody.models import Kind, MaterielModel
from mawa.custody.services import ItemInput


@pytest.fixture
def depot(sites):
    from mawa.core.models import Site, SiteKind

    return Site.objects.create(code="DEP", kind=SiteKind.DEPOT, name_ar="المستودع المركزي",
                               name_en="Central depot")


@pytest.fixture
def officer(users, sites, depot):
    user = users[Role.CUSTODY_OFFICER]
    user.sites.add(depot)
    return user


@pytest.fixture
def investigator(users):
    return users[Role.INVESTIGATOR]


@pytest.fixture
def group(sites, users):
    from mawa.core.services import short_code_next
    from mawa.reception.models import ArrivalGroup

    return ArrivalGroup.objects.create(
        site=sites["RHM"], short_code=short_code_next(site=sites["RHM"]), client_key=uuid.uuid4(),
        arrived_at=timezone.now(), reported_count=12, formation="17th Division",
        created_by=users[Role.RECEPTION_OFFICER])


@pytest.fixture
def person(sites, users, group):
    from mawa.core.services import short_code_next
    from mawa.reception.models import Person

    now = timezone.now()
    return Person.objects.create(
        site=sites["RHM"], short_code=short_code_next(site=sites["RHM"]),
        client_key=uuid.uuid4(), content_hash="0" * 64, group=group, current_site=sites["RHM"],
        arrived_at=now, status_changed_at=now, given_ar="محمد", father_ar="أحمد",
        family_ar="الحلبي", given_lat="Mohammed", family_lat="al-Halabi",
        registered_by=users[Role.RECEPTION_OFFICER])


@pytest.fixture
def store(officer, depot):
    return services.store_create(actor=officer, site=depot, name="Armoury 1")


@pytest.fixture
def gate_store(officer, sites):
    return services.store_create(actor=officer, site=sites["RHM"], name="Gate armoury")


@pytest.fixture
def receipt(officer, sites, person):
    return services.receipt_open(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                 person=person, witness="Sgt. Aziz")


@pytest.fixture
def akm(db):
    return MaterielModel.objects.get(name="AKM")


@pytest.fixture
def surrender(officer, receipt, akm):
    """Surrender one item on the open receipt; keyword arguments override ItemInput."""

    def make(rcpt=None, **values):
        base = {"kind": Kind.WEAPON, "catalogue": akm,
                "serial_number": f"SN-{uuid.uuid4().hex[:8]}",
                "cleared_by": "Cpl. Salem", "verified_by": "Lt. Nabil"}
        if values.get("kind") == Kind.AMMUNITION:
            base.update(catalogue=None, calibre="7.62×39 mm", ammunition_type="ball",
                        serial_number="", quantity=1000)
        if values.get("kind") == Kind.VEHICLE:
            base.update(catalogue=MaterielModel.objects.get(name="BMP-1"), serial_number="",
                        chassis_number=f"CH-{uuid.uuid4().hex[:6]}")
        base.update(values)
        return services.item_surrender(actor=officer, receipt=rcpt or receipt,
                                       client_key=uuid.uuid4(), data=ItemInput(**base)).item

    return make
