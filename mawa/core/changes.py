"""Change capture: what travels between a crossing post and headquarters.

Every service that writes a *synced record* (a person, an arrival group, a surrender receipt and
its items, a custody event, a roll call …) records, inside its own transaction, one ``Change``
per record it creates, changes or voids, or per domain action it performs::

    change_record_many([ChangeItem("reception.person", p.id, ChangeOp.CREATE, fields), …],
                       actor=actor, site=site)

``fields`` is what another node needs to replay the write through the *same service*: the
cleaned values of a create, the new values of an update, ``{"action": name, …arguments}`` of an
action. Values are JSON (UUIDs, dates and decimals as strings). They are stored sealed
(``Change.fields`` is an encrypted field) and their SHA-256 is in the ledger entry of stream
``changes/<NODE>`` that numbers the change (``Change.seq`` = that entry's seq), so a node's
changes form one signed, hash-chained stream that other nodes verify and keep.

Each change names the version it was made on: ``base`` is the record's ``RecordHead`` (the
last change applied to it here) at the time of the write, found by this module — services do
not pass it. A node applying a change from elsewhere (``mawa.sync``) finds a conflict when
``base`` is not its own head for that record.

Applying a change from elsewhere runs the same service inside ``change_applying(change)``:
there, captures are *absorbed* into the incoming change (the records the service touches get
the incoming change as their head; nothing new is minted and nothing is sent back). Appliers
are registered per record type and operation by the domain apps in ``AppConfig.ready()``::

    change_applier_register("reception.person", ChangeOp.CREATE, apply_person_create)
    change_applier_register("reception.person", "action:transition", apply_transition)

An applier takes ``(change, actor)`` — ``actor`` the user named by ``change.actor`` on this
node — and calls the domain service. It raises ``UniqueBroken`` when the change would break a
rule that must hold once (a document number, a weapon serial, one open camp stay): the sync
engine keeps the change as a review item instead of stalling the stream. Any other
``MawaError`` is kept as a refused change for a person to look at.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from mawa.core.changes_models import Change, ChangeOp, ChangeState, Node, RecordHead
from mawa.core.db.rows import fast_insert
from mawa.core.errors import Conflict
from mawa.core.ids import uuid7
from mawa.core.ledger import LedgerItem, _jsonable, canonical_payload, ledger_append_many
from mawa.core.services import short_code_adopt, short_code_next

__all__ = ["ChangeItem", "UniqueBroken", "change_applier", "change_applier_register",
           "change_applying", "change_applying_now", "change_goes_everywhere",
           "change_travels_everywhere", "change_record", "change_record_many",
           "change_resolving",
           "changes_stream", "fields_digest", "node_code", "replay_code", "replay_created_at",
           "replay_time"]

# the node code of an installation that was never enrolled (a single headquarters)
DEFAULT_NODE = "HQ"


class UniqueBroken(Conflict):
    """A change from elsewhere would break a rule that must hold once (a document number, a
    weapon serial, one open camp stay): kept for review, never refused outright."""

    code = "unique_broken"


@dataclass(frozen=True)
class ChangeItem:
    record_type: str
    record_id: Any  # uuid.UUID
    op: str  # ChangeOp
    fields: dict


def node_code() -> str:
    """This installation's node code: its enrolled node, else ``HQ``."""
    code = Node.objects.filter(is_self=True).values_list("code", flat=True).first()
    return code or DEFAULT_NODE


def changes_stream(code: str) -> str:
    """The ledger stream of a node's changes."""
    return f"changes/{code}"


def fields_digest(fields: dict) -> str:
    """SHA-256 of a change's fields as RFC 8785 canonical JSON (what the ledger entry holds)."""
    return hashlib.sha256(canonical_payload(fields).encode("utf-8")).hexdigest()


# --- applying a change from elsewhere -----------------------------------------------------

_applying: contextvars.ContextVar[Change | None] = contextvars.ContextVar("mawa_change_applying",
                                                                          default=None)


@contextmanager
def change_applying(change: Change) -> Iterator[Change]:
    """Within this block, captures are absorbed into ``change`` (see the module docstring)."""
    token = _applying.set(change)
    try:
        yield change
    finally:
        _applying.reset(token)


def change_applying_now() -> Change | None:
    """The change from elsewhere being applied, if any (for services that must tell)."""
    return _applying.get()


_resolving: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "mawa_change_resolving", default=None)


@contextmanager
def change_resolving(ids: list) -> Iterator[None]:
    """Within this block, every change recorded here carries ``fields["_resolves"] = ids``:
    it settles the conflict between those changes (``mawa.sync``'s ``conflict_decide``)."""
    token = _resolving.set(sorted(str(i) for i in ids))
    try:
        yield
    finally:
        _resolving.reset(token)


Applier = Callable[[Change, Any], None]
_appliers: dict[tuple[str, str], Applier] = {}


def change_applier_register(record_type: str, op: str, applier: Applier) -> None:
    """Register how a change of ``record_type`` and ``op`` (a ``ChangeOp`` value, or
    ``"action:<name>"`` for ``ChangeOp.ACTION`` changes whose ``fields["action"]`` is name) is
    replayed through its service. Called from ``AppConfig.ready()``."""
    key = (record_type, str(op))
    if key in _appliers and _appliers[key] is not applier:
        raise RuntimeError(f"two appliers for {key}")
    _appliers[key] = applier


