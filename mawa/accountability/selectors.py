"""Reads of the compartment, already checked and scoped.

Every function starts with ``access.require(user, Perm.COMPARTMENT_VIEW)`` (or
``get_for_user``): to anyone else the compartment answers NotFound, the same as a record that
does not exist. Reading an event or an evidence item is audited inside the read's transaction
(protection.md R5), so a failed audit write fails the read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accountability.models import (
    Act,
    ActItem,
    BreakGlassGrant,
    Event,
    EvidenceItem,
    Information,
    Involvement,
    Referral,
    Source,
)
from mawa.accounts import access
from mawa.accounts.models import User
from mawa.accounts.roles import Perm, Role
from mawa.core.audit import audit
from mawa.core.models import LedgerEntry


def break_glass_active(*, user) -> BreakGlassGrant | None:
    """The administrator's open, unexpired break-glass grant, if any (asked by
    ``access.permissions_of``; no permission check here, or it would recurse)."""
    if getattr(user, "role", None) != Role.ADMINISTRATOR or not user.pk:
        return None
    return (BreakGlassGrant.objects.filter(user_id=user.pk, closed_at__isnull=True,
                                           expires_at__gt=timezone.now())
            .order_by("-expires_at").first())


def break_glass_open(user) -> bool:
    """The compartment's break-glass rule, registered with ``accounts.access`` (which asks it
    on every permission check of an administrator)."""
    return break_glass_active(user=user) is not None


def break_glass_list(*, user, limit: int = 50) -> list[BreakGlassGrant]:
    """Recent grants, for investigators to review (R4: reviewed)."""
    access.require(user, Perm.COMPARTMENT_EDIT)
    return list(BreakGlassGrant.objects.select_related("user")[:limit])


def _read(user, obj) -> None:
    detail = None if getattr(user, "role", None) == Role.INVESTIGATOR else {"via":
                                                                           "break_glass"}
    with transaction.atomic():
        audit(actor=user, action="read", obj=obj, detail=detail)


def event_list(*, user, limit: int = 100) -> list[Event]:
    access.require(user, Perm.COMPARTMENT_VIEW)
    qs = access.scope(Event.objects.all(), user).annotate(
        n_acts=Count("acts", distinct=True), n_evidence=Count("evidence", distinct=True))
    return list(qs.order_by("-id")[:limit])


def event_get(*, user, event_id) -> Event:
    event = access.get_for_user(Event.objects.select_related("site", "created_by"), user,
                                Perm.COMPARTMENT_VIEW, id=event_id)
    _read(user, event)
    return event


def event_acts(*, event: Event) -> list[Act]:
    acts = list(event.acts.prefetch_related("items__item").order_by("id"))
    by_act: dict = {}
    for inv in Involvement.objects.filter(act__event=event).select_related("person"):
        by_act.setdefault(inv.act_id, []).append(inv)
    for act in acts:
        act.involvement_list = by_act.get(act.id, [])
    return acts


def event_information(*, event: Event) -> list[Information]:
    return list(Information.objects.filter(event=event).select_related("source")
                .order_by("received_on", "id"))


def event_evidence(*, event: Event) -> list[EvidenceItem]:
    return list(event.evidence.select_related("source", "derived_from").order_by("id"))


def source_list(*, user) -> list[Source]:
    access.require(user, Perm.COMPARTMENT_VIEW)
    return list(access.scope(Source.objects.all(), user).order_by("id"))


def evidence_get(*, user, evidence_id) -> EvidenceItem:
    item = access.get_for_user(EvidenceItem.objects.select_related("event", "source",
                                                                   "derived_from", "site"),
                               user, Perm.COMPARTMENT_VIEW, id=evidence_id)
    _read(user, item)
    return item


@dataclass
class CustodyStep:
    """One entry of an evidence item's chain of custody, as the page shows it."""

    seq: int
    ts: str
    kind: str
    label: object
    actor: str
    actor_name: str


#: the chain-of-custody entry kinds of an evidence item, in words
EVIDENCE_EVENTS = {
    "evidence.received": _("Received"), "evidence.copied": _("Working copy made"),
    "evidence.view": _("Viewed"), "evidence.download": _("Downloaded"),
    "evidence.handover": _("Handed over"), "evidence.fixity": _("Fixity checked"),
}


def evidence_custody(*, item: EvidenceItem) -> list:
    """The item's chain of custody; each entry carries ``label`` (the kind in words) and
    ``actor_name`` (the user's name, not their id)."""
    entries = list(LedgerEntry.objects.filter(stream=item.stream).order_by("seq"))
    names = {str(u.pk): u.get_full_name() or u.username for u in User.objects.filter(
        pk__in={e.actor for e in entries if len(e.actor or "") == 36})}
    return [CustodyStep(e.seq, e.ts, e.kind, EVIDENCE_EVENTS.get(e.kind, e.kind),
                        e.actor, names.get(e.actor, e.actor)) for e in entries]


