"""The import at scale: no statement per row (the query count does not grow with the file),
rows written by the fast path are stored exactly as the ORM stores them, and a failure
half-way leaves nothing. (The batched register look-ups are tested with the candidate search,
in tests/matching/test_candidates.py.)"""

import datetime as dt
import io
import random
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.core.db.rows import fast_insert, row_dict
from mawa.core.errors import Conflict
from mawa.core.ids import uuid7
from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry
from mawa.reception import demo, imports, services
from mawa.reception.models import LifecycleEvent, Person, PersonNameKey

HEADER = "given_ar,given_lat,father_ar,family_ar,family_lat,sex,birth,service_number,rank\n"


def _csv(n: int, *, seed: int, first_year: int, prefix: str) -> bytes:
    """``n`` valid rows of common names (they repeat, as at a gate), each with its own date of
    birth and service number, so that no row duplicates another."""
    rng = random.Random(seed)
    given, families = list(demo.GIVEN_MALE.items()), list(demo.FAMILY_SY.items())
    day = dt.date(first_year, 1, 1)
    lines = [HEADER]
    for i in range(n):
        g, gl = rng.choice(given)
        fam, faml = rng.choice(families)
        lines.append(f"{g},{rng.choice(gl)},{rng.choice(given)[0]},{fam},{rng.choice(faml)},"
                     f"male,{(day + dt.timedelta(days=i)).isoformat()},{prefix}{i:05d},"
                     f"{rng.choice(demo.RANKS)}\n")
    return "".join(lines).encode()


def _check(officer, site, data: bytes):
    return imports.import_check(user=officer, site=site,
                                table=imports.table_read(data, "gate.csv"))


def _queries(officer, site, data: bytes) -> tuple[int, int]:
    """Statements run by the check and by the write of ``data`` (the write must succeed)."""
    with CaptureQueriesContext(connection) as check:
        result = _check(officer, site, data)
    assert result.ok, result.problems[:5]
    with CaptureQueriesContext(connection) as write:
        written = imports.import_commit(user=officer, site=site, result=result)
    assert len(written) == len(result.people)
    return len(check), len(write)


def test_the_query_count_does_not_grow_with_the_file(users, sites):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    # a register sharing the file's names (born earlier, so no row is flagged): the look-ups
    # by name find candidates and score them
    _queries(officer, site, _csv(60, seed=1, first_year=1950, prefix="OLD"))
    small = _queries(officer, site, _csv(50, seed=2, first_year=1975, prefix="A"))
    large = _queries(officer, site, _csv(500, seed=3, first_year=1980, prefix="B"))
    # ten times the rows, a handful more statements at most, not one per row: the check
    # counts the register's persons for the file's distinct names 450 names to a statement;
    # the write signs a checkpoint every 500 entries of the audit stream
    assert large[0] - small[0] <= 6, (small, large)
    assert large[1] - small[1] <= 4, (small, large)
    assert Person.objects.count() == 610
    assert ledger_verify().ok


def _stored(model, pk) -> tuple:
    """The row as the database holds it (no ORM conversion on the way out)."""
    qn = connection.ops.quote_name
    columns = [f.column for f in model._meta.concrete_fields
               if f.get_internal_type() not in ("AutoField", "BigAutoField")]
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(qn(c) for c in columns)} "  # noqa: S608
                    f"FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s",
                    [model._meta.pk.get_db_prep_value(pk, connection)])
        return cur.fetchone()


