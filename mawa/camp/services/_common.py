"""What every camp write shares: the ledger entry, the camp and access checks, field errors."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
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
