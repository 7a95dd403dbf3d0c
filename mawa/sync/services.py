"""The sync engine: bundles out (``sync_export``), bundles in (``sync_import``), where each
peer stands (``sync_status``) and a person's decision on a conflict (``conflict_decide``).

What travels is each node's stream of changes (``core.changes``): the ledger rows of stream
``changes/<NODE>`` verbatim, each with its change. A node keeps the streams of every node it
hears of and passes them on, so a post's changes reach another post through headquarters.

Export to a peer: every change of every origin other than the peer with a seq above what the
peer last said it holds (its *have-vector*, recorded when its bundles arrive), this node's own
have-vector (the acknowledgement), the origins' signed checkpoints of their streams, this
node's countersignatures of the peer's own stream (*witnesses*) and, from headquarters to a
post, the reference data. A bundle the peer never imported is simply sent again next time.

Import: the bundle is checked whole first (``bundle_open``), then applied in ONE transaction:
reference data (from headquarters), the ledger rows (``ledger_rows_import``: chained onto the
heads held here, or the whole bundle is refused), then the changes, per origin in seq order:

- a change already held (its id is known) is counted *present*; nothing is done;
- a change made on the version held here (``base`` is the record's head here; a create of a
  record not held) is applied through its applier, inside ``change_applying``;
- a change made on another version is kept with a ``SyncConflict(kind=version)``; the stream
  goes on. An applier raising ``UniqueBroken`` gives ``kind=unique``, any other ``MawaError``
  ``kind=refused``;
- a change whose base has not arrived yet (streams can arrive in any order) *waits*; waiting
  changes are tried again, in order, whenever a bundle arrives.

Resolution: a change carrying ``fields["_resolves"]`` (minted by ``conflict_decide``) settles
the conflict between the changes it names. A node whose head for the record is one of them
applies it (no new conflict) and marks its own conflicts on them decided. When both sides
decided, both keep the same one: headquarters' decision, else the later change.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mawa.accounts.access import require
from mawa.accounts.models import User
from mawa.accounts.roles import Perm
from mawa.core import keys as core_keys
from mawa.core.changes import (
    UniqueBroken,
    change_applier,
    change_applying,
    change_goes_everywhere,
    change_record,
    change_resolving,
    changes_stream,
    fields_digest,
)
from mawa.core.changes_models import (
    Change,
    ChangeOp,
    ChangeState,
    ConflictKind,
    Node,
    NodeRole,
    PeerState,
    RecordHead,
    SyncConflict,
)
from mawa.core.errors import Conflict, MawaError, NotFound
from mawa.core.ledger import (
    ChainRefused,
    LedgerRow,
    checkpoint_message,
    checkpoint_sign,
    ledger_rows_import,
    witnesses_keep,
)
from mawa.core.models import Checkpoint, LedgerEntry, LedgerHead, Site, SiteKey
from mawa.sync.bundle import BundleMalformed, BundleTampered, bundle_open, bundle_pack
from mawa.sync.keys import node_self

try:  # post17's module (reference data), merged apart: the engine works without it
    from mawa.sync import reference as _reference  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover
    _reference = None  # type: ignore[assignment,unused-ignore]

PREFIX = "changes/"
RESOLVES = "_resolves"
_CHUNK = 900  # ids per IN (...): under SQLite's variable limit


# --- results ----------------------------------------------------------------------------

@dataclass
class ImportResult:
    """What an import did: changes applied, already present, kept in conflict, waiting for
    earlier ones (``waiting``: every change still waiting here after the import)."""

    sender: str = ""
    applied: int = 0
    present: int = 0
    conflicts: int = 0
    waiting: int = 0
    decided: int = 0  # conflicts settled by a resolution that arrived


@dataclass
class PeerStatus:
    code: str
    role: str
    last_received_at: dt.datetime | None
    last_sent_at: dt.datetime | None
    pending_out: int  # changes held here the peer has not acknowledged
    pending_in: int  # changes the peer said it holds that have not arrived here


@dataclass
class SyncStatus:
    node: str
    peers: list[PeerStatus] = field(default_factory=list)
    waiting: int = 0
    conflicts_open: int = 0


# --- small helpers ----------------------------------------------------------------------

def _chunks(seq: list, size: int = _CHUNK):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def _held() -> dict[str, int]:
    """{origin node code: highest seq of its changes stream held here}."""
    return {stream[len(PREFIX):]: seq for stream, seq in LedgerHead.objects.filter(
        stream__startswith=PREFIX, seq__gt=0).values_list("stream", "seq")}


def _peer(code: str | None) -> Node:
    """The peer ``code``; by default the only peer (a post's: headquarters)."""
    peers = Node.objects.filter(is_self=False, is_active=True).order_by("code")
    if code:
        peer = peers.filter(code=code).first()
        if peer is None:
            raise NotFound(_("This installation has no peer node %(code)s.") % {"code": code})
        return peer
    found = list(peers[:2])
    if len(found) > 1 and node_self().role == NodeRole.POST:
        found = list(peers.filter(role=NodeRole.HQ)[:2])  # a post syncs with headquarters
    if len(found) != 1:
        raise MawaError(_("Name the node the bundle is for (--to CODE): this installation "
                          "has %(n)s peers.") % {"n": peers.count()}, code="sync_peer_ambiguous")
    return found[0]


def _site_keys_ensure() -> None:
    """A core ``SiteKey`` for every known node's public key, so ``ledger_verify`` checks the
    checkpoints and witnesses they sign."""
    known = set(SiteKey.objects.values_list("key_id", flat=True))
    sites = set(Site.objects.values_list("code", flat=True))
    for code, public in Node.objects.exclude(public_key="").values_list("code", "public_key"):
        key_id = core_keys.key_id_of(bytes.fromhex(public))
        if key_id in known:
            continue
        if code[:5] in sites:
            # this installation's own key for the site of that code comes first: a recorded
            # key without its file would read as a key gone missing (post17's peer_key_record)
            core_keys.signing_key(code[:5])
        SiteKey.objects.create(site_code=code[:5], key_id=key_id, public_key=public)
        known.add(key_id)


def _checkpoint_dict(c: Checkpoint) -> dict:
    return {"stream": c.stream, "seq": c.seq, "head_hash": c.head_hash, "ts": c.ts,
            "site": c.site, "key_id": c.key_id, "signature": c.signature}


def _change_dict(c: Change) -> dict:
    return {"id": str(c.id), "record_type": c.record_type, "record_id": str(c.record_id),
            "op": str(c.op), "base": str(c.base) if c.base else None, "fields": c.fields,
            "actor": c.actor, "site": c.site, "made_at": c.made_at}


def _english(exc: MawaError) -> str:
    with translation.override("en"):
        return str(exc.message)[:300]


# --- export -----------------------------------------------------------------------------

def _sign_once(me: Node, stream: str, seq: int) -> Checkpoint | None:
    """This node's checkpoint of ``stream`` at ``seq`` (signed now unless signed already)."""
    if seq <= 0:
        return None
    found = Checkpoint.objects.filter(stream=stream, seq=seq, site=me.code).first()
    if found is not None:
        return found
    head_hash = LedgerEntry.objects.filter(stream=stream, seq=seq).values_list(
        "entry_hash", flat=True).first()
    if head_hash is None:
        return None
    return checkpoint_sign(stream=stream, seq=seq, head_hash=head_hash, site_code=me.code)


def _origin_checkpoints(origins: list[str]) -> list[dict]:
    """The newest checkpoint each origin signed of its own changes stream held here."""
    newest: dict[str, Checkpoint] = {}
    streams = [changes_stream(o) for o in origins]
    for c in Checkpoint.objects.filter(stream__in=streams).order_by("stream", "seq"):
        if c.site == c.stream[len(PREFIX):]:
            newest[c.stream] = c
    return [_checkpoint_dict(c) for c in newest.values()]


# What a node sends a post of the changes it holds: the record types declared to travel
# everywhere (core.changes.change_travels_everywhere: the registry of persons and arrival
# groups, for the post's duplicate checks and the status of everyone it may meet), whatever was
# done at the post's own site, and the decisions of conflicts. The rest (camps, central stores,
# other posts' custody) is HQ's business and refers to records a post does not hold: its
# ledger rows still travel, so every chain stays whole, without the change itself.
def _travels_to(change: Change, peer: Node, peer_site: str) -> bool:
    if peer.role == NodeRole.HQ:
        return True
    return (change_goes_everywhere(change.record_type) or change.site == peer_site
            or "_resolves" in change.fields)


def _changes_since(origin: str, since: int, peer: Node) -> list[dict]:
    stream = changes_stream(origin)
    rows = list(LedgerEntry.objects.filter(stream=stream, seq__gt=since).order_by("seq")
                .values_list(*LedgerRow._fields))
    changes = {c.seq: c for c in Change.objects.filter(node=origin, seq__gt=since)}
    peer_site = peer.site.code if peer.site is not None else ""
    out = []
    for row in rows:
        change = changes.get(row[1])
        if change is not None and not _travels_to(change, peer, peer_site):
            change = None
        out.append({"row": list(row), "change": _change_dict(change) if change else None})
    return out


def sync_export(*, to: str | None = None) -> bytes:
    """A bundle for peer ``to`` (None: the only peer) holding everything it has not
    acknowledged (see the module docstring). Exporting again with nothing new gives a bundle
    whose import changes nothing."""
    me = node_self()
    peer = _peer(to)
    with transaction.atomic():
        state, _created = PeerState.objects.get_or_create(node=peer)
        peer_has = {str(k): int(v or 0) for k, v in (state.have or {}).items()}
        held = _held()
        _sign_once(me, changes_stream(me.code), held.get(me.code, 0))
        changes: list[dict] = []
        origins = []
        for origin, top in sorted(held.items()):
            if origin == peer.code:
                continue
            origins.append(origin)
            since = peer_has.get(origin, 0)
            if top > since:
                changes += _changes_since(origin, since, peer)
        witness = _sign_once(me, changes_stream(peer.code), held.get(peer.code, 0))
        body: dict[str, Any] = {
            "have": held, "changes": changes, "checkpoints": _origin_checkpoints(origins),
            "witnesses": [_checkpoint_dict(witness)] if witness else []}
        if (me.role == NodeRole.HQ and peer.role != NodeRole.HQ and _reference is not None):
            body["reference"] = _reference.reference_snapshot(peer)
        state.last_sent_at = timezone.now()
        state.save(update_fields=["last_sent_at"])
    return bundle_pack(body=body, to=peer)


# --- import -----------------------------------------------------------------------------

def _incoming(body: dict) -> list[tuple[list, dict | None]]:
    items = body.get("changes")
    if not isinstance(items, list):
        raise BundleMalformed()
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("row"), list) or len(
                item["row"]) != len(LedgerRow._fields):
            raise BundleMalformed()
        change = item.get("change")
        if change is not None and not isinstance(change, dict):
            raise BundleMalformed()
        out.append((item["row"], change))
    return out


