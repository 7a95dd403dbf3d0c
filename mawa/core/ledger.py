"""The tamper-evident ledger: append-only, hash-chained streams with signed checkpoints.

Each entry is hashed as ``SHA-256(prev_hash || canonical_json(entry))`` where the entry is
``{actor, kind, payload, seq, site, stream, ts}`` serialised by RFC 8785 (JSON Canonicalization
Scheme). The first entry of a stream chains to 64 zeros. The database refuses UPDATE and DELETE
on ledger rows (triggers, migration ``core/0002``), and each site signs checkpoints of its
streams with its Ed25519 key so that a rewrite of a whole chain by someone who can drop the
triggers is still caught.

One writer: ``ledger_append_many(items)`` appends a batch of ``LedgerItem``s (an import's
100,000 registrations, a page's single correction); ``ledger_append`` is a batch of one.
Writers are serialised per stream: the batch takes a row lock on the heads (``LedgerHead``) of
the streams it touches (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises all writers
through its write lock, taken at BEGIN because the connection uses IMMEDIATE transactions). A
stream's first head is inserted with ``ON CONFLICT DO NOTHING``: if a concurrent transaction
created it first, the batch chains onto that. The unique (stream, seq) constraint is the last
line of defence: a forked chain cannot be stored.

Always append inside the transaction that makes the change it records, so the change and its
entry commit or fail together.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import rfc8785
from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.core import keys
from mawa.core.db.rows import executemany, insert_ignore, insert_returning, insert_rows
from mawa.core.errors import MawaError
from mawa.core.models import Checkpoint, LedgerEntry, LedgerHead, Node

GENESIS = "0" * 64


# --- canonical JSON ------------------------------------------------------------------------

def _jsonable(value):
    """Turn the values domain code passes (UUIDs, dates, decimals, models) into JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        # RFC 8785 serialises floats, but a float in a legal record is nearly always a mistake
        # (quantities are integers, coordinates decimals); keep them as exact strings.
        return repr(value)
    if hasattr(value, "pk") and hasattr(value, "_meta"):
        return str(value.pk)
    return value


def canonical_payload(payload: dict) -> str:
    """RFC 8785 canonical JSON text of a payload (UUIDs, dates and times, decimals and models
    written as strings, sets as sorted arrays, floats as their exact ``repr`` string).

    For JSON made of objects with ASCII keys, strings, integers within 2**53, booleans and
    null (UUIDs and dates becoming strings), RFC 8785 output is exactly ``json.dumps`` with
    sorted keys, no spaces and no ASCII escaping (``entry_hash`` relies on the same fact), and
    that is ~20× faster than the reference: nearly every payload (registrations, audit
    entries, content hashes of imported rows) is written that way. Anything else (floats,
    decimals, sets, models, non-ASCII keys, integers beyond 2**53) goes through the reference
    implementation, ``rfc8785``; ``tests/core/test_ledger_canonical`` compares the two on
    tricky and on generated payloads.
    """
    try:
        # most payloads need no converted copy: json writes them as they are
        value = payload if _as_is(payload) else _plain_json(payload)
    except _NotPlain:
        return rfc8785.dumps(_jsonable(payload)).decode("utf-8")
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
    """``_jsonable(v)`` in one pass for the plain cases, or ``_NotPlain``."""
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


# --- entry hashes ----------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _quoted(text: str) -> str:
    # the JSON string of an actor, site, kind or stream: a few distinct values, or (streams
    # of persons) runs of one, so each is written once per run
    return json.dumps(text, ensure_ascii=False)


