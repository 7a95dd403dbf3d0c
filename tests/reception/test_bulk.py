"""Bulk writes make exactly what the one-at-a-time services make: the same canonical JSON, the
same content hash, and persons the matching index knows (suggested and screened)."""

import datetime as dt
import decimal
import enum
import uuid

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from mawa.accounts.roles import Role
from mawa.core.ledger import canonical_payload, ledger_verify
from mawa.reception import bulk, imports, services
from mawa.reception.models import Category, Status
from mawa.reception.services import DocumentInput, PersonInput


class _Mixin(str, enum.Enum):  # noqa: UP042 — deliberately not a StrEnum
    """An enum with a str mix-in that is not a Django choice: its ``str`` is "_Mixin.A", its
    text (what RFC 8785 writes) "a"."""

    A = "a"
    B = "b"


TRICKY = [
    {},
    {"a": "", "b": [], "c": {}},
    {"name": "محمد عبد الله", "latin": "Muḥammad ʿAbd Allāh"},
    {"emoji": "🙂 𝔘 beyond the BMP", "zwj": "\u200d\u200c", "bidi": "\u202e\u2066x\u2069"},
    {"controls": "".join(chr(c) for c in range(0, 32)) + "\x7f"},
    {"quotes": 'he said "yes" \\ no /', "separators": "\u2028\u2029"},
    {"z": 1, "a": 2, "M": 3, "_": 4, "0": 5, "aa": 6, "a_": 7},
    {"nested": {"b": [1, {"d": None, "c": True}], "a": False}},
    {"ints": [0, -1, 2**53 - 1, -(2**53 - 1)]},
    {"big": 2**53, "negative big": -(2**60)},
    {"float": 1.5, "tiny": 1e-7, "huge": 1e21},
    {"uuid": uuid.UUID("0190f3a4-7b5c-7def-8123-456789abcdef"), "date": dt.date(1990, 3, 15),
     "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "amount": decimal.Decimal("1.10")},
    {"set": {"b", "a", "c"}, "tuple": ("x", 1)},
    {"ключ": "non-ASCII key", "مفتاح": 1, "é": 2},
    {"🙂": "a key beyond the BMP", "\uffff": "a key at the end of the BMP"},
    {"status": Status.ARRIVED, "category": Category.CHILD, "keys": {1: "int key"}},
    {"lazy": gettext_lazy("Persons"), "time": dt.time(8, 30)},
    {"in lists": [Status.ARRIVED, ("x", Category.CHILD)], "mixin": _Mixin.A, "n": [_Mixin.B]},
]


def _outcome(fn, payload):
    """The text, or the type of the refusal (integers beyond 2**53 are not JSON numbers)."""
    try:
        return fn(payload)
    except Exception as exc:  # noqa: BLE001 — compared, not hidden
        return type(exc)


@pytest.mark.parametrize("payload", TRICKY, ids=range(len(TRICKY)))
def test_fast_canonical_json_equals_the_ledgers(payload):
    assert _outcome(bulk.canonical_fast, payload) == _outcome(canonical_payload, payload)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_fast_canonical_json_equals_the_ledgers_on_any_json(payload):
    assert _outcome(bulk.canonical_fast, payload) == _outcome(canonical_payload, payload)


def _cleaned(arrived):
    data = PersonInput(
        values={"given_ar": "محمد", "given_lat": "Mohammed", "father_ar": "أحمد",
                "family_ar": "الحلبي", "sex": "male", "nationality": "sy",
                "languages": "ar, en", "vulnerabilities": ["wounded"],
                "service_number": "a-١٢٣", "notes": 'He said "عندي" \\ \u2028'},
        birth="١٩٩٠-٠٣", aliases=[("أبو أحمد", "Abu Ahmad")],
        documents=[DocumentInput(kind="passport", number="N ٤٥٦", issuer="SY",
                                 expiry=dt.date(2030, 1, 31))])
    return services.person_input_clean(data, arrived_at=arrived)


def test_bulk_content_hash_equals_the_services(sites, users):
    arrived = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    values, aliases, documents, hashes = _cleaned(arrived)
    group_id = uuid.UUID("0190f3a4-7b5c-7def-8123-456789abcdef")
    for gid in (None, group_id):
        assert bulk.content_hash(values, aliases, documents, hashes, gid, sites["RHM"]) == \
            services.person_content_hash(values, aliases, documents, hashes, gid, sites["RHM"])


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
    assert record["national_id"] == "NID77"
    assert ledger_verify().ok


def test_bulk_index_counts_equal_a_rebuild(users, sites):
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


def test_imported_persons_are_screened_against_active_watch_lists(users, sites):
    from mawa.matching.models import MatchPair, PairKind
    from mawa.matching.services import watchlist_import

    watchlist_import(
        actor=users[Role.INVESTIGATOR], source="Test list", version="1", licence="CC0",
        content=b'{"id": "wl-1", "schema": "Person", "properties": {"firstName": '
                b'["Mohamad"], "fatherName": ["Khalid"], "lastName": ["Al Homsi"], '
                b'"birthDate": ["1988"], "gender": ["male"]}}\n')
    written = _import(users, sites)
    hits = MatchPair.objects.filter(kind=PairKind.WATCHLIST)
    assert [h.person_a_id for h in hits] == [written[0].pk]


_FILLED = st.sampled_from(["", "x", None, 0, 1990, [], ["ar"]])


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({n: _FILLED for names, _w in services._COMPLETENESS
                              for n in names}))
def test_bulk_completeness_equals_the_services(values):
    from types import SimpleNamespace

    assert bulk._completeness(values, services._COMPLETENESS) == \
        services.person_completeness(SimpleNamespace(**values))
