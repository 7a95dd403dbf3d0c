"""Reads of the kernel's sites, already checked and scoped (the records are core's, the
decision who may read them is the access policy's, so the reads live here)."""

from __future__ import annotations

from mawa.accounts import access
from mawa.accounts.models import ApiToken, GrantRequest, User
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
