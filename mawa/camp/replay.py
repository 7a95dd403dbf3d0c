"""Appliers of camp changes made on another node (``core.changes``).

Each applier replays a change through the same service that made it at the origin, with the
origin's ids, short codes and times (``fields`` carries them): roll calls (opened; closed with
their marks; resolved), stays made by an officer (check-in, move, a group housed), movements
out and back, distributions, incidents and their follow-ups. Registered in
``CampConfig.ready()``.

What the camp derives from a person's lifecycle move (``camp_follow_transition``) is not a
change of its own: it is derived again when the move is replayed, with ids derived from the
move's change. A person housed on both sides while apart breaks "one open camp stay":
``core.changes.UniqueBroken``, a review item.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mawa.camp import services
from mawa.camp.models import Block, Incident, ItemType, Movement, RollCall, Shelter
from mawa.camp.services._common import (
    ASSIGNMENT,
    DISTRIBUTION,
    INCIDENT,
    MOVEMENT,
    ROLLCALL,
    _when,
)
from mawa.core.changes import change_applier_register
from mawa.core.changes_models import Change, ChangeOp
from mawa.core.models import Site
from mawa.reception.models import Person


def apply_rollcall_start(change: Change, actor: Any) -> None:
    f = change.fields
    services.rollcall_start(
        actor=actor, block=Block.objects.get(pk=f["block"]), client_key=f["client_key"],
        mode=f["mode"], shelter=Shelter.objects.get(pk=f["shelter"]) if f.get("shelter")
        else None, day=dt.date.fromisoformat(str(f["day"])),
        record_id=change.record_id, code=f["code"], at=f["at"], created=f["created"])


def _rollcall(change: Change) -> RollCall:
    return RollCall.objects.get(pk=change.record_id)


def apply_rollcall_close(change: Change, actor: Any) -> None:
    f = change.fields
    services.rollcall_close(actor=actor, roll_call=_rollcall(change),
                            marks={"scans": f["scans"], "counts": f["counts"]}, at=f["at"])


def apply_rollcall_resolve(change: Change, actor: Any) -> None:
    f = change.fields
    services.rollcall_resolve(actor=actor, roll_call=_rollcall(change), reason=f["reason"],
                              at=f["at"])


def apply_stay(change: Change, actor: Any) -> None:
    f = change.fields
    service = services.assignment_move if f.get("move") else services.assignment_check_in
    service(actor=actor, person=Person.objects.get(pk=f["person"]),
            shelter=Shelter.objects.get(pk=f["shelter"]), client_key=f["client_key"],
            reason=f.get("reason", ""), override_reason=f.get("override", ""),
            record_id=change.record_id, at=f["at"])


def apply_movement_out(change: Change, actor: Any) -> None:
    f = change.fields
    services.movement_out(
        actor=actor, person=Person.objects.get(pk=f["person"]), kind=f["kind"],
        client_key=f["client_key"], site=Site.objects.get(code=f["site"]),
        due_back_at=_when(f["due_back_at"]) if f.get("due_back_at") else None,
        destination=f.get("destination", ""), note=f.get("note", ""),
        record_id=change.record_id, code=f["code"], at=f["at"], created=f["created"])


def apply_movement_return(change: Change, actor: Any) -> None:
    f = change.fields
    services.movement_return(actor=actor, movement=Movement.objects.get(pk=change.record_id),
                             note=f.get("note", ""), at=f["at"])


def apply_distribution(change: Change, actor: Any) -> None:
    f = change.fields
    services.distribution_record(
        actor=actor, item=ItemType.objects.get(pk=f["item"]),
        person=Person.objects.get(pk=f["person"]), client_key=f["client_key"],
        quantity=int(f["quantity"]), at=_when(f["at"]), record_id=change.record_id)


def apply_incident(change: Change, actor: Any) -> None:
    f = change.fields
    services.incident_report(
        actor=actor, site=Site.objects.get(code=f["site"]), client_key=f["client_key"],
        kind=f["kind"], severity=f["severity"], occurred_at=_when(f["occurred_at"]),
        summary=f["summary"], block=Block.objects.get(pk=f["block"]) if f.get("block")
        else None, persons=list(Person.objects.filter(pk__in=f.get("persons", []))),
        record_id=change.record_id, code=f["code"], created=f["created"])


def apply_incident_follow_up(change: Change, actor: Any) -> None:
    f = change.fields
    services.incident_follow_up(actor=actor, incident=Incident.objects.get(pk=change.record_id),
                                note=f["note"], close=bool(f.get("close")), record_id=f["id"],
                                at=f["at"])


def appliers_register() -> None:
    """Register every camp applier (``CampConfig.ready``)."""
    for record_type, op, applier in (
            (ROLLCALL, ChangeOp.CREATE, apply_rollcall_start),
            (ROLLCALL, "action:close", apply_rollcall_close),
            (ROLLCALL, "action:resolve", apply_rollcall_resolve),
            (ASSIGNMENT, ChangeOp.CREATE, apply_stay),
            (MOVEMENT, ChangeOp.CREATE, apply_movement_out),
            (MOVEMENT, "action:return", apply_movement_return),
            (DISTRIBUTION, ChangeOp.CREATE, apply_distribution),
            (INCIDENT, ChangeOp.CREATE, apply_incident),
            (INCIDENT, "action:follow_up", apply_incident_follow_up)):
        change_applier_register(record_type, op, applier)
