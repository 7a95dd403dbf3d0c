"""Mawa's own pages for accounts: create, change access, reset two-factor, and the grant
requests a second administrator approves (four eyes on the compartment). Thin: the rules are in
``accounts.services``. Every page needs a step-up (password and a fresh code in the last five
minutes); the services check it again for what opens the compartment."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mawa.accounts import access, selectors, services
from mawa.accounts.forms import UserAccessForm, UserCreateForm
from mawa.accounts.models import GrantRequest, User
from mawa.accounts.roles import Perm
from mawa.accounts.views import recent_auth, step_up_required
from mawa.core.errors import NotFound
from mawa.core.forms import service_errors


def _step_up_at(request) -> float | None:
    return request.session.get("auth_at")


def _user(request, user_id) -> User:
    """The account, or 404 when missing or outside the administrator's sites (R3)."""
    user = selectors.users_managed(user=request.user).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def _step_up(request):
    """The step-up page when the last one is older than five minutes (after the record is
    found, so that a missing record and another site's answer alike: 404)."""
    if recent_auth(request):
        return None
    return step_up_required(lambda r: None)(request)


@access.requires(Perm.USER_MANAGE)
def users(request):
    users = [u for u in User.objects.order_by("username").prefetch_related("sites")
             if services.user_in_scope(request.user, u)]
    pending = [g for g in GrantRequest.objects.filter(status=GrantRequest.Status.PENDING)
               .select_related("target", "requested_by").prefetch_related("sites")
               if services.grant_in_scope(request.user, g)]
    return render(request, "accounts/users.html", {"users": users, "pending": pending})


@access.requires(Perm.USER_MANAGE)
@step_up_required
def user_new(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["site_ids"] = {s.pk for s in data.pop("sites")}
        with service_errors(form) as run, transaction.atomic():
            user, grant = services.user_create(actor=request.user,
                                               step_up_at=_step_up_at(request), **data)
            if grant is not None:
                return redirect("accounts:grant", grant_id=grant.pk)
            return redirect("accounts:user", user_id=user.pk)
        return render(request, "accounts/user_new.html", {"form": form}, status=run.status)
    return render(request, "accounts/user_new.html", {"form": form})


@access.requires(Perm.USER_MANAGE)
def user_detail(request, user_id):
    user = _user(request, user_id)
    if (redirect_to := _step_up(request)) is not None:
        return redirect_to
    initial = {"role": user.role, "all_sites": user.all_sites, "is_active": user.is_active,
               "sites": list(user.sites.all())}
    form = UserAccessForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with service_errors(form) as run, transaction.atomic():
            grant = services.user_access_change(
                actor=request.user, user=user, role=data["role"], all_sites=data["all_sites"],
                is_active=data["is_active"], site_ids={s.pk for s in data["sites"]},
                step_up_at=_step_up_at(request))
            if grant is not None:
                return redirect("accounts:grant", grant_id=grant.pk)
            return redirect("accounts:user", user_id=user.pk)
        status = run.status
    return render(request, "accounts/user.html", {
        "account": user, "form": form,
        "reaches_compartment": bool(services.compartment_perms_of(user.role, user.is_active)),
        "pending": GrantRequest.objects.filter(target=user,
                                               status=GrantRequest.Status.PENDING).first(),
        "has_second_factor": services.has_second_factor(user),
    }, status=status)


@require_POST
@access.requires(Perm.USER_MANAGE)
def user_two_factor_reset(request, user_id):
    user = _user(request, user_id)
    if (redirect_to := _step_up(request)) is not None:
        return redirect_to
    with transaction.atomic():
        grant = services.two_factor_reset(actor=request.user, user=user,
                                          step_up_at=_step_up_at(request))
    if grant is not None:
        return redirect("accounts:grant", grant_id=grant.pk)
    return redirect("accounts:user", user_id=user.pk)


@access.requires(Perm.USER_MANAGE)
def grant(request, grant_id):
    item = (selectors.grants_managed(user=request.user)
            .select_related("target", "requested_by", "decided_by").filter(pk=grant_id).first())
    if item is None:
        raise NotFound()
    if (redirect_to := _step_up(request)) is not None:
        return redirect_to
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "approve":
            services.grant_approve(actor=request.user, request_id=item.pk,
                                   step_up_at=_step_up_at(request))
        elif decision == "refuse":
            with transaction.atomic():
                services.grant_refuse(actor=request.user, request_id=item.pk)
        return redirect("accounts:grant", grant_id=item.pk)
    return render(request, "accounts/grant.html", {
        "grant": item,
        "may_decide": request.user.pk not in (item.requested_by_id, item.target_id),
    })
