"""Writes of many persons at once, for imports, the demo scenario and benchmarks.

These functions make exactly the records the one-at-a-time services make —
``services.person_register`` and ``services.person_transition``: the person row, its aliases,
documents and name keys, the ``LifecycleEvent`` history row, the ``person/<id>`` ledger entry
and the audit entry — but with a handful of bulk INSERTs instead of ~15 queries per person, so
that 100,000 rows from a gate's offline collection load in seconds rather than an hour.

The rules stay in ``services`` (``person_input_clean`` checks every value; ``lifecycle``
says which moves exist and what each requires): this module only changes how the rows reach
the database.
Everything runs inside the caller's transaction: a failure leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.core import context
from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.ids import short_code_make, uuid7
from mawa.core.ledger import (
    GENESIS,
    _actor_id,
    _now,
    _site_code,
    canonical_payload,
    checkpoint_sign,
    entry_hash,
)
from mawa.core.models import LedgerEntry, LedgerHead, ShortCodeCounter, Site, SiteKind
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
from mawa.reception.values import name_keys

BATCH = 2000


def _converter(field):
    """A function turning a Python value of ``field`` into what the database driver takes.
    Strings, integers and booleans pass as they are; the rest goes through Django's own
    ``get_db_prep_save`` (UUIDs, dates, JSON), so the stored form is the ORM's."""
    internal = field.get_internal_type()
    if internal in ("CharField", "TextField", "PositiveIntegerField", "PositiveSmallIntegerField",
                    "PositiveBigIntegerField", "IntegerField", "BooleanField", "BigIntegerField",
                    "FileField"):
        if internal == "FileField":
            return lambda v: str(v or "")
        return lambda v: v
    target = field.target_field if field.is_relation else field
    if target.get_internal_type() == "UUIDField":
        if connection.vendor == "postgresql":
            return lambda v: v
        # SQLite stores a UUID as its 32 hex digits (what get_db_prep_save returns), and a
        # million persons carry millions of them: skip the per-value dispatch
        return lambda v: v.hex if isinstance(v, uuid.UUID) else target.get_db_prep_save(
            v, connection)
    last: list = [object(), None]

    def convert(v):
        # rows written together share their timestamps: convert a repeated value once
        if v is not last[0]:
            last[0], last[1] = v, target.get_db_prep_save(v, connection)
        return last[1]

    return convert


def fast_insert(model, objs: list, *, batch: int = 5000) -> None:
    """INSERT model instances with ``executemany``, skipping the ORM's per-value compiler.

    ``bulk_create`` spends ~20 µs per value preparing SQL; at 100,000 persons × 60 columns that
    is two minutes of a 60-second import budget. Values are converted once per field type and
    the driver's own batch loop does the rest. No signals, no ``save()``: as with
    ``bulk_create``, and as the house style wants (no rules in ``save()``)."""
    if not objs:
        return
    # auto-increment ids (ledger rows, name keys) are left to the database
    fields = [f for f in model._meta.concrete_fields
              if f.get_internal_type() not in ("AutoField", "BigAutoField")]
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            now = timezone.now()
            for o in objs:
                if getattr(o, f.attname) is None:
                    setattr(o, f.attname, now)
    convert = [_converter(f) for f in fields]
    attnames = [f.attname for f in fields]
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ("  # noqa: S608
           + ", ".join(qn(f.column) for f in fields) + ") VALUES ("
           + ", ".join(["%s"] * len(fields)) + ")")
    with connection.cursor() as cur:
        for start in range(0, len(objs), batch):
            cur.executemany(sql, [[c(getattr(o, a)) for c, a in zip(convert, attnames,
                                                                    strict=True)]
                                  for o in objs[start:start + batch]])


def executemany(sql: str, params: list) -> None:
    """One prepared statement run for many parameter rows (the driver's batch loop)."""
    if params:
        with connection.cursor() as cur:
            cur.executemany(sql, params)


_DEFAULTS: dict = {}


