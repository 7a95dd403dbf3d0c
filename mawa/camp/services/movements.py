"""Movements out of the camp and back (hospital, court, visit, transfer, release,
repatriation, referral to asylum, escape, death), each with its lifecycle move in the same
transaction.

A camp movement is a lifecycle move, never a second record of where the person is: the
lifecycle (``reception.services.person_transition``) announces every move as
``person.transitioned``, and ``camp_follow_transition`` (registered in ``CampConfig.ready``)
makes the camp follow it in the same transaction, whichever page or service made it. A person
who leaves for good leaves his shelter (his stay ends, and with it the roll-call expectation
and the entitlements), one taken to hospital or to court is out (expected back, not missing at
roll call), one who comes back is in again."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.camp.models import (
    TEMPORARY_KINDS,
    Assignment,
    Movement,
    MovementKind,
)
from mawa.camp.services._common import (
    MOVEMENT,
    _capture,
    _code,
    _created_at,
    _derived_id,
    _log,
    _operator,
    _raise,
    _replaying,
    _text,
    _when,
)
from mawa.camp.services.assignments import assignment_check_out
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict, NotFound
from mawa.core.ids import client_key_parse
from mawa.core.models import Site
from mawa.core.services import short_code_next
from mawa.reception.models import Person, Status
from mawa.reception.services import person_transition

# kind → (lifecycle target when leaving, details key for the destination, lifecycle target on
# return or None). The lifecycle module decides who may make each move and what it requires.
_MOVEMENT_LIFECYCLE = {
    MovementKind.HOSPITAL: (Status.HOSPITALISED, "facility", Status.INTERNED),
    MovementKind.COURT: (Status.DETAINED, "authority", Status.INTERNED),
    MovementKind.VISIT: (None, None, None),
    MovementKind.TRANSFER: (Status.TRANSFERRED, "camp", None),
    MovementKind.RELEASE: (Status.RELEASED, "decision", None),
    MovementKind.REPATRIATION: (Status.REPATRIATED, None, None),
    MovementKind.ASYLUM: (Status.REFERRED_TO_ASYLUM, None, None),
    MovementKind.ESCAPE: (Status.ESCAPED, None, None),
    MovementKind.DEATH: (Status.DECEASED, None, None),
}


def movement_out(*, actor, person: Person, kind: str, client_key, site: Site,
                 due_back_at: dt.datetime | None = None, destination: str = "", note: str = "",
                 details: dict | None = None, record_id=None, code: str = "", at=None,
                 created=None) -> Movement:
    """Record a person leaving the camp and move them along the lifecycle in the same
    transaction. Temporary movements (hospital, court, visit) keep the shelter and need a
    due-back time; the others end the stay. ``details`` carries what the lifecycle move
    requires (e.g. the repatriation declaration), see ``reception.lifecycle``.

    Replaying a change from another node (``record_id``, ``code``, ``at``, ``created`` the
    origin's): the movement only; the lifecycle move travels as its own change, after this
    one, and the camp follows it there as here."""
    key = client_key_parse(client_key)
    existing = Movement.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    _operator(actor, site, Perm.CAMP_OPERATE, Perm.PROTECTION_ACT)
    errors: dict = {}
    if kind not in MovementKind.values:
        errors.setdefault("kind", []).append(_("Choose a kind from the list."))
        _raise(errors)
    destination = _text(destination, "destination", errors, limit=200)
    note = _text(note, "note", errors, limit=4000)
    temporary = kind in TEMPORARY_KINDS
    now = _when(at)
    if temporary:
        if due_back_at is None:
            errors.setdefault("due_back_at", []).append(_("When is the person due back?"))
        elif due_back_at <= now and not _replaying():
            errors.setdefault("due_back_at", []).append(_("The due-back time must be later "
                                                          "than now."))
    _raise(errors)
    target, dest_key, _back = _MOVEMENT_LIFECYCLE[MovementKind(kind)]
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.current_site_id != site.id:
            raise NotFound()
        if Movement.objects.filter(person=locked, is_open=True).exists():
            raise Conflict(_("%(code)s is already out of the camp.")
                           % {"code": locked.short_code}, code="already_out")
        if locked.status != Status.INTERNED:
            raise Conflict(_("%(code)s is “%(status)s”, not interned here.")
                           % {"code": locked.short_code, "status": Status(locked.status).label},
                           code="not_interned")
        # the movement first: the camp's follower of the lifecycle move (below) then finds the
        # person already out and records nothing twice
        movement = Movement.objects.create(
            site=site, short_code=_code(site, code), client_key=key, person=locked,
            kind=kind, out_at=now, due_back_at=due_back_at if temporary else None,
            destination=destination, note=note, is_open=temporary, actor=actor,
            **({"id": record_id} if record_id is not None else {}))
        if created is not None:
            movement.created_at = _when(created)
            _created_at(Movement, movement.pk, movement.created_at)
        # captured before the lifecycle move's own change: a node replaying them in order
        # records the movement first, and the camp's follower of the move finds him out
        _capture([ChangeItem(MOVEMENT, movement.pk, ChangeOp.CREATE, {
            "person": locked.pk, "kind": kind, "client_key": key, "site": site.code,
            "due_back_at": movement.due_back_at, "destination": destination, "note": note,
            "code": movement.short_code, "at": now, "created": movement.created_at})],
            actor=actor, site=site)
        if not _replaying():
            if target is not None:
                lc = dict(details or {})
                if dest_key and destination:
                    lc.setdefault(dest_key, destination)
                if target in (Status.ESCAPED, Status.DECEASED):
                    lc.setdefault("note", note)
                if target == Status.DECEASED:
                    lc.setdefault("date", now.date())
                locked = person_transition(actor=actor, person=locked, to=target, details=lc,
                                           note=note, expected_status=Status.INTERNED)
            if not temporary:
                assignment_check_out(actor=actor, person=locked, reason=kind)
        _log(actor=actor, site=site, kind="movement.out",
             payload={"movement": movement.id, "person": locked.id, "kind": kind,
                      "due_back_at": due_back_at if temporary else None})
    return movement


def movement_return(*, actor, movement: Movement, note: str = "", at=None) -> Movement:
    """Record the return of a person who was out (hospital, court, visit). Replaying a change
    from another node (``at`` the origin's): the return only; the lifecycle move back
    travels as its own change."""
    site = movement.site
    _operator(actor, site, Perm.CAMP_OPERATE, Perm.PROTECTION_ACT)
    with transaction.atomic():
        locked = Movement.objects.select_for_update().get(pk=movement.pk)
        if not locked.is_open:
            raise Conflict(_("This person is already back."), code="already_back")
        _target, _key_name, back = _MOVEMENT_LIFECYCLE[MovementKind(locked.kind)]
        # closed first: the follower of the lifecycle move back then has nothing left to do
        locked.returned_at = _when(at)
        locked.returned_by = actor
        locked.is_open = False
        locked.save(update_fields=["returned_at", "returned_by", "is_open"])
        _capture([ChangeItem(MOVEMENT, locked.pk, ChangeOp.ACTION, {
            "action": "return", "note": note, "at": locked.returned_at})],
            actor=actor, site=site)
        if back is not None and not _replaying():
            person = Person.objects.get(pk=locked.person_id)
            person_transition(actor=actor, person=person, to=back, note=note,
                              expected_status=_target)
        _log(actor=actor, site=site, kind="movement.return",
             payload={"movement": locked.id, "person": locked.person_id})
    return locked


# --- the camp follows the lifecycle ----------------------------------------------------------

#: lifecycle states after which the person no longer lives in the camp he was in
LEAVING = frozenset({Status.TRANSFERRED, Status.RELEASED, Status.REPATRIATED,
                     Status.REFERRED_TO_ASYLUM, Status.ESCAPED, Status.DECEASED,
                     Status.REFERRED_OUT, Status.MERGED})
#: lifecycle states in which the person is out of the camp but expected back: he keeps his
#: place in the shelter, roll calls do not count him missing
OUT_KINDS: dict[str, str] = {Status.HOSPITALISED: MovementKind.HOSPITAL,
                             Status.DETAINED: MovementKind.COURT}


def camp_follow_transition(*, persons, source: str, target: str, actor, recorded=None,
                           at=None, **kw) -> None:
    """Listener of ``person.transitioned`` (reception): the camp agrees with the lifecycle, in
    the caller's transaction, for any number of persons at once.

    - to a state that leaves the camp (transfer, release, repatriation, asylum, escape, death,
      separation, or a state the camp does not know, such as a merge): the open stay ends and
      an open movement (hospital, court) is closed;
    - to hospital or judicial detention: a temporary movement is opened for the housed persons
      who are not out yet (``movement_out`` opens its own first);
    - back to interned from hospital or detention: the open movement is closed (returned).
    """
    ids = [p.id for p in persons]
    if not ids:
        return
    at = at or timezone.now()
    if target in LEAVING or target not in Status.values:
        _leave(ids, reason=str(target), actor=actor, at=at)
    elif target in OUT_KINDS:
        _go_out(ids, kind=OUT_KINDS[target], actor=actor, at=at, recorded=recorded or {})
    elif target == Status.INTERNED and source in OUT_KINDS:
        for start in range(0, len(ids), 900):
            Movement.objects.filter(person_id__in=ids[start:start + 900], is_open=True) \
                .update(is_open=False, returned_at=at, returned_by=actor)


def _leave(ids: list, *, reason: str, actor, at) -> None:
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        # an open hospital or court movement ends with the stay (death in hospital): from
        # then on he is not "out and expected back"
        Movement.objects.filter(person_id__in=chunk, is_open=True).update(is_open=False,
                                                                           returned_at=at)
        stays = list(Assignment.objects.filter(person_id__in=chunk, end_at__isnull=True)
                     .select_related("site"))
        if not stays:
            continue
        Assignment.objects.filter(id__in=[s.id for s in stays]).update(
            end_at=at, end_reason=reason[:200], checked_out_by=actor)
        for stay in stays:
            _log(actor=actor, site=stay.site, kind="assignment.check_out",
                 payload={"assignment": stay.id, "person": stay.person_id,
                          "reason": reason[:200]})


def _go_out(ids: list, *, kind: str, actor, at, recorded: dict) -> None:
    out = set(Movement.objects.filter(person_id__in=ids, is_open=True)
              .values_list("person_id", flat=True))
    stays = Assignment.objects.filter(person_id__in=ids, end_at__isnull=True) \
        .exclude(person_id__in=out).select_related("site")
    destination = str(recorded.get("facility") or recorded.get("authority") or "")[:200]
    for stay in stays:
        # derived again when the lifecycle move is replayed on another node: the same id
        derived = _derived_id(f"movement/{stay.person_id}")
        movement = Movement.objects.create(
            site=stay.site, short_code=short_code_next(site=stay.site),
            client_key=derived or uuid.uuid4(), person_id=stay.person_id, kind=kind, out_at=at,
            destination=destination, is_open=True, actor=actor,
            **({"id": derived} if derived is not None else {}))
        _log(actor=actor, site=stay.site, kind="movement.out",
             payload={"movement": movement.id, "person": stay.person_id, "kind": kind,
                      "due_back_at": None})
