"""Return to the country of origin: a batch of items handed over with a condition report
(IDDRS 5.40)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict
from mawa.core.ids import client_key_parse, short_code_normalise
from mawa.core.models import Site
from mawa.custody import derive
from mawa.custody.models import (
    Condition,
    HandoverBatch,
    HandoverLine,
    Item,
    MarkingIntegrity,
)
from mawa.custody.services._common import (
    CUSTODIAN_NAME_MAX,
    HANDOVER,
    EventClock,
    _capture,
    _check,
    _code,
    _created_at,
    _record,
    _when,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _handover_problem(item: Item) -> StrOrPromise | None:
    """Why ``item`` cannot be returned now (the same rules as a single ``returned`` event),
    or None. A legal hold is handled apart: its items are named, its reason never shown."""
    if item.state in derive.TERMINAL:
        return _("no longer in custody (%(state)s)") % {"state": item.get_state_display()}
    if item.state not in derive.HELD_IN:
        return _("not possible while the item is %(state)s") % {
            "state": item.get_state_display()}
    if item.marking_integrity != MarkingIntegrity.INTACT and not item.remarked:
        return _("markings altered or erased: re-mark it first (IDDRS 4.10 §8)")
    return None


def _by_tag(values: dict[str, str] | None) -> dict[str, str]:
    """``{tag: value}`` with each tag as typed (lower case, no dashes, Arabic-Indic digits)
    brought to its canonical short code."""
    return {(short_code_normalise(str(k)) or str(k)): v for k, v in (values or {}).items()}


def handover_recipient(party: str, delegation: list[str] | tuple[str, ...] = ()) -> str:
    """Who receives a batch, as the handover document and the items' custodian name it:
    the receiving party (the state or authority), then the names of its delegation."""
    party = (party or "").strip()
    names = [n.strip() for n in delegation or () if n and n.strip()]
    return f"{party} — {', '.join(names)}" if party and names else party


@dataclass
class HandoverInput:
    """A handover as it was asked for, cleaned: who receives (party and delegation together),
    the agreement, the witness, and the condition report by tag."""

    recipient: str
    document: str
    witness: str
    conditions: dict[str, str]
    notes: dict[str, str]


def _handover_clean(*, items: list[Item], recipient: str, document: str, witness: str,
                    delegation, conditions, notes) -> HandoverInput:
    conditions, notes = _by_tag(conditions), _by_tag(notes)
    errors: dict[str, list[StrOrPromise]] = {}
    party = (recipient or "").strip()
    recipient, document = handover_recipient(party, delegation), (document or "").strip()[:200]
    if not party:
        errors["recipient"] = [_("Name who receives the materiel for the country of origin.")]
    elif len(recipient) > CUSTODIAN_NAME_MAX:
        # the recipient becomes each item's custodian name (a column of that length)
        errors["recipient"] = [_("At most %(n)s characters for the receiving party and the "
                                 "names of the delegation together.") % {
                                     "n": CUSTODIAN_NAME_MAX}]
    if not document:
        errors["document"] = [_("Give the handover agreement or document.")]
    if not items:
        errors["items"] = [_("Choose at least one item.")]
    bad = sorted(t for t, c in conditions.items() if c not in Condition.values)
    if bad:
        errors["conditions"] = [_("Unknown condition for %(tags)s.") % {"tags": ", ".join(bad)}]
    _check(errors)
    return HandoverInput(recipient, document, (witness or "").strip()[:200], conditions,
                         {t: (n or "").strip()[:300] for t, n in notes.items()})


def _handover_refusals(*, actor, items: list[Item]) -> Site:
    """Refuse the whole batch unless every item can go now; return the one site they leave
    from. ``items`` come locked (``handover_return``) or freshly read (``handover_check``)."""
    sites = {i.location_site_id for i in items}
    if len(sites) != 1:
        _check({"items": [_("Return the items of one site per batch.")]})
    site = items[0].location_site
    access.require(actor, Perm.CUSTODY_DISPOSE, site)
    held = sorted(i.short_code for i in items if i.on_hold)
    if held:
        raise Conflict(_("Cannot be returned, under legal hold: %(tags)s. Nothing was "
                         "handed over.") % {"tags": ", ".join(held)}, code="legal_hold")
    problems = [f"{i.short_code}: {p}" for i in items
                if (p := _handover_problem(i)) is not None]
    if problems:
        raise Conflict(_("Nothing was handed over. %(problems)s") % {
            "problems": "; ".join(problems)}, code="handover_refused")
    return site


def handover_check(*, actor, items: list[Item], recipient: str, document: str,
                   witness: str = "", conditions: dict[str, str] | None = None,
                   notes: dict[str, str] | None = None,
                   delegation: list[str] | tuple[str, ...] = ()) -> HandoverInput:
    """Everything ``handover_return`` would refuse, refused the same way, without writing
    anything: the page shows it before the officer completes the handover in front of the
    delegation. Nothing is locked, so ``handover_return`` checks again."""
    clean = _handover_clean(items=items, recipient=recipient, document=document,
                            witness=witness, delegation=delegation, conditions=conditions,
                            notes=notes)
    _handover_refusals(actor=actor, items=list(
        Item.objects.select_related("location_site").filter(pk__in=[i.pk for i in items])
        .order_by("short_code")))
    return clean


def handover_return(*, actor, items: list[Item], client_key, recipient: str, document: str,
                    witness: str = "", conditions: dict[str, str] | None = None,
                    notes: dict[str, str] | None = None,
                    delegation: list[str] | tuple[str, ...] = (), record_id=None,
                    code: str = "", at=None, times=None) -> HandoverBatch:
    """Return many items at once to the country of origin (IDDRS 5.40), with a condition
    report: each item's condition at surrender and at return (``conditions`` maps a tag to
    ``serviceable``/``unserviceable``; unchanged when not given). ``recipient`` is the
    receiving party, ``delegation`` the names of the people who receive for it; the tags of
    ``conditions`` and ``notes`` may be typed as people type them.

    All or nothing: if any item is under legal hold (IDDRS 6.40 §7.1), the batch is refused and
    the held items are named — never the reason of the hold; any other item that cannot be
    returned is refused with its reason. One ``returned`` custody event on the ledger covers the
    batch, in the same transaction as the items' new state and the batch record. Idempotent
    on ``client_key``: a retried or double submission returns the first batch.
    ``record_id``, ``code``, ``at`` and ``times``: the origin's when a change from another node is
    replayed.
    """
    key = client_key_parse(client_key)
    existing = HandoverBatch.objects.filter(client_key=key).first()
    if existing is not None:
        return existing  # a retried submission returns the first batch
    clean = _handover_clean(items=items, recipient=recipient, document=document,
                            witness=witness, delegation=delegation, conditions=conditions,
                            notes=notes)
    with transaction.atomic():
        # lock in a fixed order: two batches sharing items cannot deadlock
        locked = list(Item.objects.select_for_update().select_related("location_site")
                      .filter(pk__in=[i.pk for i in items]).order_by("pk"))
        # A double submission that waited for the first one's locks finds its batch now
        # (PostgreSQL's read committed sees what committed meanwhile), not items gone.
        existing = HandoverBatch.objects.filter(client_key=key).first()
        if existing is not None:
            return existing
        site = _handover_refusals(actor=actor, items=locked)
        now = _when(at)
        batch = HandoverBatch(site=site, short_code=_code(site, code), client_key=key,
                              recipient=clean.recipient, document=clean.document,
                              witness=clean.witness, handed_over_at=now,
                              handed_over_by=actor, ledger_seq=0)
        if record_id is not None:
            batch.id = record_id
        lines, report = [], []
        for item in locked:
            at_return = clean.conditions.get(item.short_code, item.condition)
            lines.append((item, {"condition_at_surrender": item.condition,
                                 "condition_at_return": at_return}))
            report.append(HandoverLine(batch=batch, item=item, quantity=item.quantity,
                                       condition_at_surrender=item.condition,
                                       condition_at_return=at_return,
                                       note=clean.notes.get(item.short_code, "")))
        entry = _record(actor=actor, site=site, kind="returned", lines=lines, data={
            "recipient": clean.recipient, "document": clean.document,
            "batch": batch.short_code, **({"witness": batch.witness} if batch.witness else {})},
            clock=(clock := EventClock(times)))
        batch.ledger_seq = entry.seq
        batch.save(force_insert=True)
        batch.created_at = now
        _created_at(HandoverBatch, batch.pk, now)
        HandoverLine.objects.bulk_create(report)
        _capture([ChangeItem(HANDOVER, batch.pk, ChangeOp.CREATE, {
            "items": [i.pk for i in locked], "client_key": key, "recipient": recipient,
            "document": document, "witness": witness, "conditions": conditions or {},
            "notes": notes or {}, "delegation": list(delegation or ()),
            "code": batch.short_code, "at": now, "times": clock.seen})], actor=actor, site=site)
    return batch
