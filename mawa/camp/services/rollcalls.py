"""Roll calls: scanned or counted, reconciled against who should be there, discrepancies
resolved with a reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.models import (
    Assignment,
    Block,
    RollCall,
    RollCallCount,
    RollCallLine,
    RollCallMode,
    RollCallScan,
    RollCallStatus,
    Shelter,
)
from mawa.camp.selectors import rollcall_expected_ids, rollcall_reconcile
from mawa.camp.services._common import (
    ROLLCALL,
    _capture,
    _code,
    _created_at,
    _log,
    _raise,
    _text,
    _when,
)
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.ids import client_key_parse, short_code_normalise
from mawa.reception.models import Person


def rollcall_start(*, actor, block: Block, client_key, mode: str = RollCallMode.SCAN,
                   shelter: Shelter | None = None, day: dt.date | None = None,
                   record_id=None, code: str = "", at=None, created=None) -> RollCall:
    """Open a roll call of a block (or one shelter). Refused for a block nobody is housed in:
    there would be nothing to reconcile.

    ``record_id``, ``code``, ``at`` (started) and ``created``: the origin's, when a change
    from another node is replayed (``mawa.camp.replay``); minted here otherwise."""
    key = client_key_parse(client_key)
    site = block.site
    access.require(actor, Perm.CAMP_OPERATE, site)
    existing = RollCall.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    if mode not in RollCallMode.values:
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={"mode": [_("Choose a method from the list.")]})
    if shelter is not None and shelter.block_id != block.id:
        raise NotFound()
    housed = Assignment.objects.filter(block=block, end_at__isnull=True)
    if shelter is not None:
        housed = housed.filter(shelter=shelter)
    if not housed.exists():
        raise Conflict(_("Nobody is housed in %(where)s: there is nobody to count.")
                       % {"where": shelter.name if shelter else block.name},
                       code="nobody_housed")
    with transaction.atomic():
        now = _when(at)
        roll_call = RollCall(
            site=site, short_code=_code(site, code), client_key=key, block=block,
            shelter=shelter, mode=mode, day=day or timezone.localdate(), started_at=now,
            taken_by=actor)
        if record_id is not None:
            roll_call.id = record_id
        roll_call.save(force_insert=True)
        if created is not None:
            roll_call.created_at = _when(created)
            _created_at(RollCall, roll_call.pk, roll_call.created_at)
        _log(actor=actor, site=site, kind="rollcall.started",
             payload={"roll_call": roll_call.id, "block": block.id, "mode": mode})
        _capture([ChangeItem(ROLLCALL, roll_call.pk, ChangeOp.CREATE, {
            "block": block.pk, "shelter": shelter.pk if shelter else None, "client_key": key,
            "mode": mode, "day": roll_call.day, "code": roll_call.short_code, "at": now,
            "created": roll_call.created_at})], actor=actor, site=site)
    return roll_call


@dataclass
class ScanResult:
    person: Person
    expected: bool
    repeated: bool
    message: str


def rollcall_scan(*, actor, roll_call: RollCall, code: str) -> ScanResult:
    """Record one ID card scanned or typed at a roll call. The answer says at once whether
    the person belongs here (green) or not (amber), so the counter can act on the spot."""
    access.require(actor, Perm.CAMP_OPERATE, roll_call.site)
    if roll_call.status != RollCallStatus.OPEN:
        raise Conflict(_("This roll call is closed."), code="rollcall_closed")
    normal = short_code_normalise(code or "")
    if normal is None:
        raise ValidationFailed(_("“%(code)s” is not a valid ID code (check the last "
                                 "character).") % {"code": (code or "")[:30]},
                               code="bad_code", fields={"code": [_("Not a valid ID code.")]})
    person = Person.objects.filter(short_code=normal).first()
    if person is None:
        raise NotFound(_("No person has the code %(code)s.") % {"code": normal})
    with transaction.atomic():
        _obj, created = RollCallScan.objects.get_or_create(
            roll_call=roll_call, person=person, defaults={"at": timezone.now()})
    expected = person.id in rollcall_expected_ids(roll_call)
    if not created:
        message = _("%(code)s was already counted.") % {"code": person.short_code}
    elif expected:
        message = _("%(code)s present.") % {"code": person.short_code}
    else:
        message = _("%(code)s is not expected here.") % {"code": person.short_code}
    return ScanResult(person, expected, not created, str(message))


def rollcall_count(*, actor, roll_call: RollCall, counts: dict) -> None:
    """Record head counts per shelter (``{shelter id: number}``) for a count-mode roll call."""
    access.require(actor, Perm.CAMP_OPERATE, roll_call.site)
    if roll_call.status != RollCallStatus.OPEN:
        raise Conflict(_("This roll call is closed."), code="rollcall_closed")
    shelters = {s.id: s for s in Shelter.objects.filter(block=roll_call.block_id)}
    errors: dict = {}
    # a shelter is named by its id (the page posts ``count_<id>``): one that is not an id is
    # refused on its field, one of another block is not found
    parsed = {client_key_parse(shelter_id, f"count_{shelter_id}"): value
              for shelter_id, value in counts.items()}
    for shelter_id, value in parsed.items():
        shelter = shelters.get(shelter_id)
        if shelter is None:
            raise NotFound()
        if value is None or int(value) < 0 or int(value) > 100000:
            errors.setdefault(f"count_{shelter.id}", []).append(
                _("A head count is a whole number, 0 or more."))
    _raise(errors)
    with transaction.atomic():
        for shelter_id, value in parsed.items():
            RollCallCount.objects.update_or_create(roll_call=roll_call, shelter_id=shelter_id,
                                                   defaults={"counted": int(value)})


def _marks_write(roll_call: RollCall, marks: dict) -> None:
    """The marks of a roll call as its origin took them (a replay): scans with their times,
    head counts per shelter. Those already here are kept."""
    RollCallScan.objects.bulk_create(
        [RollCallScan(roll_call=roll_call, person_id=pid, at=_when(at))
         for pid, at in marks.get("scans", [])], batch_size=1000, ignore_conflicts=True)
    for shelter_id, counted in marks.get("counts", {}).items():
        RollCallCount.objects.update_or_create(roll_call=roll_call, shelter_id=shelter_id,
                                               defaults={"counted": int(counted)})


def rollcall_close(*, actor, roll_call: RollCall, marks: dict | None = None,
                   at=None) -> RollCall:
    """Close a roll call and reconcile it against who should be there (housed minus out).
    Findings (missing, unexpected, counts that differ) are stored; a discrepancy stays open
    until resolved with a reason.

    The marks (scans and head counts) travel to other nodes with the close, in one change:
    replaying it, ``marks`` and ``at`` are the origin's."""
    access.require(actor, Perm.CAMP_OPERATE, roll_call.site)
    with transaction.atomic():
        locked = RollCall.objects.select_for_update().get(pk=roll_call.pk)
        if locked.status != RollCallStatus.OPEN:
            return locked  # a double submission closes once
        if marks is not None:
            _marks_write(locked, marks)
        if locked.mode == RollCallMode.COUNT and not locked.counts.exists():
            raise ValidationFailed(_("Enter at least one head count before closing."),
                                   code="no_counts")
        if locked.mode == RollCallMode.SCAN and not locked.scans.exists():
            raise ValidationFailed(_("Scan at least one ID card before closing."),
                                   code="no_scans")
        result = rollcall_reconcile(locked)
        lines = [RollCallLine(roll_call=locked, finding=RollCallLine.Finding.MISSING,
                              person_id=pid) for pid in result.missing_ids]
        lines += [RollCallLine(roll_call=locked, finding=RollCallLine.Finding.UNEXPECTED,
                               person_id=pid) for pid in result.unexpected_ids]
        for shelter_id, (expected, counted) in result.shelter_counts.items():
            RollCallCount.objects.filter(roll_call=locked, shelter_id=shelter_id).update(
                expected=expected)
            if expected != counted:
                lines.append(RollCallLine(roll_call=locked, finding=RollCallLine.Finding.COUNT,
                                          shelter_id=shelter_id, difference=counted - expected))
        RollCallLine.objects.bulk_create(lines)
        locked.expected = result.expected
        locked.present = result.present
        locked.missing = result.missing
        locked.unexpected = result.unexpected
        locked.closed_at = _when(at)
        locked.status = RollCallStatus.DISCREPANCY if result.discrepancy \
            else RollCallStatus.BALANCED
        locked.save(update_fields=["expected", "present", "missing", "unexpected",
                                   "closed_at", "status"])
        _log(actor=actor, site=locked.site, kind="rollcall.closed",
             payload={"roll_call": locked.id, "expected": result.expected,
                      "present": result.present, "missing": result.missing,
                      "unexpected": result.unexpected, "status": locked.status})
        _capture([ChangeItem(ROLLCALL, locked.pk, ChangeOp.ACTION, {
            "action": "close", "at": locked.closed_at,
            "scans": [[pid, t] for pid, t in RollCallScan.objects.filter(roll_call=locked)
                      .order_by("at", "person_id").values_list("person_id", "at")],
            "counts": {str(sid): n for sid, n in RollCallCount.objects.filter(
                roll_call=locked).values_list("shelter_id", "counted")}})],
            actor=actor, site=locked.site)
    return locked


