"""Writes of many persons at once, for imports, the demo scenario and benchmarks.

These functions make exactly the records the one-at-a-time services make —
``services.person_register`` and ``services.person_transition``: the person row, its aliases,
documents and name keys, the ``LifecycleEvent`` history row, the ``person/<id>`` ledger entry
and the audit entry — but with one statement per table and batch instead of ~15 queries per
person (``insert_rows``: COPY on PostgreSQL, ``executemany`` on SQLite), so that 100,000 rows
from a gate's offline collection load in about a minute rather than an hour. The number of
statements does not grow with the number of persons (``tests/reception/test_import_scale``).

The rules stay in ``services`` (``person_input_clean`` checks every value; ``lifecycle``
says which moves exist and what each requires): this module only changes how the rows reach
the database.
Everything runs inside the caller's transaction: a failure leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import operator
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.core import context
from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.ids import short_code_make, uuid7
from mawa.core.ledger import (
    GENESIS,
    _actor_id,
    _FastHasher,
    _now,
    _site_code,
    canonical_payload,
    checkpoint_sign,
)
from mawa.core.models import LedgerEntry, LedgerHead, ShortCodeCounter, Site, SiteKind
from mawa.names import search_keys as name_keys
from mawa.reception import lifecycle
from mawa.reception.models import (
    ArrivalGroup,
    IdentityDocument,
    LifecycleEvent,
    Person,
    PersonAlias,
    PersonNameKey,
    Status,
)

BATCH = 2000


# Field types whose Python values the drivers take as they are (the values come from
# ``services.person_input_clean`` and the services' own code, already of the right type).
_PLAIN = frozenset({"CharField", "TextField", "PositiveIntegerField",
                    "PositiveSmallIntegerField", "PositiveBigIntegerField", "IntegerField",
                    "BooleanField", "BigIntegerField"})


def _file_name(v):
    return str(v or "")


def _converter(field):
    """A function turning a Python value of ``field`` into what the database driver takes, or
    ``None`` when the value passes as it is (strings, integers, booleans; UUIDs and foreign
    keys to them on PostgreSQL). JSON becomes its text exactly as Django's
    ``adapt_json_value`` writes it on SQLite (on PostgreSQL the text goes to a ``jsonb``
    column through COPY, which parses it); the rest goes through Django's own
    ``get_db_prep_save`` (dates, times), so the stored form is the ORM's."""
    internal = field.get_internal_type()
    if internal in _PLAIN:
        return None
    if internal == "FileField":
        return _file_name
    if internal == "JSONField":
        encoder = field.encoder

        def convert_json(v):
            # None is SQL NULL, as JSONField.get_db_prep_save makes it; empty lists and
            # objects (most languages, vulnerabilities, details) need no encoder
            if not v and (type(v) is list or type(v) is dict):
                return "[]" if type(v) is list else "{}"
            return None if v is None else json.dumps(v, cls=encoder)

        return convert_json
    target = field.target_field if field.is_relation else field
    if target.get_internal_type() == "UUIDField":
        if connection.vendor == "postgresql":
            return None
        # SQLite stores a UUID as its 32 hex digits (what get_db_prep_save returns), and a
        # million persons carry millions of them: skip the per-value dispatch
        last_uuid: list = [object(), None]

        def convert_uuid(v):
            # rows of one person follow each other (16 matching keys): convert once
            if v is not last_uuid[0]:
                last_uuid[0] = v
                last_uuid[1] = v.hex if type(v) is uuid.UUID else target.get_db_prep_save(
                    v, connection)
            return last_uuid[1]

        return convert_uuid
    last: list = [object(), None]

    def convert(v):
        # rows written together share their timestamps: convert a repeated value once
        if v is not last[0]:
            last[0], last[1] = v, target.get_db_prep_save(v, connection)
        return last[1]

    return convert


_COLUMNS: dict = {}


def _columns(model, attnames: tuple[str, ...]):
    """The quoted column list of ``attnames`` and a function converting a row of their values
    for the driver (``None`` when every value passes as it is); made once per model, columns
    and database."""
    key = (model, attnames, connection.vendor)
    found = _COLUMNS.get(key)
    if found is None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        qn = connection.ops.quote_name
        converters = [_converter(by_attname[a]) for a in attnames]
        found = _COLUMNS[key] = (", ".join(qn(by_attname[a].column) for a in attnames),
                                 _row_function(converters))
    return found


