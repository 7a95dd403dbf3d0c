"""Canonical JSON and the batch append: ``canonical_payload`` writes exactly what the RFC 8785
reference writes, and ``ledger_append_many`` builds the chain ``ledger_append`` builds (it is
the same writer: a single append is a batch of one)."""

import datetime as dt
import decimal
import enum
import hashlib
import json
import uuid

import pytest
import rfc8785
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from mawa.core.ledger import (
    GENESIS,
    LedgerItem,
    canonical_payload,
    ledger_append,
    ledger_append_many,
    ledger_verify,
)
from mawa.core.models import LedgerEntry, LedgerHead
from mawa.reception.models import Category, Status


class _Mixin(str, enum.Enum):  # noqa: UP042 — deliberately not a StrEnum
    """An enum with a str mix-in that is not a Django choice: its ``str`` is "_Mixin.A", its
    text (what RFC 8785 writes) "a"."""

    A = "a"
    B = "b"


def _reference_value(value):
    """The ledger's documented conversions, written out independently: UUIDs, decimals,
    dates and times as strings, floats as their exact ``repr``, sets as arrays sorted by
    their text, models as their key, str subclasses as their text."""
    if isinstance(value, dict):
        return {str(k): _reference_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_reference_value(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [_reference_value(v) for v in value]
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def reference(payload) -> str:
    return rfc8785.dumps(_reference_value(payload)).decode("utf-8")


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
def test_canonical_json_is_the_rfc8785_reference(payload):
    assert _outcome(canonical_payload, payload) == _outcome(reference, payload)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_canonical_json_is_the_rfc8785_reference_on_any_json(payload):
    assert _outcome(canonical_payload, payload) == _outcome(reference, payload)




def _envelope_hash(prev: str, row) -> str:
    envelope = {"stream": row.stream, "seq": row.seq, "ts": row.ts, "actor": row.actor,
                "site": row.site, "kind": row.kind, "payload": json.loads(row.payload)}
    return hashlib.sha256(prev.encode() + rfc8785.dumps(envelope)).hexdigest()


@pytest.mark.django_db
def test_a_batch_chains_each_stream_as_single_appends_do():
    first = ledger_append(stream="s/a", kind="t.one", payload={"n": 0}, actor="system:test",
                          site="RHM")
    rows = ledger_append_many([
        LedgerItem("s/a", "t.many", {"n": 1}, "system:test", "RHM"),
        LedgerItem("s/b", "t.many", {"n": 2, "who": uuid.UUID(int=7)}, "system:test", "RHM"),
        LedgerItem("s/a", "t.many", {"n": 3}, "system:test", "RHM"),
    ])
    assert [(r.stream, r.seq) for r in rows] == [("s/a", 2), ("s/b", 1), ("s/a", 3)]
    assert rows[0].prev_hash == first.entry_hash and rows[2].prev_hash == rows[0].entry_hash
    assert rows[1].prev_hash == GENESIS
    # each entry is SHA-256 over its predecessor and the RFC 8785 envelope
    for r in rows:
        assert r.entry_hash == _envelope_hash(r.prev_hash, r)
    after = ledger_append(stream="s/b", kind="t.one", payload={"n": 4})
    assert (after.seq, after.prev_hash) == (2, rows[1].entry_hash)
    stored = LedgerEntry.objects.get(pk=after.pk)
    assert (stored.stream, stored.seq, stored.entry_hash) == ("s/b", 2, after.entry_hash)
    assert dict(LedgerHead.objects.values_list("stream", "seq")) == {"s/a": 3, "s/b": 2}
    assert ledger_verify().ok


@pytest.mark.django_db
def test_a_batch_costs_a_fixed_number_of_statements():
    ledger_append(stream="audit", kind="t", payload={})

    def count(n: int) -> int:
        items = [LedgerItem(f"p/{n}/{i}", "t", {"i": i}) for i in range(n)]
        items += [LedgerItem("audit", "t", {"i": i}) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            ledger_append_many(items)
        return len(ctx.captured_queries)

    assert count(3) == count(300)
    assert ledger_verify().ok


@pytest.mark.django_db
def test_a_stream_created_meanwhile_is_chained_onto(monkeypatch):
    """Two transactions append the first entries of a stream at once (PostgreSQL): the one
    whose head insert loses chains its entries onto the head the other wrote. Simulated by
    hiding the existing head from the first look-up."""
    from mawa.core import ledger

    ours = ledger_append(stream="race", kind="t", payload={"n": 1})
    real = ledger._heads_lock
    calls = []

    def late(streams):
        calls.append(list(streams))
        return {} if len(calls) == 1 else real(streams)

    monkeypatch.setattr(ledger, "_heads_lock", late)
    rows = ledger_append_many([LedgerItem("race", "t", {"n": 2}),
                               LedgerItem("fresh", "t", {"n": 3})])
    assert [(r.stream, r.seq) for r in rows] == [("race", 2), ("fresh", 1)]
    assert rows[0].prev_hash == ours.entry_hash
    assert dict(LedgerHead.objects.values_list("stream", "seq")) == {"race": 2, "fresh": 1}
    assert ledger_verify().ok