def _change_from(row: list, data: dict, now: dt.datetime) -> Change:
    """The ``Change`` a received row and change describe, checked against each other (the
    row's payload seals the change: a change that does not match its row is refused)."""
    stream, seq = row[0], int(row[1])
    if not isinstance(data.get("fields"), dict):
        raise BundleMalformed()
    try:
        payload = json.loads(row[6])
        change = Change(id=uuid.UUID(data["id"]), node=stream[len(PREFIX):], seq=seq,
                        record_type=data["record_type"],
                        record_id=uuid.UUID(data["record_id"]), op=data["op"],
                        base=uuid.UUID(data["base"]) if data["base"] else None,
                        fields=data["fields"],
                        actor=data.get("actor") or "", site=data.get("site") or "",
                        made_at=data.get("made_at") or "", received_at=now,
                        state=ChangeState.WAITING)
        sealed = (payload["id"] == data["id"] and payload["record_type"] == data["record_type"]
                  and payload["record_id"] == data["record_id"] and payload["op"] == data["op"]
                  and (payload["base"] or None) == (data["base"] or None)
                  and payload["made_at"] == change.made_at
                  and payload["fields"] == fields_digest(data["fields"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BundleMalformed() from None
    if not sealed or not stream.startswith(PREFIX):
        raise BundleTampered(_("A change in the bundle does not match its sealed ledger "
                               "entry (%(stream)s #%(seq)s). Nothing was applied.")
                             % {"stream": stream, "seq": seq})
    return change


class _Applier:
    """Applies the waiting changes, in order, as far as they go (one import)."""

    def __init__(self, me: Node, result: ImportResult) -> None:
        self.me = me
        self.result = result
        self.heads: dict[tuple[str, str], str | None] = {}
        self.states: dict[str, str] = {}  # change id → state, of the changes looked at
        self.final: dict[str, str] = {}  # change id → its new state (written at the end)
        self.changes: dict[str, Change] = {}  # the changes of this pass, by id
        self.moved: dict[tuple[str, str], str] = {}
        self.users: dict[str, Any] = {}
        self.now = timezone.now()
        self.last_call: tuple[str, str] | None = None  # (node, made_at) of the last applied
        self.resolved_by: dict[str, Change] = {}

    # ... heads and states, read in batches and refreshed where the record may have moved
    def preload(self, pending: list[Change]) -> None:
        keys = {(c.record_type, str(c.record_id)) for c in pending}
        by_type: dict[str, list[str]] = {}
        for t, r in keys:
            by_type.setdefault(t, []).append(r)
        self.heads = dict.fromkeys(keys)
        for t, ids in by_type.items():
            for chunk in _chunks(ids):
                for rid, head in RecordHead.objects.filter(
                        record_type=t, record_id__in=chunk).values_list("record_id", "change"):
                    self.heads[(t, str(rid))] = str(head)
        for c in pending:
            self.changes[str(c.id)] = c
            self.states[str(c.id)] = c.state
        bases = list({str(c.base) for c in pending if c.base} - set(self.states))
        for chunk in _chunks(bases):
            for cid, state in Change.objects.filter(id__in=chunk).values_list("id", "state"):
                self.states[str(cid)] = state
        names = list({c.actor for c in pending if c.actor})
        for chunk in _chunks(names):
            for user in User.objects.filter(username__in=chunk):
                self.users[user.username] = user

    def head_fresh(self, key: tuple[str, str]) -> str | None:
        """The record's head as stored now (an applier's service may have moved it)."""
        head = RecordHead.objects.filter(record_type=key[0], record_id=key[1]).values_list(
            "change", flat=True).first()
        self.heads[key] = str(head) if head else None
        return self.heads[key]

    def change_get(self, cid: str) -> Change | None:
        if cid not in self.changes:
            found = Change.objects.filter(id=cid).first()
            if found is None:
                return None
            self.changes[cid] = found
        return self.changes[cid]

    # ... deciding one change
    def run(self, pending: list[Change]) -> None:
        self.preload(pending)
        # the changes a decision in this import settles: one that arrives with (or after) its
        # decision, at a node that saw neither side before (a third post), is decided already
        self.resolved_by = {}
        for c in pending:
            resolves = c.fields.get(RESOLVES) if isinstance(c.fields, dict) else None
            for rid in resolves or ():
                self.resolved_by.setdefault(str(rid), c)
        while pending:
            still = [c for c in pending if not self.step(c)]
            if len(still) == len(pending):
                break
            pending = still
        self.result.waiting = len(pending)

    def step(self, c: Change) -> bool:
        """Apply, keep in conflict or settle ``c``; False when it must wait."""
        key = (c.record_type, str(c.record_id))
        base = str(c.base) if c.base else None
        resolves = c.fields.get(RESOLVES) if isinstance(c.fields, dict) else None
        head = self.heads.get(key)
        if head != base or (c.node, c.made_at) == self.last_call:
            # the head may have moved since it was read: an applier's service touched the
            # record replaying a change made in the same call
            head = self.head_fresh(key)
        if resolves and head is not None and head != base:
            if head in resolves:
                return self.apply(c, key, resolves)
            head_change = self.change_get(head)
            theirs = (head_change.fields.get(RESOLVES) if head_change is not None
                      and isinstance(head_change.fields, dict) else None)
            if head_change is not None and theirs and set(theirs) & set(resolves):
                # both sides decided the same conflict: headquarters' decision wins, else
                # the later one (the same answer on every node)
                if _rank(c) > _rank(head_change):
                    return self.apply(c, key, resolves)
                self.settle(resolves, c)
                self.final[str(c.id)] = ChangeState.DECIDED
                self.states[str(c.id)] = ChangeState.DECIDED
                return True
        if c.op == ChangeOp.CREATE:
            if head is None:
                return self.apply(c, key, resolves)
            if self.sibling(c, head):
                return True
            return self.conflict(c, key, ConflictKind.VERSION, head, "")
        if head == base:
            return self.apply(c, key, resolves)
        if head is not None and self.sibling(c, head):
            return True
        state = self.states.get(base) if base else None
        if base and state is None and base not in self.states:
            found = Change.objects.filter(id=base).values_list("state", flat=True).first()
            if found is not None:
                self.states[base] = state = found
        if base and (state is None or state == ChangeState.WAITING):
            return False  # its base has not arrived (or waits itself)
        return self.conflict(c, key, ConflictKind.VERSION, head, "")

    def sibling(self, c: Change, head: str) -> bool:
        """``c`` was made in the same call as the change now at the record's head (one
        service call capturing several records): replaying that change made ``c`` too."""
        h = self.change_get(head)
        if (h is None or h.node != c.node or h.made_at != c.made_at or h.seq >= c.seq
                or self.states.get(head, h.state) != ChangeState.APPLIED):
            return False
        key = (c.record_type, str(c.record_id))
        self.done(c, key)
        return True

    def done(self, c: Change, key: tuple[str, str]) -> None:
        cid = str(c.id)
        self.heads[key] = cid
        self.moved[key] = cid
        self.states[cid] = ChangeState.APPLIED
        self.final[cid] = ChangeState.APPLIED
        self.result.applied += 1

    def apply(self, c: Change, key: tuple[str, str], resolves) -> bool:
        applier = change_applier(c)
        if applier is None:
            return self.conflict(c, key, ConflictKind.REFUSED, self.heads.get(key),
                                 f"no applier here for {c.record_type} {c.op}")
        actor = self.users.get(c.actor)
        if actor is None and c.actor:
            return self.conflict(c, key, ConflictKind.REFUSED, self.heads.get(key),
                                 f"user {c.actor} is not known here")
        try:
            with transaction.atomic(), change_applying(c):
                applier(c, actor)
        except UniqueBroken as exc:
            return self.conflict(c, key, ConflictKind.UNIQUE, self.heads.get(key),
                                 _english(exc))
        except MawaError as exc:
            return self.conflict(c, key, ConflictKind.REFUSED, self.heads.get(key),
                                 _english(exc))
        except ObjectDoesNotExist as exc:
            # it refers to a record this node does not hold (a shelter, a store of another
            # site): for a person to see, never an import that stops every stream
            return self.conflict(c, key, ConflictKind.REFUSED, self.heads.get(key),
                                 f"refers to a record not held here: {exc}"[:300])
        except IntegrityError as exc:
            # a rule of the database the applier did not check first: for a person to see,
            # not a stalled stream
            return self.conflict(c, key, ConflictKind.REFUSED, self.heads.get(key),
                                 f"refused by the database: {exc}"[:300])
        self.last_call = (c.node, c.made_at)
        self.done(c, key)
        if resolves:
            self.settle(resolves, c)
        return True

    def conflict(self, c: Change, key, kind: str, head: str | None, message: str) -> bool:
        cid = str(c.id)
        by = self.resolved_by.get(cid) if kind == ConflictKind.VERSION else None
        if by is not None and self.states.get(str(by.id)) == ChangeState.APPLIED:
            # its decision came first in this import: kept on the record as decided there
            SyncConflict.objects.create(change_id=cid, kind=kind, current=head, message=message,
                                        decided_at=self.now, decided_by=by.actor[:150],
                                        decision=f"remote:{by.node}")
            self.states[cid] = ChangeState.DECIDED
            self.final[cid] = ChangeState.DECIDED
            self.result.decided += 1
            return True
        SyncConflict.objects.create(change_id=cid, kind=kind, current=head, message=message)
        self.states[cid] = ChangeState.CONFLICT
        self.final[cid] = ChangeState.CONFLICT
        self.result.conflicts += 1
        return True

    def settle(self, resolves: list, by: Change) -> None:
        """Mark the open conflicts between the changes ``resolves`` names decided."""
        open_ = SyncConflict.objects.filter(decided_at__isnull=True).filter(
            Q(change_id__in=resolves) | Q(current__in=resolves))
        ids = [str(i) for i in open_.values_list("change_id", flat=True)]
        if not ids:
            return
        self.result.decided += open_.update(decided_at=self.now, decided_by=by.actor[:150],
                                            decision=f"remote:{by.node}")
        for cid in ids:
            if self.final.get(cid, ChangeState.CONFLICT) == ChangeState.CONFLICT:
                self.final[cid] = ChangeState.DECIDED
                self.states[cid] = ChangeState.DECIDED

    def finish(self) -> None:
        by_state: dict[str, list[str]] = {}
        for cid, state in self.final.items():
            by_state.setdefault(state, []).append(cid)
        for state, ids in by_state.items():
            for chunk in _chunks(ids):
                Change.objects.filter(id__in=chunk).update(state=state)
        _heads_write(self.moved)


def _rank(c: Change) -> tuple[bool, str]:
    return (c.node == "HQ", str(c.id))


def _heads_write(moved: dict[tuple[str, str], str]) -> None:
    """Point each record's head at its change, where the applier's service did not."""
    by_type: dict[str, list[str]] = {}
    for t, r in moved:
        by_type.setdefault(t, []).append(r)
    stored: dict[tuple[str, str], str] = {}
    for t, ids in by_type.items():
        for chunk in _chunks(ids):
            for rid, head in RecordHead.objects.filter(
                    record_type=t, record_id__in=chunk).values_list("record_id", "change"):
                stored[(t, str(rid))] = str(head)
    RecordHead.objects.bulk_create(
        [RecordHead(record_type=t, record_id=r, change=c) for (t, r), c in moved.items()
         if (t, r) not in stored], batch_size=2000)
    for (t, r), c in moved.items():
        if (t, r) in stored and stored[(t, r)] != c:
            RecordHead.objects.filter(record_type=t, record_id=r).update(change=c)


def _checkpoints_store(me: Node, sender: Node, body: dict) -> None:
    """Keep the origins' checkpoints of their streams held here, and the sender's witnesses
    of this node's own stream (also in the witness file ``mawa verify`` reads)."""
    given = body.get("checkpoints") or []
    witnesses = body.get("witnesses") or []
    if not isinstance(given, list) or not isinstance(witnesses, list):
        raise BundleMalformed()
    publics = {core_keys.key_id_of(bytes.fromhex(pk)): (code, pk) for code, pk in
               Node.objects.exclude(public_key="").values_list("code", "public_key")}
    own_stream = changes_stream(me.code)
    keep: list[Checkpoint] = []
    witnessed: list[dict] = []
    for cp in [*given, *witnesses]:
        try:
            stream, seq, key_id = cp["stream"], int(cp["seq"]), cp["key_id"]
            signer = publics.get(key_id)
            if signer is None:
                continue  # a node this installation does not know (yet): not kept
            code, public = signer
            message = checkpoint_message(stream, seq, cp["head_hash"], cp["ts"], cp["site"],
                                         key_id)
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
                bytes.fromhex(cp["signature"]), message)
        except (KeyError, TypeError, ValueError, InvalidSignature):
            raise BundleTampered(_("A checkpoint in the bundle does not hold. Nothing was "
                                   "applied.")) from None
        is_witness = stream == own_stream and code == sender.code
        if not is_witness and stream != changes_stream(cp["site"]):
            continue  # only an origin's checkpoints of its own stream travel
        held = LedgerEntry.objects.filter(stream=stream, seq=seq).values_list(
            "entry_hash", flat=True).first()
        if held is None:
            continue
        if held != cp["head_hash"] and not is_witness:
            raise ChainRefused(_("Node %(node)s signed entry %(seq)s of stream %(stream)s with "
                                 "another hash than the one held here.")
                               % {"node": code, "seq": seq, "stream": stream})
        if Checkpoint.objects.filter(stream=stream, seq=seq, key_id=key_id,
                                     signature=cp["signature"]).exists():
            continue
        keep.append(Checkpoint(stream=stream, seq=seq, head_hash=cp["head_hash"], ts=cp["ts"],
                               site=cp["site"], key_id=key_id, signature=cp["signature"]))
        if is_witness:
            witnessed.append(_checkpoint_dict(keep[-1]))
    Checkpoint.objects.bulk_create(keep)
    if witnessed:
        transaction.on_commit(lambda: witnesses_keep(witnessed))


def sync_import(data: bytes) -> ImportResult:
    """Check a bundle whole, then apply it in one transaction (see the module docstring).
    A refused bundle raises ``BundleRefused`` (or ``ChainRefused``) and nothing is applied."""
    opened = bundle_open(data)
    sender, body = opened.sender, opened.body
    me = node_self()
    items = _incoming(body)
    have = body.get("have")
    if not isinstance(have, dict):
        raise BundleMalformed()
    result = ImportResult(sender=sender.code)
    now = timezone.now()
    with transaction.atomic():
        reference = body.get("reference")
        if reference and sender.role == NodeRole.HQ and _reference is not None:
            _reference.reference_apply(reference)
        _site_keys_ensure()
        held = ledger_rows_import([row for row, _change in items])
        incoming: list[Change] = []
        for row, data_ in items:
            if data_ is None or int(row[1]) > held.get(row[0], 0):
                continue  # beyond a gap: it comes again
            if row[0] == changes_stream(me.code):
                continue  # this node's own changes never come back as new
            incoming.append(_change_from(row, data_, now))
        known: set[str] = set()
        for chunk in _chunks([c.id for c in incoming]):
            known |= {str(i) for i in Change.objects.filter(id__in=chunk).values_list(
                "id", flat=True)}
        new = [c for c in incoming if str(c.id) not in known]
        result.present = len(incoming) - len(new)
        Change.objects.bulk_create(new, batch_size=1000)
        fresh = {str(c.id) for c in new}
        older = [i for i in Change.objects.filter(state=ChangeState.WAITING).values_list(
            "id", flat=True) if str(i) not in fresh]
        pending = list(new)
        for chunk in _chunks(older):
            pending += list(Change.objects.filter(id__in=chunk))
        pending.sort(key=lambda c: (c.node, c.seq))
        applier = _Applier(me, result)
        applier.run(pending)
        applier.finish()
        _checkpoints_store(me, sender, body)
        PeerState.objects.update_or_create(node=sender, defaults={
            "have": {str(k): int(v) for k, v in have.items()}, "last_received_at": now})
    return result


# --- status -----------------------------------------------------------------------------

def sync_status() -> SyncStatus:
    """Where this node stands with each peer: last contact, changes pending each way, changes
    waiting for earlier ones, conflicts open."""
    me = node_self()
    held = _held()
    status = SyncStatus(
        node=me.code,
        waiting=Change.objects.filter(state=ChangeState.WAITING).count(),
        conflicts_open=SyncConflict.objects.filter(decided_at__isnull=True).count())
    states = {s.node_id: s for s in PeerState.objects.all()}
    for peer in Node.objects.filter(is_self=False, is_active=True).order_by("code"):
        state = states.get(peer.pk)
        has = {str(k): int(v or 0) for k, v in ((state.have if state else None) or {}).items()}
        out = sum(max(0, top - has.get(origin, 0)) for origin, top in held.items()
                  if origin != peer.code)
        incoming = sum(max(0, seq - held.get(origin, 0)) for origin, seq in has.items()
                       if origin != me.code)
        status.peers.append(PeerStatus(
            code=peer.code, role=peer.role,
            last_received_at=state.last_received_at if state else None,
            last_sent_at=state.last_sent_at if state else None,
            pending_out=out, pending_in=incoming))
    return status


# --- deciding a conflict ------------------------------------------------------------------

def conflict_decide(*, actor, conflict, choice: str) -> Change:
    """A person's decision on a conflict: ``"incoming"`` takes the change that came (replayed
    through its applier as the user who made it), ``"current"`` keeps the version held here.
    Returns the change that settles it: for a change on another version, a new change made
    here carrying ``_resolves`` (sent to the other side, which applies it without a new
    conflict); for a change refused here, the change itself (``incoming``: applied now, as it
    came) or nothing new (``current``: the change stays unapplied, and the conflict's change
    is returned)."""
    if choice not in ("incoming", "current"):
        raise MawaError(_("Choose the incoming or the current version."), code="invalid")
    conflict_id = getattr(conflict, "pk", conflict)
    with transaction.atomic():
        found = SyncConflict.objects.select_for_update().filter(pk=conflict_id).first()
        if found is None:
            raise NotFound()
        change = Change.objects.get(pk=found.change_id)
        site = Site.objects.filter(code=change.site).first()
        require(actor, getattr(Perm, "SYNC_DECIDE", Perm.SITE_MANAGE), site)
        if found.decided_at is not None:
            raise Conflict(_("This conflict was decided already."))
        head = RecordHead.objects.filter(record_type=change.record_type,
                                         record_id=change.record_id).values_list(
            "change", flat=True).first()
        ids = [str(change.id), *([str(head)] if head else []),
               *([str(found.current)] if found.current and found.current != head else [])]
        site_code = change.site if site is None else site
        # the change is replayed as the user who made it (as on import); who decided is
        # recorded on the conflict
        maker = User.objects.filter(username=change.actor).first() if change.actor else None
        maker = maker or actor
        result: Change
        if found.kind != ConflictKind.VERSION:
            if choice == "incoming":
                applier = change_applier(change)
                if applier is None:
                    raise Conflict(_("This installation cannot apply changes of this kind."))
                change.state = ChangeState.DECIDED  # appliers let a decided change through
                with transaction.atomic(), change_applying(change):
                    applier(change, maker)
                moved = {(change.record_type, str(change.record_id)): str(change.id)}
                _heads_write(moved)
                change.state = ChangeState.APPLIED
            else:
                change.state = ChangeState.DECIDED
            change.save(update_fields=["state"])
            result = change
        else:
            made_before = Change.objects.filter(node=node_self().code).order_by(
                "-seq").values_list("seq", flat=True).first() or 0
            made: Change | None = None
            if choice == "incoming":
                applier = change_applier(change)
                if applier is None:
                    raise Conflict(_("This installation cannot apply changes of this kind."))
                change.state = ChangeState.DECIDED  # appliers let a decided change through
                with change_resolving(ids):
                    applier(change, maker)
                made = Change.objects.filter(
                    node=node_self().code, seq__gt=made_before, record_type=change.record_type,
                    record_id=change.record_id).order_by("-seq").first()
                again = {k: v for k, v in change.fields.items() if k != RESOLVES}
                op = change.op
            else:
                current = Change.objects.filter(pk=head).first() if head else None
                again = {k: v for k, v in (current.fields if current else {}).items()
                         if k != RESOLVES}
                op = current.op if current else ChangeOp.UPDATE
            if made is None:
                # nothing changed here (the values are already these): the decision still
                # travels, as a change re-asserting them
                with change_resolving(ids):
                    made = change_record(record_type=change.record_type,
                                         record_id=change.record_id, op=op, fields=again,
                                         actor=actor, site=site_code)
            assert made is not None
            change.state = ChangeState.DECIDED
            change.save(update_fields=["state"])
            result = made
        found.decided_at = timezone.now()
        found.decided_by = getattr(actor, "username", "")[:150]
        found.decision = choice
        found.save(update_fields=["decided_at", "decided_by", "decision"])
    return result
