"""My API tokens: list, create (the secret shown once), revoke (issue 20)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_POST

from mawa.accounts import access, selectors, services
from mawa.accounts.forms import ApiTokenForm
from mawa.accounts.roles import ROLE_PERMISSIONS
from mawa.core.forms import service_errors


def _form(request, data=None) -> ApiTokenForm:
    default = timezone.localdate() + dt.timedelta(days=services.API_TOKEN_DEFAULT_DAYS)
    return ApiTokenForm(data, initial={"expires_at": default},
                        permissions=ROLE_PERMISSIONS.get(request.user.role, frozenset()),
                        sites=access.sites_for(request.user))


@login_required
def tokens(request):
    """The user's API tokens and the form for a new one; after creating, its secret, once."""
    secret = ""
    form = _form(request)
    status = 200
    if request.method == "POST":
        form = _form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            expires = dt.datetime.combine(data["expires_at"], dt.time(23, 59),
                                          tzinfo=timezone.get_current_timezone())
            with service_errors(form):
                _token, secret = services.api_token_create(
                    user=request.user, name=data["name"],
                    read_only=data["scope"] == "read_only",
                    permissions=data["permissions"] if data["scope"] == "permissions" else [],
                    sites=list(data["sites"]), all_sites=data["all_sites"],
                    expires_at=expires)
                form = _form(request)
        if not secret:
            status = 400
    response = render(request, "accounts/tokens.html", {
        "form": form, "secret": secret,
        "rows": selectors.api_tokens_of(user=request.user), "now": timezone.now()},
        status=status)
    response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@login_required
@require_POST
def token_revoke(request, token_id):
    services.api_token_revoke(user=request.user, token_id=token_id)
    return HttpResponseRedirect(resolve_url("accounts:tokens"))
