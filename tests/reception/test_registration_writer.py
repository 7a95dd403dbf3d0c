"""One registration writer: a person registered at the gate and a row of an import are
written by the same code (``services.persons_register``; ``person_register`` is a batch of
one), so their rows and ledger entries have one shape, and imported persons are known to
the matching index (suggested and screened) like registered ones."""

import json
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.core import jobs
from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry
from mawa.reception import imports, services
from mawa.reception.models import IdentityDocument, LifecycleEvent, Person, PersonAlias
from mawa.reception.services import DocumentInput, PersonInput
from mawa.reception.values import document_lookup

CSV = ("given_ar,given_lat,father_ar,family_ar,sex,birth,service_number,document_kind,"
       "document_number\n"
       "محمد,Mohammed,خالد,الحمصي,male,1988-04-12,SY-1,national_id,NID-77\n"
       "علي,Ali,حسن,العبيدي,male,1985,SY-2,,\n")


def _import(users, sites, data=CSV):
    officer = users[Role.RECEPTION_OFFICER]
    result = imports.import_check(user=officer, site=sites["RHM"],
                                  table=imports.table_read(data.encode(), "f.csv"))
    assert result.ok, result.problems
    return imports.import_commit(user=officer, site=sites["RHM"], result=result)


def test_imported_persons_are_suggested_while_typing(users, sites):
    from mawa.matching.models import IndexedPerson, IndexKey
    from mawa.matching.selectors import candidates_for

    written = _import(users, sites)
    assert IndexedPerson.objects.count() == 2 and IndexKey.objects.exists()
    found = candidates_for(user=users[Role.RECEPTION_OFFICER],
                           data={"given_lat": "Muhammad", "father_lat": "Khaled",
                                 "family_lat": "al-Homsi", "birth": "1988"})
    assert found and found[0].person.pk == written[0].pk
    record = IndexedPerson.objects.get(person=written[0]).record
    assert record["national_id"] == document_lookup("NID77")  # keyed hash, not in clear
    assert ledger_verify().ok


def test_imported_index_counts_equal_a_rebuild(users, sites):
    from mawa.matching.models import IndexedPerson, IndexKey, NameCount
    from mawa.matching.services import registry_index_rebuild

    _import(users, sites)

    def state():
        return (sorted(IndexKey.objects.values_list("person_id", "key")),
                sorted(NameCount.objects.values_list("pool", "key", "count")),
                sorted(IndexedPerson.objects.values_list("person_id", "active")))

    before = state()
    registry_index_rebuild()
    assert state() == before


@pytest.mark.django_db(transaction=True)  # the real worker loop runs
def test_imported_persons_are_screened_against_active_watch_lists(users, sites):
    from mawa.matching.models import MatchPair, PairKind
    from mawa.matching.services import watchlist_import

    watchlist_import(
        actor=users[Role.INVESTIGATOR], source="Test list", version="1", licence="CC0",
        content=b'{"id": "wl-1", "schema": "Person", "properties": {"firstName": '
                b'["Mohamad"], "fatherName": ["Khalid"], "lastName": ["Al Homsi"], '
                b'"birthDate": ["1988"], "gender": ["male"]}}\n')
    written = _import(users, sites)
    jobs.jobs_work(batch=True, worker_id="test-worker")  # the worker screens them
    hits = MatchPair.objects.filter(kind=PairKind.WATCHLIST)
    assert [h.person_a_id for h in hits] == [written[0].pk]


def _shape(person: Person) -> dict:
    """What the writer stored for ``person``, reduced to its shape: which columns are filled,
    the history row, the ledger entries' kinds and payload keys."""
    row = {f.attname: getattr(person, f.attname) not in (None, "", [], {})
           for f in Person._meta.concrete_fields}
    event = LifecycleEvent.objects.get(person=person)
    own = LedgerEntry.objects.get(stream=f"person/{person.pk}")
    audit = LedgerEntry.objects.get(stream="audit", kind="audit.create",
                                    payload__contains=str(person.pk))
    return {"row": row,
            "event": (event.from_status, event.to_status, event.ledger_seq == own.seq),
            "own": (own.kind, sorted(json.loads(own.payload))),
            "audit": sorted(json.loads(audit.payload)),
            "aliases": PersonAlias.objects.filter(person=person).count(),
            "documents": sorted(IdentityDocument.objects.filter(person=person)
                                .values_list("kind", flat=True)),
            "name_keys": sorted(person.name_keys.values_list("part", flat=True).distinct())}


def test_a_registration_and_an_imported_row_are_written_alike(users, sites):
    officer, site = users[Role.RECEPTION_OFFICER], sites["RHM"]
    data = PersonInput(
        values={"given_ar": "محمد", "given_lat": "Mohammed", "father_ar": "خالد",
                "family_ar": "الحمصي", "sex": "male", "service_number": "SY-1"},
        birth="1988-04-12", documents=[DocumentInput(kind="national_id", number="NID-77")])
    single, created = services.person_register(actor=officer, site=site,
                                                client_key=uuid.uuid4(), data=data)
    assert created
    (imported,) = _import(users, sites, data=(
        "given_ar,given_lat,father_ar,family_ar,sex,birth,service_number,document_kind,"
        "document_number\n"
        "علي,Ali,حسن,العبيدي,male,1975-02-03,SY-2,national_id,NID-78\n"))
    stored_single, stored_imported = (Person.objects.get(pk=p.pk) for p in (single, imported))
    assert _shape(stored_single) == _shape(stored_imported)
    assert IdentityDocument.objects.get(person=single).number_key == document_lookup("NID77")
    # the instance a registration returns is the row as stored
    fields = [f.attname for f in Person._meta.concrete_fields]
    assert [getattr(single, f) for f in fields] == [getattr(stored_single, f) for f in fields]
    assert ledger_verify().ok
