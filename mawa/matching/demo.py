"""Demo data of identity resolution: the index, two near-duplicate registrations waiting in
the review queue, a generated watch list (FollowTheMoney JSON lines of invented people —
never real sanctions data) with one entity that is a demo person, and its screening run."""

from __future__ import annotations

import json
import random
import uuid

from mawa.accounts.roles import Role
from mawa.matching import services
from mawa.reception import services as reception
from mawa.reception.models import Person
from mawa.reception.services import PersonInput

SEED = 20261126

# Invented people: (given, father, family) in Latin, birth year.
_GIVEN = ["Khaled", "Tariq", "Bassam", "Fadi", "Nizar", "Ziad", "Wael", "Ghassan", "Rami",
          "Jihad", "Anas", "Maher", "Samer", "Haitham", "Iyad", "Qusay", "Luay", "Ammar"]
_FAMILY = ["al-Zoubi", "Qassab", "al-Rifai", "Shami", "Tlass", "al-Akrad", "Barakat",
           "Hamdan", "Kanaan", "al-Masri", "Suleiman", "Abbas", "Jaber", "Nasrallah"]

# Two registrations of people the demo register already holds, typed again at the crossing
# under another spelling, as happens when a man is registered twice.
_DUPLICATES = [
    ({"given_ar": "محمد", "given_lat": "Mohamad", "father_ar": "خالد", "father_lat": "Khalid",
      "grandfather_ar": "حسن", "family_ar": "الحمصي", "family_lat": "Al Homsi",
      "sex": "male", "service_number": "SY-88412", "place_of_birth": "Homs",
      "nationality": "SY"}, "1988-04-12"),
    ({"given_ar": "يوسف", "given_lat": "Youssef", "father_ar": "عبد الرحمن",
      "father_lat": "Abdelrahman", "family_ar": "الخطيب", "family_lat": "El-Khatib",
      "sex": "male", "place_of_birth": "Idlib", "nationality": "SY"}, "1993"),
]
_SECOND = [
    ({"given_lat": "Muhammad", "father_lat": "Khaled", "grandfather_lat": "Hasan",
      "family_lat": "al-Homsi", "sex": "male", "place_of_birth": "Homs", "nationality": "SY"},
     "1988-04-12"),
    ({"given_ar": "يوسف", "father_ar": "عبدالرحمن", "family_ar": "الخطيب", "sex": "male",
      "place_of_birth": "Idlib", "nationality": "SY"}, "1993-06-02"),
]


def _ftm(entity_id: str, first: str, father: str, last: str, year: int, *, alias=()):
    return json.dumps({"id": entity_id, "schema": "Person", "properties": {
        "name": [f"{first} {father} {last}"], "firstName": [first], "fatherName": [father],
        "lastName": [last], "birthDate": [str(year)], "nationality": ["sy"],
        "gender": ["male"], "alias": list(alias)}}, ensure_ascii=False)


def watchlist_generated(rng: random.Random, match: Person | None, size: int = 60) -> bytes:
    """A FollowTheMoney watch list of invented people; one entity is ``match`` written in
    Latin with another spelling. Includes a broken line and a non-Person entity, as real
    files have, to show they are counted and skipped."""
    lines = []
    for i in range(size):
        lines.append(_ftm(f"demo-wl-{i:04d}", rng.choice(_GIVEN), rng.choice(_GIVEN),
                          rng.choice(_FAMILY), rng.randint(1960, 2000)))
    if match is not None:
        lines.append(_ftm("demo-wl-match", "Mohammed", "Khalid", "Al-Homsi", 1988,
                          alias=["Abu Khalid al-Homsi"]))
    lines.append('{"id": "demo-wl-broken", "schema": "Person", "properties": ')
    lines.append(json.dumps({"id": "demo-wl-company", "schema": "Company",
                             "properties": {"name": ["Demo Trading LLC"]}}))
    return ("\n".join(lines) + "\n").encode("utf-8")


def duplicates_register(*, sites, users) -> Person | None:
    """Two men registered twice at the crossing under other spellings (each pair waits in the
    review queue after the next duplicate search); returns the first of them."""
    rng = random.Random(SEED)
    officer = users[Role.RECEPTION_OFFICER]
    # The reception demo's persons were indexed when they were registered (the index
    # listens to reception's person.registered), and so are the registrations below.
    first = None
    for values, birth in _DUPLICATES + _SECOND:
        person, _created = reception.person_register(
            actor=officer, site=sites["QAM"], client_key=uuid.UUID(int=rng.getrandbits(128)),
            data=PersonInput(values=values, birth=birth))
        first = first or person
    return first


def duplicates_search(*, users) -> None:
    services.match_run_dedupe(actor=users[Role.ADMINISTRATOR])


def watchlist_screen(*, users, match: Person | None) -> None:
    """A generated list of persons sought is imported and screened: one entity is a demo
    person spelt otherwise, a hit to review."""
    rng = random.Random(SEED + 1)
    investigator = users[Role.INVESTIGATOR]
    services.watchlist_import(
        actor=investigator, content=watchlist_generated(rng, match),
        source="Demo list of persons sought (generated)", version="2026-11",
        licence="CC0 (generated for the demo)", file_name="demo-watchlist.jsonl")
