"""Legal holds (investigators only): nothing held is destroyed, deactivated, transferred or
returned (IDDRS 6.40 §7.1)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.custody.models import (
    Item,
    LegalHold,
)
from mawa.custody.services._common import (
    _check,
    _locked,
    _record,
)


def legal_hold_set(*, actor, item: Item, reason: str) -> LegalHold:
    """Place a legal hold (investigators only). The reason stays in the hold record, readable
    by the accountability compartment alone; the ledger says only that a hold was set."""
    access.require(actor, Perm.COMPARTMENT_EDIT)
    reason = (reason or "").strip()
    if not reason:
        _check({"reason": [_("Say why (investigators only will see it).")]})
    with transaction.atomic():
        item = _locked(item)
        hold = LegalHold.objects.create(item=item, reason=reason, set_by=actor)
        _record(actor=actor, site=item.location_site, kind="legal_hold_set",
                data={"hold": str(hold.pk)}, lines=[(item, {})])
    return hold


def legal_hold_lift(*, actor, hold: LegalHold) -> LegalHold:
    """Lift a legal hold (investigators only); the item is free once no hold remains."""
    access.require(actor, Perm.COMPARTMENT_EDIT)
    with transaction.atomic():
        item = _locked(hold.item)
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is not None:
            return hold
        hold.lifted_at, hold.lifted_by = timezone.now(), actor
        hold.save(update_fields=["lifted_at", "lifted_by"])
        remaining = LegalHold.objects.filter(item=item, lifted_at__isnull=True).count()
        _record(actor=actor, site=item.location_site, kind="legal_hold_released",
                data={"hold": str(hold.pk), "holds_remaining": remaining}, lines=[(item, {})])
    return hold
