import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.reception import services
from mawa.reception.services import PersonInput


@pytest.fixture
def officer(users):
    return users[Role.RECEPTION_OFFICER]


@pytest.fixture
def investigator(users):
    return users[Role.INVESTIGATOR]


@pytest.fixture
def register(sites, officer):
    """Register a person through reception's service; keyword arguments are the values."""

    def make(birth="1988-04-12", site=None, actor=None, **values):
        person, _created = services.person_register(
            actor=actor or officer, site=site or sites["RHM"], client_key=uuid.uuid4(),
            data=PersonInput(values={"sex": "male", **values}, birth=birth))
        return person

    return make


@pytest.fixture
def homsi(register):
    """Mohammed Khalid Hasan al-Homsi, typed in Arabic."""
    return register(given_ar="محمد", father_ar="خالد", grandfather_ar="حسن",
                    family_ar="الحمصي", place_of_birth="Homs", service_number="SY-88412")


@pytest.fixture
def homsi_again(register, homsi):
    """The same man registered again, in Latin script with other spellings."""
    return register(given_lat="Muhammad", father_lat="Khaled", grandfather_lat="Hasan",
                    family_lat="al-Homsi", place_of_birth="Homs")


WATCHLIST = (
    b'{"id": "wl-1", "schema": "Person", "properties": {"firstName": ["Mohamad"], '
    b'"fatherName": ["Khalid"], "lastName": ["Al Homsi"], "birthDate": ["1988"], '
    b'"gender": ["male"]}}\n'
    b'{"id": "wl-2", "schema": "Person", "properties": {"firstName": ["Tariq"], '
    b'"lastName": ["Barakat"], "birthDate": ["1970"]}}\n'
    b'{"id": "wl-broken", "schema": "Person", "properties": \n'
    b'{"id": "wl-company", "schema": "Company", "properties": {"name": ["X LLC"]}}\n'
)


@pytest.fixture
def watchlist(investigator, homsi):
    from mawa.matching.services import watchlist_import

    return watchlist_import(actor=investigator, content=WATCHLIST, source="Test list",
                            version="1", licence="CC0", file_name="list.jsonl")
