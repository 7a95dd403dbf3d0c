import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.reception import services
from mawa.reception.services import PersonInput


@pytest.fixture
def officer(users):
    return users[Role.RECEPTION_OFFICER]


@pytest.fixture
def group(sites, officer):
    return services.arrival_group_create(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        arrived_at=timezone.now() - dt.timedelta(hours=2), reported_count=3,
        facilitated_by="Governor of the province", formation="17th Division")


@pytest.fixture
def register(sites, officer, group):
    """Register a person with sensible defaults; keyword arguments override values."""

    def make(actor=None, client_key=None, birth="1990-03-15", grp=group, site=None, **values):
        base = {"given_ar": "محمد", "given_lat": "Mohammed", "father_ar": "أحمد",
                "family_ar": "الحلبي", "family_lat": "al-Halabi", "sex": "male",
                "service_number": "A-12345"}
        base.update(values)
        return services.person_register(
            actor=actor or officer, site=site or sites["RHM"],
            client_key=client_key or uuid.uuid4(), group=grp,
            data=PersonInput(values=base, birth=birth))

    return make


@pytest.fixture
def officer_client(client_for, officer):
    return client_for(officer)