def _row_function(converters: list):
    """``lambda r: (c0(r[0]), r[1], c2(r[2]), …)`` for the converters given (``None``: the
    value as it is), or ``None`` when no value needs converting. Written out as one tuple
    expression: a loop over the columns would cost more than the conversions, once per row
    of millions."""
    if not any(converters):
        return None
    names = {f"c{i}": c for i, c in enumerate(converters) if c is not None}
    cells = ", ".join(f"c{i}(r[{i}])" if c is not None else f"r[{i}]"
                      for i, c in enumerate(converters))
    return eval(f"lambda r: ({cells},)", names)  # noqa: S307 — built from positions only


def _insertable(model) -> tuple[str, ...]:
    """Attnames of the columns an INSERT gives: auto-increment ids (ledger rows, name keys)
    are left to the database."""
    return tuple(f.attname for f in model._meta.concrete_fields
                 if f.get_internal_type() not in ("AutoField", "BigAutoField"))


def _as_statement(cur, sql: str, run):
    """Run ``run()`` as the statement ``sql`` through the connection's execute wrappers
    (``connection.execute_wrapper``), which Django applies to ``execute`` and
    ``executemany`` only, so that instrumentation sees a COPY like any other statement.
    (Django's debug cursor already logs a COPY: ``django_assert_num_queries`` counts it.)"""

    def executor(sql, params, many, context):
        return run()

    for wrapper in reversed(connection.execute_wrappers):
        executor = functools.partial(wrapper, executor)
    return executor(sql, None, True, {"connection": connection, "cursor": cur})


def insert_rows(model, attnames: list[str], rows, *, converted: bool = False,
                batch: int = 5000) -> int:
    """INSERT ``rows`` (sequences of values in the order of ``attnames``) into ``model``'s
    table in one statement per ``batch`` rows; returns how many were written.

    The values are converted for the driver here (``_converter``) unless ``converted`` says
    they already are. On PostgreSQL the rows go through ``COPY … FROM STDIN``: one statement
    for the whole iterable, no SQL parsed per row (``executemany`` runs an INSERT per row on
    the server). On SQLite through ``executemany``: a prepared statement run per row inside
    the library. Either way in the caller's transaction, constraints and triggers as for an
    INSERT. ``rows`` may be a generator: memory holds one batch at most."""
    cols, transform = _columns(model, tuple(attnames))
    if converted:
        transform = None
    table = connection.ops.quote_name(model._meta.db_table)
    n = 0

    def converted_rows():
        nonlocal n
        for r in rows:
            n += 1
            yield transform(r) if transform is not None else r

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({cols}) FROM STDIN"

            def copy_rows():
                # driver errors (a unique key taken meanwhile) as Django's, like execute's
                with connection.wrap_database_errors, cur.copy(sql) as copy:
                    write = copy.write_row
                    for r in converted_rows():
                        write(r)

            _as_statement(cur, sql, copy_rows)
        else:
            sql = (f"INSERT INTO {table} ({cols}) VALUES ("  # noqa: S608
                   + ", ".join(["%s"] * len(attnames)) + ")")
            chunk: list = []
            for r in converted_rows():
                chunk.append(r)
                if len(chunk) >= batch:
                    cur.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cur.executemany(sql, chunk)
    return n


