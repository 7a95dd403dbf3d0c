"""Reads of the kernel's sites, already checked and scoped (the records are core's, the
decision who may read them is the access policy's, so the reads live here)."""

from __future__ import annotations

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit_read
from mawa.core.models import Site


def site_list(*, user):
    access.require(user, Perm.SITE_VIEW)
    return access.sites_for(user)


def site_location_get(*, user, site: Site) -> dict:
    """The restricted location of a site; audited as a sensitive read."""
    access.require(user, Perm.SITE_LOCATION_VIEW, site)
    audit_read(actor=user, obj=site)
    return {"latitude": site.latitude, "longitude": site.longitude, "note": site.location_note}