def test_rows_written_by_the_fast_path_are_stored_as_the_orm_stores_them(users, sites):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    now = timezone.now()
    values = {"site": site, "current_site": site, "short_code": "RHM-09999-X",
              "content_hash": "c" * 64, "arrived_at": now - dt.timedelta(hours=1),
              "given_ar": "محمد", "family_lat": "O'Neil", "birth_year": 1990,
              "languages": ["ar", "en"], "vulnerabilities": [], "status_changed_at": now,
              "icrc_withheld": True, "icrc_withheld_reason": "asked by the family",
              "completeness": 40,
              "notes": 'quotes " \\ and \t tab\nnewline', "registered_by": officer,
              "created_at": now, "updated_at": now}
    by_orm = Person(id=uuid7(), client_key=uuid.uuid4(), **values)
    by_orm.save(force_insert=True)
    fast = Person(id=uuid7(), client_key=uuid.uuid4(), **values)
    fast.short_code = "RHM-09998-Y"
    fast_insert(Person, [fast])
    orm_row, fast_row = _stored(Person, by_orm.pk), _stored(Person, fast.pk)
    differ = {f.attname for f, a, b in zip(
        Person._meta.concrete_fields, orm_row, fast_row, strict=True) if a != b}
    # the ORM stamps its own time on save (auto_now); the other times were given and are
    # stored alike (arrived_at, status_changed_at), as are UUIDs, JSON, booleans and text
    # sealed columns differ by their random nonces: both hold ciphertext of the same values
    sealed = {f.attname for f in Person._meta.concrete_fields if getattr(f, "encrypted", False)}
    assert {"vulnerabilities", "icrc_withheld_reason"} <= sealed
    assert differ - sealed == {"id", "client_key", "short_code", "created_at", "updated_at"}
    stored_fast = Person.objects.get(pk=fast.pk)
    assert (stored_fast.vulnerabilities, stored_fast.icrc_withheld_reason) == (
        [], "asked by the family")
    event = {"person_id": by_orm.pk, "from_status": "", "to_status": "arrived", "at": now,
             "actor_id": officer.pk, "site_id": site.pk, "ledger_seq": 7,
             "details": {"camp": "NUR", "n": 2, "list": [1, "x"]}, "note": "ملاحظة"}
    LifecycleEvent.objects.create(id=uuid7(), **event)
    orm_event = LifecycleEvent.objects.get()
    fast_event = row_dict(LifecycleEvent, {**event, "id": uuid7()})
    fast_insert(LifecycleEvent, [fast_event])
    # the note is sealed (a fresh nonce each time): both paths store a ciphertext of it
    note_at = [f.name for f in LifecycleEvent._meta.concrete_fields].index("note")
    orm_stored = list(_stored(LifecycleEvent, orm_event.pk))
    fast_stored = list(_stored(LifecycleEvent, fast_event["id"]))
    assert orm_stored[note_at].startswith("gcm1:") and fast_stored[note_at].startswith("gcm1:")
    assert LifecycleEvent.objects.get(pk=fast_event["id"]).note == "ملاحظة"
    del orm_stored[note_at], fast_stored[note_at]
    assert orm_stored[1:] == fast_stored[1:]


def test_persons_written_in_a_batch_are_saved_instances_equal_to_the_stored_rows(users, sites):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    result = _check(officer, site, _csv(3, seed=4, first_year=1990, prefix="C"))
    written = services.persons_register(actor=officer, site=site, people=result.people)
    fields = [f.attname for f in Person._meta.concrete_fields]
    for person in written:
        assert not person._state.adding and person._state.db == "default"
        stored = Person.objects.get(pk=person.pk)
        assert [getattr(person, f) for f in fields] == [getattr(stored, f) for f in fields]
    with CaptureQueriesContext(connection) as reads:
        assert written[0].site == site and written[0].current_site == site
        assert written[0].registered_by == officer and written[0].group is None
    assert len(reads) == 0
    keys = set(PersonNameKey.objects.filter(person=written[0]).values_list("part", "key"))
    names = Person.objects.values(*services.NAME_FIELDS).get(pk=written[0].pk)
    assert keys == set(services.person_name_keys(names, []))
    assert any(part == "given" for part, _key in keys)


def test_an_import_returns_the_persons_it_wrote_in_file_order(users, sites):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    result = _check(officer, site, _csv(5, seed=7, first_year=1990, prefix="F"))
    written = imports.import_commit(user=officer, site=site, result=result)
    assert len(written) == 5
    assert [p.service_number for p in written] == [f"F{i:05d}" for i in range(5)]
    assert written[1].service_number == "F00001"
    assert [p.pk for p in written[3:]] == written.ids[3:]
    assert [p.client_key for p in written] == [c.client_key for c in result.people]


def test_a_failure_half_way_through_the_write_leaves_nothing(users, sites, monkeypatch):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    result = _check(officer, site, _csv(6, seed=5, first_year=1990, prefix="D"))
    # the fourth row's client key is taken meanwhile: the second chunk of three is refused
    # after the first was written
    services.persons_register(actor=officer, site=site, people=[result.people[3]])
    entries = LedgerEntry.objects.count()
    monkeypatch.setattr(imports, "CHUNK", 3)
    with pytest.raises(Conflict):
        imports.import_commit(user=officer, site=site, result=result)
    assert Person.objects.count() == 1 and LedgerEntry.objects.count() == entries
    assert ledger_verify().ok


def test_the_ledger_verifies_after_an_import_from_the_command_line(users, sites, tmp_path):
    path = tmp_path / "gate.csv"
    path.write_bytes(_csv(30, seed=6, first_year=1990, prefix="E"))
    call_command("import", "persons", str(path), user="reception_officer", site="RHM")
    assert Person.objects.count() == 30
    out = io.StringIO()
    call_command("verify", stdout=out)
    assert "ledger verified" in out.getvalue()