def fast_insert(model, objs: list, *, batch: int = 5000) -> None:
    """INSERT model instances, plain rows (``row``) or dicts by attname, skipping the ORM's
    per-value compiler.

    ``bulk_create`` spends ~20 µs per value preparing SQL; at 100,000 persons × 60 columns that
    is two minutes of a 60-second import budget. Values are read straight from each object's
    ``__dict__``, converted once per field type, and written by ``insert_rows``. No signals,
    no ``save()``: as with ``bulk_create``, and as the house style wants (no rules in
    ``save()``)."""
    if not objs:
        return
    attnames = _insertable(model)
    auto_now = [f.attname for f in model._meta.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    if auto_now:
        now = timezone.now()
        for o in objs:
            for a in auto_now:
                if isinstance(o, dict):
                    if o.get(a) is None:
                        o[a] = now
                elif getattr(o, a) is None:
                    setattr(o, a, now)
    get = operator.itemgetter(*attnames) if len(attnames) > 1 else (
        lambda d: (d[attnames[0]],))

    def values(o):
        d = o if isinstance(o, dict) else o.__dict__
        try:
            return get(d)
        except KeyError:  # an attribute kept elsewhere than the instance's __dict__
            return tuple(d[a] if a in d else getattr(o, a) for a in attnames)

    insert_rows(model, attnames, (values(o) for o in objs), batch=batch)


@contextmanager
def sqlite_cache(mb: int = 64):
    """On SQLite, a page cache of ``mb`` MB while a large write runs, then the previous size.

    A 100,000-row import adds millions of index entries (name keys, matching keys) in one
    transaction; with SQLite's default 2 MB cache their B-tree pages are evicted and read
    back again and again (~40 % more CPU for the matching keys). The cache is a fixed bound,
    not a function of the file. Elsewhere this does nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = int(cur.fetchone()[0])
        cur.execute(f"PRAGMA cache_size = {-int(mb) * 1024}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {before}")


def executemany(sql: str, params: list) -> None:
    """One prepared statement run for many parameter rows (the driver's batch loop)."""
    if params:
        with connection.cursor() as cur:
            cur.executemany(sql, params)


_DEFAULTS: dict = {}


def _defaults(model) -> tuple[dict, list]:
    """The model's field defaults by attname: (constant ones, [(attname, callable)])."""
    found = _DEFAULTS.get(model)
    if found is None:
        constant, per_row = {}, []
        for f in model._meta.concrete_fields:
            if f.get_internal_type() in ("AutoField", "BigAutoField"):
                continue
            if f.has_default() and callable(f.default):
                per_row.append((f.attname, f.get_default))
            else:
                constant[f.attname] = f.get_default()
        found = _DEFAULTS[model] = (constant, per_row)
    return found


def row_dict(model, values: dict) -> dict:
    """A plain row for ``fast_insert`` as a dict: the model's field defaults, then ``values``
    (by attname, e.g. ``person_id``). Callable defaults (``list``, ``uuid7``) are called per
    row, only for the attributes ``values`` does not give."""
    constant, per_row = _defaults(model)
    out = {**constant, **values}
    for attname, make in per_row:
        if attname not in values:
            out[attname] = make()
    return out


def row(model, **values) -> SimpleNamespace:
    """A plain row for ``fast_insert``: the model's field defaults, then ``values`` (by
    attname, e.g. ``person_id``). Cheaper than a model instance when writing 100,000s."""
    return SimpleNamespace(**row_dict(model, values))


@dataclass
class LedgerItem:
    stream: str
    kind: str
    payload: dict
    actor: object = None
    site: object = None


def canonical_fast(payload: dict) -> str:
    """``ledger.canonical_payload`` for the payloads services write, ~20× faster.

    For JSON made of objects with ASCII keys, strings, integers, booleans and null (UUIDs and
    dates become strings as ``_jsonable`` makes them), RFC 8785 output is exactly
    ``json.dumps`` with sorted keys, no spaces and no ASCII escaping (the ledger's
    ``_envelope`` relies on the same fact). Anything else (floats, decimals, sets, models,
    non-ASCII keys, integers beyond 2**53) takes the reference implementation; tests compare
    the two on tricky and on generated payloads.
    """
    try:
        # most payloads (content hashes of imported rows, audit entries) need no converted
        # copy: json writes them as they are
        value = payload if _as_is(payload) else _plain_json(payload)
    except _NotPlain:
        return canonical_payload(payload)
    return _CANONICAL.encode(value)


# json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")), built once
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _NotPlain(Exception):
    pass


_SAFE_INT = 2**53


def _as_is(v) -> bool:
    """True when json writes ``v`` exactly as it writes ``_plain_json(v)``: strings (also
    text choices: json writes their text), integers within 2**53, booleans, null, objects
    with ASCII string keys and arrays of these. False when something needs converting first
    (UUIDs, dates); ``_NotPlain`` where ``_plain_json`` raises it."""
    t = type(v)
    if t is str or t is bool or v is None:
        return True
    if t is int:
        if -_SAFE_INT < v < _SAFE_INT:
            return True
        raise _NotPlain
    if t is dict:
        for k, x in v.items():
            if type(k) is not str or not k.isascii():
                raise _NotPlain
            tx = type(x)
            if not (tx is str or x is None or tx is bool
                    or (tx is int and -_SAFE_INT < x < _SAFE_INT) or _as_is(x)):
                return False
        return True
    if t is list or t is tuple:
        return all(type(x) is str or _as_is(x) for x in v)
    if t is uuid.UUID or t is dt.date or t is dt.datetime:
        return False
    if isinstance(v, str):  # text choices and other str subclasses: json writes their text
        return True
    raise _NotPlain


def _plain_json(v):
    """``ledger._jsonable(v)`` in one pass for the plain cases, or ``_NotPlain``."""
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is int:
        if -_SAFE_INT < v < _SAFE_INT:
            return v
        raise _NotPlain
    if t is dict:
        out = {}
        for k, x in v.items():
            if type(k) is not str or not k.isascii():
                raise _NotPlain
            tx = type(x)
            # the common leaves inline: one call per dict instead of one per value
            out[k] = x if (tx is str or x is None or tx is bool) else _plain_json(x)
        return out
    if t is list or t is tuple:
        return [x if type(x) is str else _plain_json(x) for x in v]
    if t is uuid.UUID:
        return str(v)
    if t is dt.date or t is dt.datetime:
        return v.isoformat()
    if isinstance(v, str):
        # text choices and other str subclasses: their text, as RFC 8785 (and json) write
        # it; not ``str(v)``, which for an enum with a str mix-in is "Class.MEMBER"
        return str.__str__(v)
    raise _NotPlain


class LedgerRow(NamedTuple):
    """A ledger entry as written (its columns, in the order of the INSERT)."""

    stream: str
    seq: int
    ts: str
    actor: str
    site: str
    kind: str
    payload: str
    prev_hash: str
    entry_hash: str


def ledger_append_many(items: list[LedgerItem]) -> list[LedgerRow]:
    """Append many entries, each to its stream, in the order given; returns the entries.

    The same chain ``ledger.ledger_append`` builds (same envelope, same hash, same checkpoint
    every ``MAWA_CHECKPOINT_EVERY`` entries), computed in Python and written with bulk INSERTs.
    The heads of the streams touched are row-locked first, so a concurrent single append waits
    and then chains onto what was written here.
    """
    if not items:
        return []
    with transaction.atomic():
        streams = sorted({i.stream for i in items})
        heads: dict[str, LedgerHead] = {}
        for start in range(0, len(streams), 900):
            chunk = streams[start:start + 900]
            for head in LedgerHead.objects.select_for_update().filter(stream__in=chunk):
                heads[head.stream] = head
        # plain rows for new heads (one per new person's stream): model instances would cost
        # more than the INSERT
        new_heads = {s: SimpleNamespace(stream=s, seq=0, head_hash=GENESIS)
                     for s in streams if s not in heads}
        state = {s: [h.seq, h.head_hash] for s, h in {**heads, **new_heads}.items()}
        rows, checkpoints = [], []
        every = getattr(settings, "MAWA_CHECKPOINT_EVERY", 0)
        # the verifier's hasher: the same bytes as ``entry_hash``, with the JSON quoting of
        # the few actors, sites and kinds done once
        hasher = _FastHasher()
        last_actor = last_site = object()
        for item in items:
            payload_text = canonical_fast(item.payload)
            if item.actor is not last_actor:  # items come in runs of one actor and site
                last_actor, actor_s = item.actor, _actor_id(item.actor)
            if item.site is not last_site:
                last_site, site_s = item.site, _site_code(item.site)
            stream = item.stream
            seq, prev = state[stream]
            seq += 1
            ts = _now()
            digest = hasher(prev, stream, seq, ts, actor_s, site_s, item.kind, payload_text)
            rows.append(LedgerRow(stream, seq, ts, actor_s, site_s, item.kind, payload_text,
                                  prev, digest))
            state[stream] = [seq, digest]
            if every and seq % every == 0:
                checkpoints.append((stream, seq, digest, site_s or None))
        insert_rows(LedgerEntry, LedgerRow._fields, rows, converted=True)
        for s, head in new_heads.items():
            head.seq, head.head_hash = state[s]
        insert_rows(LedgerHead, ("stream", "seq", "head_hash"),
                    ((h.stream, h.seq, h.head_hash) for h in new_heads.values()),
                    converted=True)
        if heads:
            # one prepared UPDATE run many times: Django's bulk_update builds a CASE per row,
            # which costs seconds for a few thousand streams
            table = connection.ops.quote_name(LedgerHead._meta.db_table)
            with connection.cursor() as cur:
                cur.executemany(f"UPDATE {table} SET seq = %s, head_hash = %s "  # noqa: S608
                                "WHERE stream = %s",
                                [(*state[s], s) for s in heads])
        for stream, seq, digest, site_code in checkpoints:
            checkpoint_sign(stream=stream, seq=seq, head_hash=digest, site_code=site_code)
    return rows


def audit_many(*, actor, action: str, model: str, object_ids: list, site=None,
               detail: dict | None = None) -> list[LedgerItem]:
    """Audit items (as ``core.audit.audit`` writes them) for many records: ids, never values."""
    ctx = context.current()
    out = []
    for oid in object_ids:
        payload = {"action": action, "model": model, "object_id": str(oid), "outcome": "ok",
                   "address": ctx.address, "channel": ctx.channel}
        if detail:
            payload["detail"] = detail
        out.append(LedgerItem("audit", f"audit.{action}", payload, actor,
                              site or ctx.site_code or None))
    return out


def short_codes_reserve(*, site: Site, count: int) -> list[str]:
    """Reserve ``count`` consecutive short codes of ``site`` under the counter's row lock
    (as ``core.services.short_code_next`` does one at a time)."""
    if count <= 0:
        return []
    with transaction.atomic():
        ShortCodeCounter.objects.bulk_create([ShortCodeCounter(site=site, last_number=0)],
                                             ignore_conflicts=True)
        ShortCodeCounter.objects.filter(site=site).update(last_number=F("last_number") + count)
        last = ShortCodeCounter.objects.select_for_update().get(site=site).last_number
    return [short_code_make(site.code, n) for n in range(last - count + 1, last + 1)]


NAME_PARTS = ("given", "father", "grandfather", "family", "mother_given", "mother_family",
              "kunya")


_NAME_ATTRS = tuple((part, f"{part}_ar", f"{part}_lat") for part in NAME_PARTS)


@lru_cache(maxsize=100_000)
def _keys80(value: str) -> tuple[str, ...]:
    # the same names come back row after row: normalised and cut to the column once each
    return tuple(k[:80] for k in name_keys(value))


def _name_key_pairs(values: dict, aliases) -> list[tuple[str, str]]:
    """Sorted (part, key) pairs of a person's names (``values`` by attname) and aliases."""
    rows = set()
    for part, a, b in _NAME_ATTRS:
        for value in (values[a], values[b]):
            if value:
                for key in _keys80(value):
                    rows.add((part, key))
    for pair in aliases:
        for value in pair:
            if value:
                for key in _keys80(value):
                    rows.add(("alias", key))
    return sorted(rows)


def _name_key_rows(person: Person, aliases) -> list[SimpleNamespace]:
    values = {a: getattr(person, a) for _p, *names in _NAME_ATTRS for a in names}
    return [SimpleNamespace(person_id=person.id, part=p, key=k)
            for p, k in _name_key_pairs(values, aliases)]


def _completeness(values: dict, weights) -> int:
    """``services.person_completeness`` of a person's row (a test keeps the two equal), with
    its ``weights`` (``services._COMPLETENESS``)."""
    score = 0
    for names, weight in weights:
        for name in names:
            if values[name]:
                score += weight
                break
    return min(100, score)


def _saved_instance(model, values: dict, db: str, **related):
    """An instance of ``model`` as it stands once ``values`` (by attname, every concrete field)
    are stored: not ``adding``, bound to ``db``, ``related`` objects cached. Built without
    ``Model.__init__``, which sets the 70 attributes of a person one by one through their
    descriptors (a fifth of the write's CPU at 100,000 persons); models whose instances need
    ``__init__`` or its signals (image dimensions) are not written this way."""
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding, state.db = False, db
    state.fields_cache.update(related)
    return obj


def content_hash(values: dict, aliases: list, documents: list, hashes: dict, group_id,
                 site: Site) -> str:
    """``services.person_content_hash`` with ``canonical_fast`` (a test keeps the two equal)."""
    doc_part = [{k: d[k] for k in ("kind", "number_key", "issuer", "expiry")} for d in documents]
    body = {"values": values, "aliases": aliases, "documents": doc_part, "files": hashes,
            "group": str(group_id or ""), "site": site.code}
    return hashlib.sha256(canonical_fast(body).encode()).hexdigest()


@dataclass
class CleanPerson:
    """One person checked by ``services.person_input_clean``, ready to be written."""

    client_key: object
    values: dict
    aliases: list
    documents: list
    content_hash: str
    arrived_at: dt.datetime
    group: ArrivalGroup | None = None


def persons_write(*, actor, site: Site, people: list[CleanPerson],
                  status: str = Status.ARRIVED, at: dt.datetime | None = None) -> list[Person]:
    """Write persons already checked by ``services.person_input_clean``: the rows, keys,
    history, ledger and audit entries ``person_register`` writes for each. The caller has checked
    ``Perm.PERSON_REGISTER`` and runs this inside its transaction."""
    from mawa.reception.services import _COMPLETENESS as weights

    if not people:
        return []
    keys = [p.client_key for p in people]
    taken = set()
    for start in range(0, len(keys), 900):
        taken.update(Person.objects.filter(client_key__in=keys[start:start + 900])
                     .values_list("client_key", flat=True))
    if taken:
        raise Conflict(_("%(n)s of these records were already saved (same client key).")
                       % {"n": len(taken)}, code="idempotency_conflict")
    now = timezone.now()
    at = at or now
    codes = short_codes_reserve(site=site, count=len(people))
    # each person's row as a dict by attname: the model's defaults, what the service would
    # set, the cleaned values; the instance returned is built from the same values
    attnames = [f.attname for f in Person._meta.concrete_fields]
    constant, per_row = _defaults(Person)
    given = {"site_id": site.pk, "current_site_id": site.pk, "status": status,
             "status_changed_at": at, "registered_by_id": actor.pk, "created_at": now,
             "updated_at": now}
    base = {**constant, **given}
    db = connection.alias
    rows, persons, aliases, documents, namekeys, items = [], [], [], [], [], []
    for clean, code in zip(people, codes, strict=True):
        if not given.keys().isdisjoint(clean.values):
            raise TypeError(f"not cleaned values: {sorted(given.keys() & clean.values.keys())}")
        pid = uuid7()
        d = {**base, **clean.values}
        d.update(id=pid, short_code=code, client_key=clean.client_key,
                 content_hash=clean.content_hash,
                 group_id=clean.group.pk if clean.group else None,
                 arrived_at=clean.arrived_at)
        for attname, make in per_row:
            if attname not in d:
                d[attname] = make()
        if len(d) != len(attnames):
            raise TypeError(f"not fields of a person: {sorted(d.keys() - set(attnames))}")
        d["completeness"] = _completeness(d, weights)
        rows.append(d)
        persons.append(_saved_instance(Person, d, db, site=site, current_site=site,
                                       registered_by=actor, group=clean.group))
        aliases += [row_dict(PersonAlias, {"person_id": pid, "name_ar": a, "name_lat": b})
                    for a, b in clean.aliases]
        documents += [row_dict(IdentityDocument, {
            "person_id": pid, "kind": doc["kind"], "number": doc["number"],
            "number_key": doc["number_key"], "issuer": doc["issuer"], "expiry": doc["expiry"]})
            for doc in clean.documents]
        namekeys += [(pid, p, k) for p, k in _name_key_pairs(d, clean.aliases)]
        items.append(LedgerItem(f"person/{pid}", "person.registered",
                                {"person": pid, "short_code": code,
                                 "group": clean.group.id if clean.group else None,
                                 "status": status, "category": d["category"],
                                 "content_hash": clean.content_hash}, actor, site))
    fast_insert(Person, rows)
    del rows
    fast_insert(PersonAlias, aliases)
    fast_insert(IdentityDocument, documents)
    insert_rows(PersonNameKey, ("person_id", "part", "key"), namekeys)
    del namekeys
    # the matching index, as person_register keeps it: imported persons are suggested while
    # typing and screened against the active watch lists (compartment) like any registration
    from mawa.matching.services import registry_index_bulk
    from mawa.reception.models import DocumentKind

    registry_index_bulk(
        persons, aliases={p.id: c.aliases for p, c in zip(persons, people, strict=True)},
        national_ids={p.id: d["number_key"] for p, c in zip(persons, people, strict=True)
                      for d in c.documents if d["kind"] == DocumentKind.NATIONAL_ID})
    items += audit_many(actor=actor, action="create", model="reception.person",
                        object_ids=[p.id for p in persons], site=site)
    entries = ledger_append_many(items)
    event = {"from_status": "", "to_status": status, "at": at, "actor_id": actor.pk,
             "site_id": site.pk}
    fast_insert(LifecycleEvent,
                [row_dict(LifecycleEvent, {**event, "id": uuid7(), "person_id": p.id,
                                           "ledger_seq": e.seq})
                 for p, e in zip(persons, entries, strict=False)])
    return persons


def persons_transition(*, actor, persons: list[Person], to: str, details: dict | None = None,
                       note: str = "", at: dt.datetime | None = None) -> int:
    """Move many persons along one lifecycle edge, as ``services.person_transition`` moves one:
    the same lifecycle table, the same permission, the same required details, the same
    history row and ``person.transition`` ledger entry. All persons must be in one status and
    at one site. Returns how many moved."""
    if not persons:
        return 0
    sources = {p.status for p in persons}
    sites = {p.current_site_id for p in persons}
    if len(sources) != 1 or len(sites) != 1:
        raise Conflict(_("A batch move needs persons in one status at one site."),
                       code="transition_not_allowed")
    source = sources.pop()
    site = persons[0].current_site
    transition = lifecycle.transition_find(source, to)
    if transition is None or any(p.category not in transition.categories for p in persons):
        raise Conflict(_("This move is not allowed for these persons."),
                       code="transition_not_allowed")
    if not any(access.can(actor, perm, site) for perm in transition.perms):
        access.require(actor, transition.perms[0], site)
    details = dict(details or {})
    recorded, new_site = {}, None
    for req in transition.requires:
        value = details.get(req.name)
        if value in (None, ""):
            raise ValidationFailed(_("Check the highlighted fields."),
                                   fields={req.name: [_("This is required for this move.")]})
        if req.kind == "camp":
            # the same test as services._camp_value: an active camp the actor works at
            new_site = value if isinstance(value, Site) else Site.objects.filter(
                code=str(value).strip().upper()).first()
            if (new_site is None or new_site.kind != SiteKind.CAMP or not new_site.is_active
                    or not access.in_scope(actor, new_site) or new_site.id == site.id):
                raise ValidationFailed(_("Check the highlighted fields."), fields={
                    req.name: [_("Choose an internment camp you work at.")]})
            value = new_site.code
        recorded[req.name] = value.isoformat() if isinstance(value, dt.date) else value
    at = at or timezone.now()
    ids = [p.id for p in persons]
    with transaction.atomic():
        fields = {"status": transition.target, "status_changed_at": at,
                  "version": F("version") + 1, "updated_at": at}
        if new_site is not None:
            fields["current_site"] = new_site
        if transition.target == Status.REFERRED_OUT:
            fields["referral_to"] = str(recorded["referral_to"])[:200]
        moved = 0
        for start in range(0, len(ids), 900):
            moved += Person.objects.filter(id__in=ids[start:start + 900],
                                           status=source).update(**fields)
        if moved != len(ids):
            raise Conflict(_("Some of these persons changed status meanwhile. Reload."),
                           code="stale_status")
        where = new_site or site
        items = [LedgerItem(f"person/{p.id}", "person.transition",
                            {"person": p.id, "from": source, "to": transition.target,
                             "recorded": sorted(recorded), "site": where.code,
                             "version": p.version + 1}, actor, where) for p in persons]
        entries = ledger_append_many(items)
        fast_insert(LifecycleEvent,
                    [row(LifecycleEvent, id=uuid7(), person_id=p.id, from_status=source,
                         to_status=transition.target, at=at, actor_id=actor.pk,
                         site_id=where.pk, note=note, details=recorded, ledger_seq=e.seq)
                     for p, e in zip(persons, entries, strict=True)])
    for p in persons:
        p.status, p.status_changed_at, p.version = transition.target, at, p.version + 1
        if new_site is not None:
            p.current_site = new_site
            p.current_site_id = new_site.id
    return moved
