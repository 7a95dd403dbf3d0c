"""The cost of saving one registration in queries: a fixed number, whatever the names,
aliases and candidates, and the index written without reading back what was just saved."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mawa.core.models import LedgerEntry
from mawa.matching import engine
from mawa.matching.models import IndexedPerson, IndexKey, MatchPair, NameCount, PairKind
from mawa.matching.services import _person_record
from mawa.reception import services
from mawa.reception.models import LifecycleEvent, PersonNameKey
from mawa.reception.services import DocumentInput, PersonInput
from mawa.reception.values import document_lookup

pytestmark = pytest.mark.django_db

# A registration at a site whose officer is already known, with a likely duplicate queued:
# the look-up of the client key (1), the short code (5), the person (1), name keys (1), the
# index entry, its keys and name counts (3), the duplicate search and its pair (5), the
# watch-list screening (1), one ledger batch for the person's stream and the audit (6: its
# savepoint, the heads locked, the new head, the moved head, the entries), the lifecycle
# event (1), the change captured for field operations (10: its savepoint, this node's code,
# its ledger batch on stream changes/<NODE>, the change and the record's head), and the
# transaction (2). The registration is a batch of one through the import's writer: one
# statement per table. Raise it only for a new kind of record the save must write, never for
# a read that could be avoided.
SAVE_QUERIES = 36


def _save(officer, site, **values):
    base = {"given_ar": "محمد", "father_ar": "خالد", "grandfather_ar": "حسن",
            "family_ar": "الحمصي", "sex": "male"}
    aliases = values.pop("aliases", [])
    documents = values.pop("documents", [])
    return services.person_register(
        actor=officer, site=site, client_key=uuid.uuid4(),
        data=PersonInput(values={**base, **values}, birth="1988-04-12", aliases=aliases,
                         documents=documents))


def test_a_registration_costs_a_fixed_number_of_queries(officer, sites):
    _save(officer, sites["RHM"], service_number="SY-1")  # the site's counters and streams
    with CaptureQueriesContext(connection) as ctx:
        person, created = _save(officer, sites["RHM"], given_lat="Muhammad")
    assert created
    # the same man twice: the duplicate was searched for, found and queued in this save
    assert MatchPair.objects.filter(kind=PairKind.DUPLICATE, person_b=person).exists() or \
        MatchPair.objects.filter(kind=PairKind.DUPLICATE, person_a=person).exists()
    assert len(ctx.captured_queries) <= SAVE_QUERIES, "\n".join(
        q["sql"][:120] for q in ctx.captured_queries)


def test_aliases_and_name_keys_do_not_add_queries(officer, sites):
    _save(officer, sites["RHM"], family_ar="الحلبي")

    def count(**values) -> tuple[int, object]:
        with CaptureQueriesContext(connection) as ctx:
            person, _created = _save(officer, sites["RHM"], **values)
        return len(ctx.captured_queries), person

    # names sharing no blocking key with anyone: neither save finds a candidate to score
    one, a = count(given_ar="يوسف", father_ar="عمر", grandfather_ar="سعيد",
                   family_ar="الخطيب", aliases=[("أبو علي", "")])
    many, b = count(given_ar="سامر", father_ar="وائل", grandfather_ar="نبيل",
                    family_ar="الزعبي", given_lat="Samer", father_lat="Wael",
                    mother_given_ar="فاطمة", kunya_ar="أبو خالد",
                    aliases=[("أبو علي", "Abu Ali"), ("الأسد", ""), ("", "The Lion"),
                             ("أبو سامر", "Abu Samer")])
    assert not MatchPair.objects.exists()
    assert PersonNameKey.objects.filter(person=b).count() > \
        PersonNameKey.objects.filter(person=a).count()
    assert IndexKey.objects.filter(person_id=b.pk).count() > \
        IndexKey.objects.filter(person_id=a.pk).count()
    assert many == one


def test_the_index_entry_equals_the_one_read_from_the_register(officer, sites):
    """The save hands the index what it just wrote (aliases, the first national ID) instead
    of reading it back: the entry must be exactly the one a correction would compute."""
    person, _created = _save(
        officer, sites["RHM"], given_lat="Muhammad",
        aliases=[("أبو علي", "Abu Ali"), ("", "The Lion")],
        documents=[DocumentInput(kind="passport", number="P-778"),
                   DocumentInput(kind="national_id", number="01-234 567"),
                   DocumentInput(kind="national_id", number="99 000")])
    entry = IndexedPerson.objects.get(person=person)
    record = _person_record(person)  # read from the database
    assert record.national_id == document_lookup("01234567")  # keyed hash
    assert record.aliases[1:] == ("أبو علي", "Abu Ali", "The Lion")
    assert entry.record == engine.record_to_json(record)
    assert entry.name_counts == engine.name_counts(engine.prepare(record))


def test_the_save_still_writes_everything_it_wrote(officer, sites):
    first, _ = _save(officer, sites["RHM"])
    given_before = NameCount.objects.get(pool="given", key="").count
    person, _ = _save(officer, sites["RHM"], given_lat="Muhammad")
    kinds = set(LedgerEntry.objects.filter(stream=f"person/{person.pk}")
                .values_list("kind", flat=True))
    assert kinds == {"person.registered"}
    assert LedgerEntry.objects.filter(stream="audit", kind="audit.create",
                                      payload__contains=str(person.pk)).exists()
    assert LifecycleEvent.objects.filter(person=person, to_status="arrived").count() == 1
    assert PersonNameKey.objects.filter(person=person).exists()
    assert IndexKey.objects.filter(person_id=person.pk).exists()
    # given, father and grandfather each counted once more; the name itself twice now
    assert NameCount.objects.get(pool="given", key="").count == given_before + 3
    assert NameCount.objects.get(pool="given", key="muhammad").count == 2
    assert MatchPair.objects.filter(person_a__in=[first, person],
                                    person_b__in=[first, person]).count() == 1
