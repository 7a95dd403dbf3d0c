"""Reads of the kernel's sites, already checked and scoped (the records are core's, the
decision who may read them is the access policy's, so the reads live here)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from mawa.accounts import access
from mawa.accounts.models import ApiToken, GrantRequest, User
from mawa.accounts.roles import ROLE_PERMISSIONS, Perm
from mawa.core.audit import AUDIT_STREAM, audit, audit_read
from mawa.core.hooks import hook_ask
from mawa.core.models import LedgerEntry, Site


def site_list(*, user):
    access.require(user, Perm.SITE_VIEW)
    return access.sites_for(user)


def site_location_get(*, user, site: Site) -> dict:
    """The restricted location of a site; audited as a sensitive read."""
    access.require(user, Perm.SITE_LOCATION_VIEW, site)
    audit_read(actor=user, obj=site)
    return {"latitude": site.latitude, "longitude": site.longitude, "note": site.location_note}


def users_managed(*, user):
    """The accounts the administrator ``user`` manages, as one query (the same work for an
    account of another site and for none: ``services.user_in_scope`` in SQL)."""
    access.require(user, Perm.USER_MANAGE)
    ids = access.site_ids(user)
    qs = User.objects.all()
    if ids is None:
        return qs
    return qs.filter(all_sites=False).exclude(
        sites__in=Site.objects.exclude(pk__in=list(ids)))


def grants_managed(*, user):
    """The grant requests the administrator ``user`` may see and decide (one query)."""
    access.require(user, Perm.USER_MANAGE)
    ids = access.site_ids(user)
    qs = GrantRequest.objects.all()
    if ids is None:
        return qs
    return qs.filter(all_sites=False, target__in=users_managed(user=user)).exclude(
        sites__in=Site.objects.exclude(pk__in=list(ids)))


def api_tokens_of(*, user):
    """``user``'s own API tokens, newest first, with their sites."""
    return ApiToken.objects.filter(user=user).prefetch_related("sites")


# --- the audit trail, for auditors (issue 21) ------------------------------------------------

AUDIT_PAGE = 100
# roles that work inside the compartment: their actions are its work
_COMPARTMENT_ROLES = [role for role, perms in ROLE_PERMISSIONS.items()
                      if Perm.COMPARTMENT_VIEW in perms]


@dataclass
class AuditRow:
    seq: int
    at: str  # UTC, ISO 8601
    actor: User | None
    actor_id: str
    site: str
    action: str
    model: str
    object_id: str
    outcome: str
    channel: str
    fields: list[str]


def audit_trail(*, user, record: str = "", actor: User | None = None,
                day: dt.date | None = None, page: int = 0,
                limit: int = AUDIT_PAGE) -> tuple[list[AuditRow], bool]:
    """Read the audit trail, newest first: who did what to which record, when, from where
    (never the values). Filters: a record's id or short code (``record``; a code is turned
    into the ids of the records carrying it through ``record.ids_of_code``, answered by the
    apps that own the records), the user who acted, a UTC day; ``page`` counts pages of the
    entries shown (never entry numbers: their gaps would tell how much is not shown).
    Outside the accountability compartment, its work is not listed: neither entries about
    its records nor the actions of those who work in it (which persons an investigator read
    would say whom they look at). The read is itself audited (what was asked, as filter
    names). Returns the rows and whether there are older ones."""
    access.require(user, Perm.AUDIT_VIEW)
    qs = LedgerEntry.objects.filter(stream=AUDIT_STREAM)
    if record:
        ids = [record] if _is_uuid(record) else [
            str(i) for answer in hook_ask("record.ids_of_code", code=record) for i in answer]
        wanted = Q(pk__in=[])
        for oid in ids:
            wanted |= Q(payload__contains=f'"object_id":"{oid}"')
        qs = qs.filter(wanted)
    if actor is not None:
        qs = qs.filter(actor=str(actor.pk))
    if day is not None:
        qs = qs.filter(ts__startswith=day.isoformat())
    if not access.can(user, Perm.COMPARTMENT_VIEW):
        qs = qs.exclude(payload__contains='"model":"accountability.').exclude(
            actor__in=[str(pk) for pk in User.objects.filter(
                role__in=_COMPARTMENT_ROLES).values_list("pk", flat=True)])
    start = max(0, page) * limit
    entries = list(qs.order_by("-seq")[start:start + limit + 1])
    more = len(entries) > limit
    entries = entries[:limit]
    users = {str(u.pk): u for u in User.objects.filter(
        pk__in={e.actor for e in entries if _is_uuid(e.actor)})}
    rows = []
    for e in entries:
        p = json.loads(e.payload)
        rows.append(AuditRow(e.seq, e.ts, users.get(e.actor), e.actor, e.site,
                             p.get("action", ""), p.get("model", ""),
                             p.get("object_id", ""), p.get("outcome", ""),
                             p.get("channel", ""),
                             list((p.get("detail") or {}).get("fields") or [])))
    with transaction.atomic():
        audit(actor=user, action="read", model="core.audit_trail",
              detail={"filters": sorted(k for k, v in (("record", record), ("actor", actor),
                                                        ("day", day), ("page", page))
                                        if v)})
    return rows, more


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