def rollcall_resolve(*, actor, roll_call: RollCall, reason: str, at=None) -> RollCall:
    """Close a discrepancy with the reason it arose (e.g. "found in the clinic"). ``at``:
    the origin's time on a replay."""
    access.require(actor, Perm.CAMP_OPERATE, roll_call.site)
    errors: dict = {}
    reason = _text(reason, "reason", errors, limit=2000, required=True)
    _raise(errors)
    with transaction.atomic():
        locked = RollCall.objects.select_for_update().get(pk=roll_call.pk)
        if locked.status != RollCallStatus.DISCREPANCY:
            raise Conflict(_("Only a roll call with a discrepancy can be resolved."),
                           code="nothing_to_resolve")
        locked.status = RollCallStatus.RESOLVED
        locked.resolution = reason
        locked.resolved_at = _when(at)
        locked.resolved_by = actor
        locked.save(update_fields=["status", "resolution", "resolved_at", "resolved_by"])
        _log(actor=actor, site=locked.site, kind="rollcall.resolved",
             payload={"roll_call": locked.id})
        _capture([ChangeItem(ROLLCALL, locked.pk, ChangeOp.ACTION, {
            "action": "resolve", "reason": reason, "at": locked.resolved_at})],
            actor=actor, site=locked.site)
    return locked
