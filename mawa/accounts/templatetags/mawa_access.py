"""``{% load mawa_access %}{% may "camp.operate" as can_receive %}``: show a link only to the
roles that may open it (a link that answers 403 is a link to a refusal). The site is the one the
user is working at, as the views check it."""

from __future__ import annotations

from django import template

from mawa.accounts import access

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, perm: str, site=None, any_site: bool = False) -> bool:
    """``perm`` at ``site`` (a record's site), else at the working site, else (``any_site``)
    at any of the user's sites."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if site is None and not any_site:
        site = getattr(request, "site", None)
    return access.can(user, perm, site)
