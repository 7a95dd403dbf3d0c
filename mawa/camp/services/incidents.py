"""Incidents and their follow-ups; sensitive kinds are seen by protection officers only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.camp.models import (
    SENSITIVE_INCIDENT_KINDS,
    Block,
    Incident,
    IncidentFollowUp,
    IncidentKind,
    Severity,
)
from mawa.camp.services._common import (
    INCIDENT,
    _camp,
    _capture,
    _code,
    _created_at,
    _log,
    _operator,
    _raise,
    _replaying,
    _text,
    _when,
)
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict
from mawa.core.ids import client_key_parse
from mawa.core.models import Site
from mawa.reception.models import Person


def incident_report(*, actor, site: Site, client_key, kind: str, severity: str,
                    occurred_at: dt.datetime, summary: str, block: Block | None = None,
                    persons: Sequence[Person] = (), record_id=None, code: str = "",
                    created=None) -> Incident:
    """Record an incident. Sensitive types (protection, sexual violence, self-harm) are
    marked so that only protection officers see them (need-to-know). ``record_id``, ``code``
    and ``created``: the origin's when a change from another node is replayed."""
    key = client_key_parse(client_key)
    _camp(site)
    _operator(actor, site, Perm.CAMP_OPERATE, Perm.PROTECTION_ACT)
    existing = Incident.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    errors: dict = {}
    if kind not in IncidentKind.values:
        errors.setdefault("kind", []).append(_("Choose a type from the list."))
    if severity not in Severity.values:
        errors.setdefault("severity", []).append(_("Choose a severity from the list."))
    summary = _text(summary, "summary", errors, limit=8000, required=True)
    if occurred_at is None or (occurred_at > timezone.now() + dt.timedelta(minutes=5)
                               and not _replaying()):
        errors.setdefault("occurred_at", []).append(_("The time cannot be in the future."))
    if block is not None and block.site_id != site.id:
        errors.setdefault("block", []).append(_("Choose a block of this camp."))
    _raise(errors)
    with transaction.atomic():
        incident = Incident.objects.create(
            site=site, short_code=_code(site, code), client_key=key, kind=kind,
            is_sensitive=kind in SENSITIVE_INCIDENT_KINDS, severity=severity,
            occurred_at=occurred_at, block=block, summary=summary, reported_by=actor,
            **({"id": record_id} if record_id is not None else {}))
        if created is not None:
            incident.created_at = _when(created)
            _created_at(Incident, incident.pk, incident.created_at)
        incident.persons.set(persons)
        _log(actor=actor, site=site, kind="incident.reported",
             payload={"incident": incident.id, "kind": kind, "severity": severity,
                      "persons": len(persons)})
        _capture([ChangeItem(INCIDENT, incident.pk, ChangeOp.CREATE, {
            "site": site.code, "client_key": key, "kind": kind, "severity": severity,
            "occurred_at": occurred_at, "summary": summary,
            "block": block.pk if block else None, "persons": [p.pk for p in persons],
            "code": incident.short_code, "created": incident.created_at})],
            actor=actor, site=site)
    return incident


def incident_follow_up(*, actor, incident: Incident, note: str, close: bool = False,
                       record_id=None, at=None) -> IncidentFollowUp:
    """Add a follow-up to an incident, optionally closing it. ``record_id`` and ``at``: the
    origin's when a change from another node is replayed."""
    _operator(actor, incident.site, Perm.CAMP_OPERATE, Perm.PROTECTION_ACT)
    errors: dict = {}
    note = _text(note, "note", errors, limit=8000, required=True)
    _raise(errors)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.is_closed:
            raise Conflict(_("This incident is closed."), code="incident_closed")
        follow = IncidentFollowUp.objects.create(
            incident=locked, at=_when(at), actor=actor, note=note, closes=close,
            **({"id": record_id} if record_id is not None else {}))
        if close:
            locked.is_closed = True
            locked.save(update_fields=["is_closed"])
        _log(actor=actor, site=locked.site, kind="incident.follow_up",
             payload={"incident": locked.id, "closed": close})
        _capture([ChangeItem(INCIDENT, locked.pk, ChangeOp.ACTION, {
            "action": "follow_up", "id": follow.pk, "note": note, "close": close,
            "at": follow.at})], actor=actor, site=locked.site)
    return follow