def entry_hash(prev_hash: str, stream: str, seq: int, ts: str, actor: str, site: str,
               kind: str, payload_text: str) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the RFC 8785 canonical JSON of the entry
    ``{actor, kind, payload, seq, site, stream, ts}``, assembled directly: keys in RFC 8785
    order (sorted code points), strings escaped exactly as RFC 8785 requires (``json.dumps``
    with ``ensure_ascii=False`` escapes only '"', '\\' and control characters, with lowercase
    \\u00xx), and the payload, already canonical, spliced in. The same bytes as
    ``rfc8785.dumps(entry)`` and ~20× faster, which matters when appending or verifying
    millions of entries."""
    q = _quoted
    # time stamps are unique: quote them directly when they need no escaping
    ts_q = f'"{ts}"' if ts.isascii() and ts.isprintable() and '"' not in ts and (
        "\\" not in ts) else json.dumps(ts, ensure_ascii=False)
    text = (f'{{"actor":{q(actor)},"kind":{q(kind)},"payload":{payload_text},'
            f'"seq":{int(seq)},"site":{q(site)},"stream":{q(stream)},"ts":{ts_q}}}')
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def ledger_now() -> str:
    """The time stamp of an entry or checkpoint written now: UTC, ISO 8601, microseconds
    (the services' clock, ``timezone.now()``, which a replay may set: ``core.clock``)."""
    return timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _actor_id(actor) -> str:
    if actor is None:
        return ""
    if hasattr(actor, "pk"):
        return str(actor.pk) if actor.pk is not None else ""
    return str(actor)


def _site_code(site) -> str:
    if site is None:
        return ""
    return getattr(site, "code", None) or str(site)


# --- appending -------------------------------------------------------------------------------

@dataclass(slots=True)
class LedgerItem:
    """One entry to append: ``actor`` a user or a system name (``"system:demo"``), ``site`` a
    Site or its code. Payloads say *what* happened and to which record; never copy personal
    values into them."""

    stream: str
    kind: str
    payload: dict
    actor: object = None
    site: object = None


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


_HEAD_COLUMNS = ("stream", "seq", "head_hash")


def _heads_lock(streams: list[str]) -> dict[str, list]:
    """Row-lock the heads of ``streams`` that exist: {stream: [seq, head hash]}."""
    heads = {}
    for start in range(0, len(streams), 900):
        for stream, seq, head_hash in LedgerHead.objects.select_for_update().filter(
                stream__in=streams[start:start + 900]).values_list(*_HEAD_COLUMNS):
            heads[stream] = [seq, head_hash]
    return heads


def _chain(items: list[LedgerItem], positions, state: dict[str, list],
           rows: list) -> None:
    """Hash the items at ``positions`` onto the heads in ``state`` (moved along), into
    ``rows`` at the same positions."""
    last_actor = last_site = object()
    actor_s = site_s = ""
    for i in positions:
        item = items[i]
        if item.actor is not last_actor:  # items come in runs of one actor and site
            last_actor, actor_s = item.actor, _actor_id(item.actor)
        if item.site is not last_site:
            last_site, site_s = item.site, _site_code(item.site)
        payload_text = canonical_payload(item.payload)
        stream = item.stream
        seq, prev = state[stream]
        seq += 1
        ts = ledger_now()
        digest = entry_hash(prev, stream, seq, ts, actor_s, site_s, item.kind, payload_text)
        rows[i] = LedgerRow(stream, seq, ts, actor_s, site_s, item.kind, payload_text, prev,
                            digest)
        state[stream] = [seq, digest]


def _append(items: list[LedgerItem], *, with_ids: bool) -> tuple[list[LedgerRow], list]:
    if not items:
        return [], []
    with transaction.atomic():
        streams = sorted({i.stream for i in items})
        state = _heads_lock(streams)
        existing = list(state)
        new = [s for s in streams if s not in state]
        for s in new:
            state[s] = [0, GENESIS]
        rows: list = [None] * len(items)
        _chain(items, range(len(items)), state, rows)
        update = existing
        if new:
            written = insert_ignore(LedgerHead, _HEAD_COLUMNS,
                                    [(s, *state[s]) for s in new], converted=True)
            if written < len(new):
                # Another transaction created some of these streams meanwhile (PostgreSQL;
                # SQLite serialises writers) and its insert went first: lock their heads as
                # it left them and chain this batch's entries of those streams onto them.
                now_there = _heads_lock(new)
                taken = {s for s in new if now_there[s] != state[s]}
                state.update({s: now_there[s] for s in taken})
                _chain(items, [i for i, item in enumerate(items) if item.stream in taken],
                       state, rows)
                update = [*existing, *sorted(taken)]
        if update:
            # one prepared UPDATE run many times: Django's bulk_update builds a CASE per row,
            # which costs seconds for a few thousand streams
            table = connection.ops.quote_name(LedgerHead._meta.db_table)
            executemany(f"UPDATE {table} SET seq = %s, head_hash = %s "  # noqa: S608
                        "WHERE stream = %s", [(*state[s], s) for s in update])
        if with_ids:
            ids = insert_returning(LedgerEntry, LedgerRow._fields, rows, converted=True)
        else:
            insert_rows(LedgerEntry, LedgerRow._fields, rows, converted=True)
            ids = []
        every = getattr(settings, "MAWA_CHECKPOINT_EVERY", 0)
        if every:
            for r in rows:
                if r.seq % every == 0:
                    checkpoint_sign(stream=r.stream, seq=r.seq, head_hash=r.entry_hash,
                                    site_code=r.site or None)
    return rows, ids


def ledger_append_many(items: list[LedgerItem]) -> list[LedgerRow]:
    """Append ``items``, each to its stream, in the order given; returns the entries written,
    in that order.

    Every append goes through here (``ledger_append`` is a batch of one). The heads of the
    streams touched are row-locked first, so concurrent appends to a stream wait for each
    other; the chain is computed in Python and written in one statement per table: the
    entries, the heads of new streams, the moved heads of existing ones. A checkpoint is
    signed every ``MAWA_CHECKPOINT_EVERY`` entries of a stream.
    """
    return _append(items, with_ids=False)[0]


def ledger_append_entries(items: list[LedgerItem]) -> list[LedgerEntry]:
    """``ledger_append_many`` returning the entries stored with their row ids (for records
    that point at their entries, e.g. the custody index)."""
    rows, ids = _append(items, with_ids=True)
    entries = []
    for row, row_id in zip(rows, ids, strict=True):
        entry = LedgerEntry(id=row_id, **row._asdict())
        entry._state.adding, entry._state.db = False, connection.alias
        entries.append(entry)
    return entries


def ledger_append(*, stream: str, kind: str, payload: dict, actor=None, site=None) -> LedgerEntry:
    """Append one entry to ``stream`` and return it (a batch of one of ``ledger_append_many``,
    stored with its row id).

    ``actor`` is a user (or a system name such as ``"system:demo"``); ``site`` a Site or code.
    Payloads say *what* happened and to which record; never copy personal values into them.
    """
    rows, ids = _append([LedgerItem(stream, kind, payload, actor, site)], with_ids=True)
    entry = LedgerEntry(id=ids[0], **rows[0]._asdict())
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


class ChainRefused(MawaError):
    """Ledger rows received from another node do not chain onto what is held here, or
    disagree with rows held: the whole batch is refused (``ledger_rows_import``)."""

    code = "chain_refused"
    status = 409


def _row_tuple(row) -> LedgerRow:
    if isinstance(row, dict):
        return LedgerRow(**{name: row[name] for name in LedgerRow._fields})
    return LedgerRow(*row)


def ledger_rows_import(rows: Iterable) -> dict[str, int]:
    """Store ledger rows received from another node verbatim (same stream, seq, time, hash):
    the rows of other nodes' streams (``changes/<NODE>``) that travel with their changes.

    Rows are given as ``LedgerRow``s, tuples in its order or dicts. Per stream, in seq order:
    a row already held is compared with the held one (any difference refuses the whole
    batch: a fork or a forgery); the next row must chain onto this node's head of the stream
    (``prev_hash``) and hash to its ``entry_hash`` when recomputed, else ``ChainRefused``;
    rows beyond a gap (an earlier row not held and not given) are left out — their sender
    sends them again once it learns what is held here. The heads move; a few statements per
    stream. Returns {stream: the highest seq now held} for every stream given."""
    by_stream: dict[str, list[LedgerRow]] = {}
    for raw in rows:
        try:
            row = _row_tuple(raw)
            row = row._replace(seq=int(row.seq))
        except (KeyError, TypeError, ValueError):
            raise ChainRefused(_("A received ledger row is malformed.")) from None
        by_stream.setdefault(row.stream, []).append(row)
    held: dict[str, int] = {}
    if not by_stream:
        return held
    with transaction.atomic():
        streams = sorted(by_stream)
        insert_ignore(LedgerHead, _HEAD_COLUMNS, [(s, 0, GENESIS) for s in streams],
                      converted=True)
        state = _heads_lock(streams)
        new_rows: list[LedgerRow] = []
        moved: list[str] = []
        for stream in streams:
            seq, head = state[stream]
            given = sorted(by_stream[stream], key=lambda r: r.seq)
            known = [r for r in given if r.seq <= seq]
            if known:
                stored = {r[1]: r for r in LedgerEntry.objects.filter(
                    stream=stream, seq__in=[r.seq for r in known]).values_list(
                    *LedgerRow._fields)}
                for r in known:
                    if tuple(stored.get(r.seq, ())) != tuple(r):
                        raise ChainRefused(
                            _("Entry %(seq)s of stream %(stream)s differs from the one held "
                              "here: the other node's chain was rewritten or forked.")
                            % {"seq": r.seq, "stream": stream})
            start = seq
            for r in given:
                if r.seq <= start:
                    continue
                if r.seq != seq + 1:
                    break  # a gap: the rest comes again later
                if r.prev_hash != head or entry_hash(
                        head, r.stream, r.seq, r.ts, r.actor, r.site, r.kind,
                        r.payload) != r.entry_hash:
                    raise ChainRefused(
                        _("Entry %(seq)s of stream %(stream)s does not chain onto the entries "
                          "held here.") % {"seq": r.seq, "stream": stream})
                new_rows.append(r)
                seq, head = r.seq, r.entry_hash
            if seq != start:
                state[stream] = [seq, head]
                moved.append(stream)
            held[stream] = seq
        if new_rows:
            insert_rows(LedgerEntry, LedgerRow._fields, new_rows, converted=True)
            table = connection.ops.quote_name(LedgerHead._meta.db_table)
            executemany(f"UPDATE {table} SET seq = %s, head_hash = %s "  # noqa: S608
                        "WHERE stream = %s", [(*state[s], s) for s in moved])
    return held


def ledger_payload(entry: LedgerEntry) -> dict:
    return json.loads(entry.payload)


# --- checkpoints -------------------------------------------------------------------------

def _checkpoint_message(stream: str, seq: int, head_hash: str, ts: str, site: str,
                        key_id: str) -> bytes:
    return rfc8785.dumps({"head_hash": head_hash, "key_id": key_id, "seq": seq, "site": site,
                          "stream": stream, "ts": ts})


checkpoint_message = _checkpoint_message  # what a checkpoint's signature covers


def _witness_path() -> Path:
    return Path(settings.VAR_DIR) / "witnesses.json"


def witnesses_kept() -> list[dict]:
    """The checkpoints other nodes signed of this node's streams (witnesses: ``mawa.sync``),
    as kept in ``VAR_DIR/witnesses.json``, apart from the database: ``mawa verify`` checks
    the chains against them, so rewriting the newest entries with recomputed hashes (and the
    checkpoint table with them) is caught once a peer has witnessed those entries."""
    try:
        data = json.loads(_witness_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []


def witnesses_keep(checkpoints: list[dict]) -> None:
    """Add witnesses to ``VAR_DIR/witnesses.json`` (each kept once; written whole, then
    renamed into place)."""
    held = witnesses_kept()
    seen = {(c.get("stream"), c.get("seq"), c.get("key_id")) for c in held}
    for c in checkpoints:
        if (c["stream"], c["seq"], c["key_id"]) not in seen:
            held.append(dict(c))
            seen.add((c["stream"], c["seq"], c["key_id"]))
    path = _witness_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(held, indent=0), encoding="utf-8")
    tmp.replace(path)


def home_site_code() -> str:
    from mawa.core.models import Site, SiteKind

    configured = getattr(settings, "MAWA_HOME_SITE", None)
    if configured:
        return configured
    hq = Site.objects.filter(kind=SiteKind.HQ).order_by("code").first()
    if hq:
        return hq.code
    first = Site.objects.order_by("code").first()
    return first.code if first else "HQ"


def checkpoint_sign(*, stream: str, seq: int, head_hash: str, site_code: str | None = None
                    ) -> Checkpoint:
    """Sign (stream, seq, head hash, now) with the site's key and store the checkpoint."""
    site_code = site_code or home_site_code()
    key = keys.signing_key(site_code)
    key_id = keys.key_id_of(keys.public_key_bytes(key.public_key()))
    ts = ledger_now()
    signature = key.sign(_checkpoint_message(stream, seq, head_hash, ts, site_code, key_id))
    return Checkpoint.objects.create(stream=stream, seq=seq, head_hash=head_hash, ts=ts,
                                     site=site_code, key_id=key_id, signature=signature.hex())


def _moved_streams() -> list[str]:
    """The streams whose head moved past their last signed checkpoint (one statement), but
    not the change streams of other nodes held here (``ledger_rows_import``): their origin
    signs those, with a key that is not here."""
    signed = Checkpoint.objects.filter(stream=OuterRef("stream")).order_by("-seq") \
        .values("seq")[:1]
    own = Node.objects.filter(is_self=True).values_list("code", flat=True).first() or "HQ"
    return list(LedgerHead.objects.filter(seq__gt=0).annotate(signed=Subquery(signed))
                .filter(Q(signed__isnull=True) | Q(signed__lt=F("seq")))
                .exclude(Q(stream__startswith="changes/") & ~Q(stream=f"changes/{own}"))
                .order_by("stream").values_list("stream", flat=True))


_CHECKPOINT_CHUNK = 300  # streams per look-up: (stream, seq) pairs stay under SQLite's limits


def checkpoint_all() -> int:
    """Sign a checkpoint of every stream whose head moved since its last checkpoint; returns
    how many were signed.

    Safe with two at once (``mawa checkpoint`` from cron and the workers): it runs in one
    transaction that row-locks the moved heads (SQLite: the write lock, its transactions
    being IMMEDIATE) and asks again, under the lock, what is signed already — the second
    one finds the first one's checkpoints and signs nothing twice."""
    made = 0
    with transaction.atomic():
        moved = _moved_streams()
        for start in range(0, len(moved), _CHECKPOINT_CHUNK):
            chunk = moved[start:start + _CHECKPOINT_CHUNK]
            heads = _heads_lock(chunk)
            signed = dict(Checkpoint.objects.filter(stream__in=chunk).values("stream")
                          .annotate(last=Max("seq")).values_list("stream", "last"))
            due = [(stream, heads[stream][0]) for stream in chunk
                   if stream in heads and signed.get(stream, 0) < heads[stream][0]]
            if not due:
                continue
            wanted = Q()
            for stream, seq in due:
                wanted |= Q(stream=stream, seq=seq)
            for stream, seq, entry_hash, site in LedgerEntry.objects.filter(wanted).order_by(
                    "stream").values_list("stream", "seq", "entry_hash", "site"):
                checkpoint_sign(stream=stream, seq=seq, head_hash=entry_hash,
                                site_code=site or None)
                made += 1
    return made


# When this process (a worker) signs its next checkpoints: ``checkpoint_if_due``.
_checkpoint_next: dict[str, dt.datetime] = {}


def checkpoint_if_due(*, now: dt.datetime | None = None) -> dt.datetime | None:
    """What a worker does between tasks: every ``MAWA_CHECKPOINT_SECONDS`` (default 300; 0
    turns it off) it signs a checkpoint of every stream that moved (``checkpoint_all``), so
    that an entry is unprotected for minutes, not until the next ``mawa checkpoint`` from
    cron. Returns when it is due next (None: off).

    The period is counted by the process from its own last run, not from the newest
    checkpoint in the table: a busy stream's checkpoint signed every ``MAWA_CHECKPOINT_EVERY``
    entries would otherwise keep every other stream waiting. Idempotent, and two workers due
    at once sign each checkpoint once (``checkpoint_all`` re-reads under the heads' lock)."""
    seconds = int(getattr(settings, "MAWA_CHECKPOINT_SECONDS", 300) or 0)
    if seconds <= 0:
        return None
    now = now or timezone.now()
    due = _checkpoint_next.get("at")
    if due is not None and now < due:
        return due
    checkpoint_all()
    _checkpoint_next["at"] = now + dt.timedelta(seconds=seconds)
    return _checkpoint_next["at"]


def checkpoints_export() -> list[dict]:
    """Checkpoints as JSON-ready dicts, to copy off the machine."""
    return [
        {"stream": c.stream, "seq": c.seq, "head_hash": c.head_hash, "ts": c.ts, "site": c.site,
         "key_id": c.key_id, "signature": c.signature}
        for c in Checkpoint.objects.order_by("stream", "seq")
    ]


# --- verification ------------------------------------------------------------------------

@dataclass
class Failure:
    stream: str
    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.stream}#{self.seq}" if self.seq is not None else self.stream
        ident = f" (row {self.entry_id})" if self.entry_id is not None else ""
        return f"{where}{ident}: {self.reason}"