# record types whose changes go to every node (the registry: persons and arrival groups, for
# the duplicate checks of every post); the others go to a post only when made at its site
_everywhere: set[str] = set()


def change_travels_everywhere(record_type: str) -> None:
    """Declare that changes of ``record_type`` go to every node, not only to the post whose
    site they were made at (``mawa.sync``'s export). Called from ``AppConfig.ready()``."""
    _everywhere.add(record_type)


def change_goes_everywhere(record_type: str) -> bool:
    return record_type in _everywhere


def change_applier(change: Change) -> Applier | None:
    """The applier registered for ``change``, or None."""
    op = str(change.op)
    if op == ChangeOp.ACTION:
        op = f"action:{change.fields.get('action', '')}"
    return _appliers.get((change.record_type, op))


# --- writing on a replay: the origin's time, code and creation time ----------------------

def replay_time(at: Any = None) -> dt.datetime:
    """The time of a write: the origin's on a replay (a datetime or its ISO text), else now."""
    if at is None:
        return timezone.now()
    return at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))


def replay_code(site, code: str = "") -> str:
    """A new record's short code: the origin's on a replay (``code``; this node's counter of
    the site moves past it, so it never mints it again), else the site's next one."""
    return short_code_adopt(site=site, code=code) if code else short_code_next(site=site)


def replay_created_at(model, pk, at: dt.datetime | None) -> None:
    """On a replay, a record keeps its origin's creation time (``auto_now_add`` took now)."""
    if at is not None:
        model.objects.filter(pk=pk).update(created_at=at)


# --- recording a change made here ---------------------------------------------------------

def _heads(keys: list[tuple[str, Any]]) -> dict[tuple[str, Any], Any]:
    by_type: dict[str, list] = {}
    for record_type, record_id in keys:
        by_type.setdefault(record_type, []).append(record_id)
    found: dict[tuple[str, Any], Any] = {}
    for record_type, ids in by_type.items():
        for start in range(0, len(ids), 900):
            for rid, change in RecordHead.objects.filter(
                    record_type=record_type, record_id__in=ids[start:start + 900]
            ).values_list("record_id", "change"):
                found[(record_type, rid)] = change
    return found


def _heads_move(moves: dict[tuple[str, Any], Any], existing: set) -> None:
    """Point each record's head at its new change."""
    new = [RecordHead(record_type=t, record_id=r, change=c)
           for (t, r), c in moves.items() if (t, r) not in existing]
    fast_insert(RecordHead, new)
    for (t, r), c in moves.items():
        if (t, r) in existing:
            RecordHead.objects.filter(record_type=t, record_id=r).update(change=c)


def change_record_many(items: list[ChangeItem], *, actor, site) -> list[Change]:
    """Record the changes a service just made, in its transaction (see the module docstring).
    Returns the new ``Change`` rows; none while a change from elsewhere is being applied (the
    records touched then take that change as their head)."""
    if not items:
        return []
    keys = [(i.record_type, i.record_id) for i in items]
    incoming = _applying.get()
    with transaction.atomic():
        if incoming is not None:
            heads = _heads(keys)
            _heads_move(dict.fromkeys(keys, incoming.id), set(heads))
            return []
        heads = {} if all(i.op == ChangeOp.CREATE for i in items) else _heads(keys)
        code = node_code()
        stream = changes_stream(code)
        made_at = dt.datetime.now(dt.UTC).isoformat()
        username = getattr(actor, "username", "") or ""
        site_code = getattr(site, "code", "") or ""
        rows: list[Change] = []
        ledger: list[LedgerItem] = []
        moves: dict[tuple[str, Any], Any] = {}
        resolves = _resolving.get()
        for item, key in zip(items, keys, strict=True):
            fields = _jsonable(item.fields)
            if resolves is not None:
                fields = {**fields, "_resolves": resolves}
            change = Change(id=uuid7(), node=code, seq=0, record_type=item.record_type,
                            record_id=item.record_id, op=item.op,
                            base=moves.get(key, heads.get(key)), fields=fields,
                            actor=username, site=site_code, made_at=made_at,
                            state=ChangeState.APPLIED)
            moves[key] = change.id
            rows.append(change)
            ledger.append(LedgerItem(stream, "change", {
                "id": change.id, "record_type": item.record_type, "record_id": item.record_id,
                "op": str(item.op), "base": change.base, "fields": fields_digest(fields),
                "made_at": made_at}, actor, site))
        entries = ledger_append_many(ledger)
        for change, entry in zip(rows, entries, strict=True):
            change.seq = entry.seq
        fast_insert(Change, rows)
        _heads_move(moves, set(heads))
    return rows


def change_record(*, record_type: str, record_id, op: str, fields: dict, actor,
                  site) -> Change | None:
    """``change_record_many`` for one change."""
    rows = change_record_many([ChangeItem(record_type, record_id, op, fields)], actor=actor,
                              site=site)
    return rows[0] if rows else None
