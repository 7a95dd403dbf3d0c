"""Stores: armouries, bunkers, vehicle parks."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.custody.models import (
    Kind,
    Store,
)
from mawa.custody.services._common import (
    STORE,
    _capture,
    _check,
    _code,
    _created_at,
    _when,
    stream_of,
)


def store_create(*, actor, site: Site, name: str, kind: str = Kind.WEAPON,
                 name_ar: str = "", record_id=None, code: str = "", at=None) -> Store:
    """Create a store (armoury, bunker, vehicle park) at ``site``, named in Latin script and,
    for Arabic pages, in Arabic (``name_ar``); returns the existing one of the same name (a
    double click does not make two). ``record_id``, ``code`` and ``at``: the origin's when a
    change from another node is replayed."""
    access.require(actor, Perm.CUSTODY_RECORD, site)
    name = (name or "").strip()
    if not name:
        _check({"name": [_("Give the store a name.")]})
    with transaction.atomic():
        existing = Store.objects.filter(site=site, name=name).first()
        if existing:
            return existing
        store = Store.objects.create(site=site, name=name, name_ar=(name_ar or "").strip()[:120],
                                     kind=kind, short_code=_code(site, code),
                                     **({"id": record_id} if record_id is not None else {}))
        if at is not None:
            store.created_at = _when(at)
            _created_at(Store, store.pk, store.created_at)
        ledger_append(stream=stream_of(site), kind="store_created", actor=actor, site=site,
                      payload={"store": str(store.pk), "code": store.short_code})
        _capture([ChangeItem(STORE, store.pk, ChangeOp.CREATE, {
            "site": site.code, "name": name, "name_ar": store.name_ar, "kind": kind,
            "code": store.short_code, "at": store.created_at})], actor=actor, site=site)
    return store
