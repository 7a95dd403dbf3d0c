"""What every camp write shares: the ledger entry, the camp and access checks, field errors."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.core.changes import (
    ChangeItem,
    change_applying_now,
    change_record_many,
    replay_code,
    replay_created_at,
    replay_time,
)
from mawa.core.errors import ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.core.models import Site, SiteKind


def _log(*, actor, site, kind: str, payload: dict) -> None:
    # what happened and to which record; never names or other personal values
    ledger_append(stream=f"camp/{site.code}", kind=f"camp.{kind}", payload=payload,
                  actor=actor, site=site)


def _camp(site: Site) -> Site:
    if site.kind != SiteKind.CAMP:
        raise ValidationFailed(_("This site is not an internment camp."), code="not_a_camp")
    return site


def _operator(actor, site, *perms: str) -> None:
    """Require any one of ``perms`` at ``site`` (first one reported when all are missing)."""
    if any(access.can(actor, p, site) for p in perms):
        return
    access.require(actor, perms[0], site)


def _text(value, name: str, errors: dict, *, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.setdefault(name, []).append(_("This field is required."))
    elif len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
    return text


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)


# --- change capture (core.changes): what a post and headquarters both need ----------------

#: namespace of the ids derived on replay from the change being applied
REPLAY_NAMESPACE = uuid.UUID("6c0d3a52-1f4e-5b8a-8f0e-63616d702e73")

ROLLCALL = "camp.rollcall"
ASSIGNMENT = "camp.assignment"
MOVEMENT = "camp.movement"
DISTRIBUTION = "camp.distribution"
INCIDENT = "camp.incident"


def _replaying() -> bool:
    """Is this write a change from another node being applied (``core.changes``)?"""
    return change_applying_now() is not None


def _derived_id(name: str) -> uuid.UUID | None:
    """On a replay, the id of a row the camp derives from the change being applied (the same
    on every node); None otherwise (mint one)."""
    change = change_applying_now()
    return None if change is None else uuid.uuid5(REPLAY_NAMESPACE, f"{change.id}/{name}")


def _capture(items: list[ChangeItem], *, actor, site: Site) -> None:
    """Record the changes of a camp write in its transaction (absorbed on a replay)."""
    change_record_many(items, actor=actor, site=site)


# the origin's code, time and creation time on a replay (core.changes), under the names the
# camp services use
_code = replay_code
_when = replay_time
_created_at = replay_created_at
