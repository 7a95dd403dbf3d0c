"""The records of field operations (``core.changes``; bundles and sync in ``mawa.sync``).

``Node`` is one installation taking part (headquarters, a post, a post's standby); ``Change``
is one change to a synced record, made here or received from another node, the unit that
travels; ``RecordHead`` is the last change applied to each synced record here (the version an
incoming change must have been made on); ``PeerState`` is what each peer is known to hold;
``SyncConflict`` is a change that could not be applied as it came, waiting for a person.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.fields import EncryptedJSONField
from mawa.core.ids import uuid7


class NodeRole(models.TextChoices):
    HQ = "hq", _("Headquarters")
    POST = "post", _("Crossing post")
    STANDBY = "standby", _("Standby of a post")


class Node(models.Model):
    """An installation of one operation. Exactly one row has ``is_self`` (this installation)
    once the installation is enrolled; a single installation that never synced has none."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # "HQ" for headquarters, the post's site code for a post, e.g. "QAM2" for its standby
    code = models.CharField(_("code"), max_length=12, unique=True)
    role = models.CharField(_("role"), max_length=8, choices=NodeRole.choices)
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    public_key = models.CharField(max_length=64)  # Ed25519, raw, hex
    is_self = models.BooleanField(default=False)
    # the operation's id: bundles of another installation are refused
    installation = models.UUIDField()
    # HQ allows the accountability compartment to travel to this post (default: never)
    compartment_allowed = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["is_self"], condition=models.Q(is_self=True),
                                               name="node_one_self")]

    def __str__(self) -> str:
        return self.code


class ChangeOp(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    VOID = "void", _("voided")
    # a domain action replayed through its service (a lifecycle move, a custody event…):
    # ``fields["action"]`` names it, the rest are its arguments
    ACTION = "action", _("action")


class ChangeState(models.TextChoices):
    APPLIED = "applied", _("Applied")
    WAITING = "waiting", _("Waiting for earlier changes")
    CONFLICT = "conflict", _("Conflict to decide")
    DECIDED = "decided", _("Decided")


class Change(models.Model):
    """One change to a synced record, as made at its origin node.

    Made here: minted by ``core.changes.change_record`` inside the service's transaction, with
    the next ``seq`` of this node's stream and the ledger entry of stream ``changes/<NODE>``
    that seals it (its payload holds the SHA-256 of ``fields``). Received: stored as it came
    (same id, node, seq) when applied, or kept with ``state=conflict`` when it could not be.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    node = models.CharField(max_length=12)  # code of the node where it was made
    seq = models.PositiveBigIntegerField()  # its position in that node's stream
    record_type = models.CharField(max_length=64)  # "reception.person"
    record_id = models.UUIDField()
    op = models.CharField(max_length=8, choices=ChangeOp.choices)
    # the id of the record's change the maker's version came from (None for a create)
    base = models.UUIDField(null=True, blank=True)
    fields = EncryptedJSONField(purpose="sync")
    actor = models.CharField(max_length=150, blank=True)  # username
    site = models.CharField(max_length=5, blank=True)  # site code where it was done
    made_at = models.CharField(max_length=32)  # wall time at the origin: display only
    received_at = models.DateTimeField(null=True, blank=True)  # None when made here
    state = models.CharField(max_length=8, choices=ChangeState.choices,
                             default=ChangeState.APPLIED)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "seq"], name="change_node_seq")]
        indexes = [models.Index(fields=["record_type", "record_id"], name="change_record")]


class RecordHead(models.Model):
    """The last change applied to a synced record on this node."""

    id = models.BigAutoField(primary_key=True)
    record_type = models.CharField(max_length=64)
    record_id = models.UUIDField()
    change = models.UUIDField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "record_id"],
                                               name="recordhead_record")]


class PeerState(models.Model):
    """What a peer node holds, as it last told us (``have``: origin node code → the highest
    seq of that node's stream it holds), and when we last heard from it and sent to it."""

    node = models.OneToOneField(Node, on_delete=models.CASCADE, primary_key=True,
                                related_name="peer_state")
    have = models.JSONField(default=dict)
    last_received_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)


class ConflictKind(models.TextChoices):
    VERSION = "version", _("Changed on both sides")
    UNIQUE = "unique", _("Breaks a rule that must hold once")
    REFUSED = "refused", _("Refused by the rules here")


class SyncConflict(models.Model):
    """A received change that was not applied as it came: both versions are kept and a person
    decides. The stream goes on past it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    change = models.OneToOneField(Change, on_delete=models.PROTECT, related_name="conflict")
    kind = models.CharField(max_length=8, choices=ConflictKind.choices)
    # the record's head here when the change arrived (the other version)
    current = models.UUIDField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)  # English source text
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decision = models.CharField(max_length=16, blank=True)
