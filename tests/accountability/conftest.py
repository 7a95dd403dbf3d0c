"""The compartment's cast: two investigators (the two-person rule needs both), an event with an
act naming one registered person as alleged perpetrator and another as witness, and a source."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.accountability import services
from mawa.accounts.roles import Role

SENTENCE = "The convoy of the 44th Brigade left the school at dawn carrying the prisoners."


def png_bytes(text: str = "") -> bytes:
    """A small valid PNG (1×1), with an optional text chunk."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"\x00\xff\x00\x00"
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    if text:
        body += chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1"))
    body += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def investigator(users):
    return users[Role.INVESTIGATOR]


@pytest.fixture
def investigator2(sites, make_user):
    return make_user("investigator2", Role.INVESTIGATOR, all_sites=True)


@pytest.fixture
def persons(sites, users):
    from mawa.reception import services as reception
    from mawa.reception.services import PersonInput

    officer = users[Role.RECEPTION_OFFICER]
    made = []
    for given, family in (("Karam", "Nouri"), ("Salim", "Badawi")):
        person, _ = reception.person_register(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
            data=PersonInput(values={"given_lat": given, "family_lat": family, "sex": "male",
                                     "unit": "44th Brigade"}, birth="1988"))
        made.append(person)
    return made


@pytest.fixture
def event(sites, investigator):
    return services.event_create(
        actor=investigator, site=sites["HQ"], client_key=uuid.uuid4(),
        title="Detention of villagers at the school", description=SENTENCE,
        place="Al-Qasr primary school", date_start=dt.date(2024, 11, 2),
        date_end=dt.date(2024, 11, 4), date_precision="day")


@pytest.fixture
def act(event, investigator, persons):
    act = services.act_add(actor=investigator, event=event, violation="8.2.a.viii",
                           date=dt.date(2024, 11, 3), description=SENTENCE)
    services.involvement_add(actor=investigator, act=act, role="alleged_perpetrator",
                             person=persons[0], degree="direct")
    services.involvement_add(actor=investigator, act=act, role="witness", person=persons[1],
                             degree="n/a")
    return act


@pytest.fixture
def source(sites, investigator):
    return services.source_create(actor=investigator, site=sites["HQ"], name="Witness W-1",
                                  kind="witness", reliability="B",
                                  consent_recipients=["national_prosecutor", "un_mechanism"],
                                  willing_to_testify=True)


@pytest.fixture
def evidence(event, investigator, source):
    return services.evidence_add(
        actor=investigator, event=event, client_key=uuid.uuid4(), name="statement.txt",
        data=(SENTENCE + "\n").encode(), source=source, description=SENTENCE,
        captured_at=timezone.now(), original_location="Locked safe, HQ")


@pytest.fixture(autouse=True)
def _evidence_store(settings, tmp_path):
    """A file store per test: files outlive the rolled-back rows that pointed at them."""
    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"
