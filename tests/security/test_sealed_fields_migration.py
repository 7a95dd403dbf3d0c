"""Issue 20, item 2: existing rows are sealed by the migrations (reception 0005, camp 0003,
matching 0004), the document number keys become keyed hashes, and the reception and camp
migrations go back to the clear values; rotating a field key re-seals every sealed column."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from mawa.accounts.roles import Role

BEFORE = [("reception", "0004_namekeys_from_mawa_names"),
          ("camp", "0002_assignment_open_site_shelter"),
          ("matching", "0003_indexkey_no_person_index")]
AFTER = [("reception", "0005_sensitive_fields_encrypted"), ("camp", "0003_notes_encrypted"),
         ("matching", "0004_national_ids_hashed")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _raw(table: str, column: str, pk) -> str:
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT CAST({qn(column)} AS TEXT) FROM {qn(table)} "  # noqa: S608
                    "WHERE id = %s", [pk.hex if isinstance(pk, uuid.UUID) and
                                      connection.vendor == "sqlite" else pk])
        return cur.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_existing_rows_are_sealed_and_unsealed_again(users, sites):
    from mawa.core.fields import columns_convert  # noqa: F401  (the helper the migrations use)
    from mawa.reception.values import document_key, document_lookup

    officer = users[Role.RECEPTION_OFFICER]
    old = _migrate(BEFORE)
    Person = old.get_model("reception", "Person")
    Document = old.get_model("reception", "IdentityDocument")
    Incident = old.get_model("camp", "Incident")
    Indexed = old.get_model("matching", "IndexedPerson")
    IndexKey = old.get_model("matching", "IndexKey")
    now = timezone.now()
    person = Person.objects.create(
        id=uuid.uuid4(), client_key=uuid.uuid4(), site_id=sites["RHM"].pk,
        current_site_id=sites["RHM"].pk, arrived_at=now, status_changed_at=now,
        short_code="RHM-00001-A", registered_by_id=officer.pk, content_hash="x",
        family_contact_phone="0771234567", vulnerability_notes="diabetic",
        vulnerabilities=["torture_survivor"])
    doc = Document.objects.create(id=uuid.uuid4(), person_id=person.pk, kind="national_id",
                                  number="ab-123 45", number_key="AB12345")
    incident = Incident.objects.create(site_id=sites["NUR"].pk, client_key=uuid.uuid4(),
                                       kind="sgbv", severity="high", occurred_at=now,
                                       summary="what was told", reported_by_id=officer.pk)
    Indexed.objects.create(person_id=person.pk, record={"national_id": "AB12345"})
    IndexKey.objects.create(person_id=person.pk, key="N|AB12345")

    new = _migrate(AFTER)
    assert _raw("reception_person", "family_contact_phone", person.pk).startswith("gcm1:")
    assert _raw("reception_identitydocument", "number", doc.pk).startswith("gcm1:")
    assert _raw("camp_incident", "summary", incident.pk).startswith("gcm1:")
    p = new.get_model("reception", "Person").objects.get(pk=person.pk)
    assert (p.family_contact_phone, p.vulnerability_notes) == ("0771234567", "diabetic")
    assert p.vulnerabilities == ["torture_survivor"]
    assert _raw("reception_person", "vulnerabilities", person.pk).startswith("gcm1:")
    d = new.get_model("reception", "IdentityDocument").objects.get(pk=doc.pk)
    assert d.number == "ab-123 45" and d.number_key == document_lookup("ab-123 45")
    assert new.get_model("camp", "Incident").objects.get(pk=incident.pk).summary == \
        "what was told"
    hashed = document_lookup("AB12345")
    assert new.get_model("matching", "IndexedPerson").objects.get(
        pk=person.pk).record["national_id"] == hashed
    assert list(new.get_model("matching", "IndexKey").objects.filter(
        person_id=person.pk).values_list("key", flat=True)) == ["N|" + hashed.upper()]

    _migrate(AFTER)  # a second run changes nothing (sealed values are left)
    assert new.get_model("reception", "Person").objects.get(
        pk=person.pk).family_contact_phone == "0771234567"

    _migrate(BEFORE)
    assert _raw("reception_person", "family_contact_phone", person.pk) == "0771234567"
    assert old.get_model("reception", "Person").objects.get(
        pk=person.pk).vulnerabilities == ["torture_survivor"]
    assert _raw("reception_identitydocument", "number", doc.pk) == "ab-123 45"
    assert _raw("reception_identitydocument", "number_key", doc.pk) == document_key("ab-123 45")
    assert _raw("camp_incident", "summary", incident.pk) == "what was told"
    _migrate(AFTER)


@pytest.mark.django_db
def test_rotating_the_reception_field_key_reseals_every_column(users, sites, settings,
                                                              tmp_path):
    from mawa.core.keyrotation import ENCRYPTED_FIELDS, field_key_rotate
    from mawa.reception.models import IdentityDocument, Person, PersonRevision
    from mawa.reception.services import DocumentInput, PersonInput, person_register, person_update

    settings.KEY_DIR = tmp_path
    registered = {(m._meta.label, f) for m, f, _c in ENCRYPTED_FIELDS["reception"]}
    assert {("reception.Person", "family_contact_phone"), ("reception.IdentityDocument", "number"),
            ("reception.LifecycleEvent", "note"), ("reception.PersonRevision", "prior")} \
        <= registered
    assert ("camp.Incident", "summary") in {(m._meta.label, f) for m, f, _c
                                            in ENCRYPTED_FIELDS["camp"]}
    officer = users[Role.RECEPTION_OFFICER]
    person, _ = person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "نبيل", "family_contact_phone": "0771234567"},
                         documents=[DocumentInput(kind="passport", number="P-998877")]))
    person_update(actor=officer, person=person, version=person.version,
                  changes={"family_contact_phone": "0660000000"})
    doc = IdentityDocument.objects.get(person=person)
    before = _raw("reception_identitydocument", "number", doc.pk)
    key_before = doc.number_key
    assert field_key_rotate(purpose="reception") >= 3
    assert _raw("reception_identitydocument", "number", doc.pk) != before
    assert list(tmp_path.glob("reception.fieldkey.retired-*"))
    doc.refresh_from_db()
    assert doc.number == "P-998877" and doc.number_key == key_before  # look-ups unchanged
    assert Person.objects.get(pk=person.pk).family_contact_phone == "0660000000"
    assert PersonRevision.objects.get(person=person).prior == {
        "family_contact_phone": "0771234567"}
    assert field_key_rotate(purpose="reception") >= 3  # and again: the retired key is not needed
