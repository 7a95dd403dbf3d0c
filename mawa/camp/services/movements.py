"""Movements out of the camp and back (hospital, court, visit, transfer, release,
repatriation, escape, death), each with its lifecycle move in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.camp.models import (
    TEMPORARY_KINDS,
    Movement,
    MovementKind,
)
from mawa.camp.services._common import _log, _operator, _raise, _text
from mawa.camp.services.assignments import assignment_check_out
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
    MovementKind.ESCAPE: (Status.ESCAPED, None, None),
    MovementKind.DEATH: (Status.DECEASED, None, None),
}


def movement_out(*, actor, person: Person, kind: str, client_key, site: Site,
                 due_back_at: dt.datetime | None = None, destination: str = "", note: str = "",
                 details: dict | None = None) -> Movement:
    """Record a person leaving the camp and move them along the lifecycle in the same
    transaction. Temporary movements (hospital, court, visit) keep the shelter and need a
    due-back time; the others end the stay. ``details`` carries what the lifecycle move
    requires (e.g. the repatriation declaration), see ``reception.lifecycle``."""
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
    now = timezone.now()
    if temporary:
        if due_back_at is None:
            errors.setdefault("due_back_at", []).append(_("When is the person due back?"))
        elif due_back_at <= now:
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
        movement = Movement.objects.create(
            site=site, short_code=short_code_next(site=site), client_key=key, person=locked,
            kind=kind, out_at=now, due_back_at=due_back_at if temporary else None,
            destination=destination, note=note, is_open=temporary, actor=actor)
        if not temporary:
            assignment_check_out(actor=actor, person=locked, reason=kind)
        _log(actor=actor, site=site, kind="movement.out",
             payload={"movement": movement.id, "person": locked.id, "kind": kind,
                      "due_back_at": due_back_at if temporary else None})
    return movement


def movement_return(*, actor, movement: Movement, note: str = "") -> Movement:
    """Record the return of a person who was out (hospital, court, visit)."""
    site = movement.site
    _operator(actor, site, Perm.CAMP_OPERATE, Perm.PROTECTION_ACT)
    with transaction.atomic():
        locked = Movement.objects.select_for_update().get(pk=movement.pk)
        if not locked.is_open:
            raise Conflict(_("This person is already back."), code="already_back")
        _target, _key_name, back = _MOVEMENT_LIFECYCLE[MovementKind(locked.kind)]
        if back is not None:
            person = Person.objects.get(pk=locked.person_id)
            person_transition(actor=actor, person=person, to=back, note=note,
                              expected_status=_target)
        locked.returned_at = timezone.now()
        locked.returned_by = actor
        locked.is_open = False
        locked.save(update_fields=["returned_at", "returned_by", "is_open"])
        _log(actor=actor, site=site, kind="movement.return",
             payload={"movement": locked.id, "person": locked.person_id})
    return locked