@dataclass
class VerifyReport:
    streams: int = 0
    entries: int = 0
    checkpoints: int = 0
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_failure(self) -> Failure | None:
        return self.failures[0] if self.failures else None


def _rows(streams: Iterable[str] | None):
    qs = LedgerEntry.objects.order_by("stream", "seq")
    if streams is not None:
        qs = qs.filter(stream__in=list(streams))
    return qs.values_list("id", "stream", "seq", "ts", "actor", "site", "kind", "payload",
                          "prev_hash", "entry_hash").iterator(chunk_size=20000)


def ledger_verify(*, streams: Iterable[str] | None = None, extra_checkpoints: list[dict] | None
                  = None) -> VerifyReport:
    """Recompute every chain and check every checkpoint; name the first entry that does not hold.

    ``extra_checkpoints`` are checkpoints copied off the machine earlier (``mawa verify
    --checkpoints FILE``): they catch a rewrite of the database's own checkpoint table.
    """
    report = VerifyReport()
    stream_filter = set(streams) if streams is not None else None
    cps: dict[str, list[dict]] = {}
    cp_rows = [
        {"stream": c.stream, "seq": c.seq, "head_hash": c.head_hash, "ts": c.ts, "site": c.site,
         "key_id": c.key_id, "signature": c.signature, "origin": "database"}
        for c in Checkpoint.objects.all()
    ] + [dict(c, origin="file") for c in (extra_checkpoints or [])]
    for c in cp_rows:
        if stream_filter is None or c["stream"] in stream_filter:
            cps.setdefault(c["stream"], []).append(c)
    wanted: dict[str, set[int]] = {s: {c["seq"] for c in lst} for s, lst in cps.items()}
    computed: dict[tuple[str, int], str] = {}
    last_seq: dict[str, int] = {}
    broken: set[str] = set()

    current, expected, prev = None, 1, GENESIS
    for row in _rows(stream_filter):
        rid, stream, seq, ts, actor, site, kind, payload, prev_hash, stored = row
        if stream != current:
            current, expected, prev = stream, 1, GENESIS
            report.streams += 1
        report.entries += 1
        if stream in broken:
            continue
        if seq != expected:
            reason = (f"entry {expected} is missing (the next stored entry is {seq}): entries "
                      "were deleted or renumbered")
            report.failures.append(Failure(stream, expected, None, reason))
            broken.add(stream)
            continue
        if prev_hash != prev:
            report.failures.append(Failure(stream, seq, rid, "previous-hash link does not match "
                                           "the entry before it"))
            broken.add(stream)
            continue
        digest = entry_hash(prev, stream, seq, ts, actor, site, kind, payload)
        if digest != stored:
            report.failures.append(Failure(stream, seq, rid, "content does not match its hash "
                                           "(altered)"))
            broken.add(stream)
            continue
        if seq in wanted.get(stream, ()):
            computed[(stream, seq)] = digest
        prev, expected = digest, expected + 1
        last_seq[stream] = seq

    heads = LedgerHead.objects.all()
    if stream_filter is not None:
        heads = heads.filter(stream__in=stream_filter)
    for head in heads:
        if head.stream not in broken and head.seq > last_seq.get(head.stream, 0):
            report.failures.append(Failure(
                head.stream, last_seq.get(head.stream, 0) + 1, None,
                f"the stream's head says {head.seq} entries but the chain ends at "
                f"{last_seq.get(head.stream, 0)}: entries were deleted"))
            broken.add(head.stream)

    verify_keys = keys.verification_keys()
    for stream, lst in sorted(cps.items()):
        for c in sorted(lst, key=lambda c: c["seq"]):
            report.checkpoints += 1
            public = verify_keys.get(c["key_id"])
            if public is None:
                report.failures.append(Failure(stream, c["seq"], None,
                                               f"checkpoint signed by unknown key {c['key_id']}"))
                continue
            try:
                public.verify(bytes.fromhex(c["signature"]), _checkpoint_message(
                    stream, c["seq"], c["head_hash"], c["ts"], c["site"], c["key_id"]))
            except (InvalidSignature, ValueError):
                report.failures.append(Failure(stream, c["seq"], None,
                                               f"checkpoint signature is forged ({c['origin']})"))
                continue
            if stream in broken:
                continue
            got = computed.get((stream, c["seq"]))
            if got is None:
                report.failures.append(Failure(stream, c["seq"], None,
                                               "a signed checkpoint names an entry that is no "
                                               "longer in the chain (entries were deleted)"))
                broken.add(stream)
            elif got != c["head_hash"]:
                report.failures.append(Failure(stream, c["seq"], None,
                                               "the chain was rewritten: the head hash differs "
                                               "from the signed checkpoint"))
                broken.add(stream)
    return report