def row(model, **values) -> SimpleNamespace:
    """A plain row for ``fast_insert``: the model's field defaults, then ``values`` (by
    attname, e.g. ``person_id``). Cheaper than a model instance when writing 100,000s."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = _DEFAULTS[model] = {
            f.attname: f for f in model._meta.concrete_fields
            if f.get_internal_type() not in ("AutoField", "BigAutoField")}
    out = SimpleNamespace(**values)
    for attname, f in defaults.items():
        if attname not in values:
            setattr(out, attname, f.get_default())
    return out


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
        value = _plain_json(payload)
    except _NotPlain:
        return canonical_payload(payload)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _NotPlain(Exception):
    pass


_SAFE_INT = 2**53


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
            out[k] = _plain_json(x)
        return out
    if t is list or t is tuple:
        return [_plain_json(x) for x in v]
    if t is uuid.UUID:
        return str(v)
    if t is dt.date or t is dt.datetime:
        return v.isoformat()
    if isinstance(v, str):  # TextChoices members: json.dumps writes their text
        return str(v)
    raise _NotPlain


def ledger_append_many(items: list[LedgerItem]) -> list[SimpleNamespace]:
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
        for start in range(0, len(streams), 500):
            chunk = streams[start:start + 500]
            for head in LedgerHead.objects.select_for_update().filter(stream__in=chunk):
                heads[head.stream] = head
        # plain rows for new heads (one per new person's stream): model instances would cost
        # more than the INSERT
        new_heads = {s: SimpleNamespace(stream=s, seq=0, head_hash=GENESIS)
                     for s in streams if s not in heads}
        state = {s: [h.seq, h.head_hash] for s, h in {**heads, **new_heads}.items()}
        rows, checkpoints = [], []
        every = getattr(settings, "MAWA_CHECKPOINT_EVERY", 0)
        for item in items:
            payload_text = canonical_fast(item.payload)
            actor_s, site_s = _actor_id(item.actor), _site_code(item.site)
            seq, prev = state[item.stream]
            seq += 1
            ts = _now()
            digest = entry_hash(prev, item.stream, seq, ts, actor_s, site_s, item.kind,
                                payload_text)
            rows.append(SimpleNamespace(stream=item.stream, seq=seq, ts=ts, actor=actor_s,
                                        site=site_s, kind=item.kind, payload=payload_text,
                                        prev_hash=prev, entry_hash=digest))
            state[item.stream] = [seq, digest]
            if every and seq % every == 0:
                checkpoints.append((item.stream, seq, digest, site_s or None))
        fast_insert(LedgerEntry, rows)
        for s, head in new_heads.items():
            head.seq, head.head_hash = state[s]
        fast_insert(LedgerHead, list(new_heads.values()))
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


def _name_key_rows(person: Person, aliases) -> list[PersonNameKey]:
    rows = set()
    for part in NAME_PARTS:
        for script in ("ar", "lat"):
            for key in name_keys(getattr(person, f"{part}_{script}")):
                rows.add((part, key[:80]))
    for a_ar, a_lat in aliases:
        for key in name_keys(a_ar) + name_keys(a_lat):
            rows.add(("alias", key[:80]))
    return [SimpleNamespace(person_id=person.id, part=p, key=k) for p, k in sorted(rows)]


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
    from mawa.reception.services import person_completeness

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
    persons, aliases, documents, namekeys, items = [], [], [], [], []
    for clean, code in zip(people, codes, strict=True):
        person = Person(id=uuid7(), site=site, current_site=site, short_code=code,
                        client_key=clean.client_key, content_hash=clean.content_hash,
                        group=clean.group, arrived_at=clean.arrived_at, status=status,
                        status_changed_at=at, registered_by=actor, created_at=now,
                        updated_at=now, **clean.values)
        person.completeness = person_completeness(person)
        persons.append(person)
        aliases += [PersonAlias(person=person, name_ar=a, name_lat=b) for a, b in clean.aliases]
        documents += [IdentityDocument(person=person, kind=d["kind"], number=d["number"],
                                       number_key=d["number_key"], issuer=d["issuer"],
                                       expiry=d["expiry"]) for d in clean.documents]
        namekeys += _name_key_rows(person, clean.aliases)
        items.append(LedgerItem(f"person/{person.id}", "person.registered",
                                {"person": person.id, "short_code": code,
                                 "group": clean.group.id if clean.group else None,
                                 "status": status, "category": person.category,
                                 "content_hash": clean.content_hash}, actor, site))
    fast_insert(Person, persons)
    fast_insert(PersonAlias, aliases)
    fast_insert(IdentityDocument, documents)
    fast_insert(PersonNameKey, namekeys)
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
    fast_insert(LifecycleEvent,
                [row(LifecycleEvent, id=uuid7(), person_id=p.id, from_status="", to_status=status,
                     at=at, actor_id=actor.pk, site_id=site.pk, ledger_seq=e.seq)
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
