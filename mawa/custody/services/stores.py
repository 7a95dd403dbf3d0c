"""Stores: armouries, bunkers, vehicle parks."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.core.services import short_code_next
from mawa.custody.models import (
    Kind,
    Store,
)
from mawa.custody.services._common import (
    _check,
    stream_of,
)


def store_create(*, actor, site: Site, name: str, kind: str = Kind.WEAPON,
                 name_ar: str = "") -> Store:
    """Create a store (armoury, bunker, vehicle park) at ``site``, named in Latin script and,
    for Arabic pages, in Arabic (``name_ar``); returns the existing one of the same name (a
    double click does not make two)."""
    access.require(actor, Perm.CUSTODY_RECORD, site)
    name = (name or "").strip()
    if not name:
        _check({"name": [_("Give the store a name.")]})
    with transaction.atomic():
        existing = Store.objects.filter(site=site, name=name).first()
        if existing:
            return existing
        store = Store.objects.create(site=site, name=name, name_ar=(name_ar or "").strip()[:120],
                                     kind=kind,
                                     short_code=short_code_next(site=site))
        ledger_append(stream=stream_of(site), kind="store_created", actor=actor, site=site,
                      payload={"store": str(store.pk), "code": store.short_code})
    return store