def referral_get(*, user, referral_id) -> Referral:
    referral = access.get_for_user(Referral.objects.select_related("event", "requested_by",
                                                                   "approved_by", "site"),
                                   user, Perm.COMPARTMENT_VIEW, id=referral_id)
    _read(user, referral)
    return referral


def event_search(*, user, text: str, limit: int = 50) -> list[Event]:
    """Search inside the compartment. Titles and places are encrypted, so the search decrypts
    in memory the events the investigator may see (the compartment is small; the database
    never holds the words in clear, so it cannot search them)."""
    access.require(user, Perm.COMPARTMENT_VIEW)
    needle = (text or "").strip().casefold()
    if not needle:
        return []
    found = []
    for event in access.scope(Event.objects.all(), user).order_by("-id").iterator():
        if needle in f"{event.short_code} {event.title} {event.place} {event.description}" \
                .casefold():
            found.append(event)
            if len(found) >= limit:
                break
    return found


def compartment_counts(*, user) -> dict:
    access.require(user, Perm.COMPARTMENT_VIEW)
    return {"events": access.scope(Event.objects.all(), user).count(),
            "evidence": access.scope(EvidenceItem.objects.all(), user).count(),
            "referrals_pending": access.scope(Referral.objects.filter(status="pending"),
                                              user).count()}


def events_of_person(*, user, person) -> QuerySet[Event]:
    """Events in which a registered person is involved (for the investigator only)."""
    access.require(user, Perm.COMPARTMENT_VIEW)
    return access.scope(Event.objects.filter(acts__involvements__person=person).distinct(),
                        user)


def referral_record(*, referral: Referral, items: list[EvidenceItem]) -> dict:
    """The records a bundle carries, as JSON-ready data (no access check: the export service
    has made it). Only sources of this material appear, each with its consent scope."""
    event = referral.event
    information = event_information(event=event)
    sources = {i.source for i in information} | {e.source for e in items if e.source}
    acts = event_acts(event=event)
    return {
        "referral": {"id": str(referral.id), "code": referral.short_code,
                     "recipient_kind": referral.recipient_kind,
                     "recipient": referral.recipient_name, "purpose": referral.purpose,
                     "requested_by": referral.requested_by.username,
                     "approved_by": referral.approved_by.username if referral.approved_by
                     else None,
                     "approved_at": referral.approved_at.isoformat() if referral.approved_at
                     else None},
        "event": {"id": str(event.id), "code": event.short_code, "title": event.title,
                  "description": event.description, "place": event.place,
                  "date_start": event.date_start.isoformat() if event.date_start else None,
                  "date_end": event.date_end.isoformat() if event.date_end else None,
                  "date_precision": event.date_precision},
        "acts": [{"id": str(a.id), "code": a.short_code, "violation": a.violation,
                  "date": a.date.isoformat() if a.date else None, "place": a.place,
                  "description": a.description,
                  "items": [i.item.short_code for i in a.items.all()],
                  "involvements": [{
                      "person": inv.person.short_code if inv.person else None,
                      "unit": inv.unit, "unknown": inv.unknown, "role": inv.role,
                      "degree": inv.degree, "note": inv.note} for inv in a.involvement_list]}
                 for a in acts],
        "sources": [{"id": str(s.id), "code": s.short_code, "kind": s.kind,
                     "reliability": s.reliability, "consent_scope": s.consent_recipients,
                     "willing_to_testify": s.willing_to_testify}
                    for s in sorted(sources, key=lambda s: s.short_code)],
        "information": [{"source": i.source.short_code, "received_on": i.received_on
                         .isoformat(), "credibility": i.credibility, "summary": i.summary}
                        for i in information],
        "evidence": [{"id": str(e.id), "code": e.short_code, "file":
                      f"evidence/{e.short_code}.{e.extension}", "sha256": e.sha256,
                      "size": e.size, "kind": e.kind, "derivation": e.derivation,
                      "derived_from": e.derived_from.short_code if e.derived_from else None,
                      "source": e.source.short_code if e.source else None,
                      "description": e.description,
                      "captured_at": e.captured_at.isoformat() if e.captured_at else None,
                      "captured_place": e.captured_place,
                      "original_location": e.original_location,
                      "creator_willing_to_testify": e.creator_willing_to_testify}
                     for e in items],
    }


def items_linked(*, item_ids: list[str], **_kw) -> set[str]:
    """Of the custody item ids asked, those linked to an act of an allegation: custody's
    answer to ``custody.items_linked`` (the destruction certificate's evidence check). Only
    the ids: which act, which allegation, stays in the compartment."""
    return {str(i) for i in ActItem.objects.filter(item_id__in=item_ids)
            .values_list("item_id", flat=True)}
