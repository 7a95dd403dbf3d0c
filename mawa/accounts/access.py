"""The one place that decides who may do what, where.

Views, API endpoints and CLI commands all ask this module; none checks a role by itself.

Three layers:

1. the role's permissions (``roles.ROLE_PERMISSIONS``);
2. site scoping: a user acts only at the sites assigned to them (or every site for
   headquarters accounts with ``all_sites``);
3. the accountability compartment: to anyone without its permissions it does not exist, so a
   refusal there answers exactly like a missing record (404), never 403.

Every refusal is written to the audit trail in its own transaction, so that it survives the
failed request.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from mawa.accounts.roles import ROLE_PERMISSIONS, Perm, Role
from mawa.core.audit import audit
from mawa.core.errors import Forbidden, NotFound
from mawa.core.models import Site

COMPARTMENT_PERMS = frozenset({Perm.COMPARTMENT_VIEW, Perm.COMPARTMENT_EDIT,
                               Perm.WATCHLIST_MANAGE})


# Ledger streams of the compartment (``accountability``, and the watch lists of ``matching``):
# their names carry a compartment record's id and their lengths count its activity.
COMPARTMENT_STREAMS = ("event/", "evidence/", "source/", "referral/", "watchlist/",
                       "break-glass")


# What an administrator's break-glass grant adds, while it lasts: reading, never editing.
BREAK_GLASS_PERMS = frozenset({Perm.COMPARTMENT_VIEW})

# The rules that say whether an administrator holds an open break-glass grant (protection.md
# R4). The grants are the compartment's records and the compartment sits above accounts, so
# it registers its rule here (``AccountabilityConfig.ready``) instead of being imported. No
# rule registered: no grant is open.
BreakGlassRule = Callable[[object], bool]
_BREAK_GLASS_RULES: list[BreakGlassRule] = []


def break_glass_rule_register(rule: BreakGlassRule) -> None:
    """Register ``rule(user) -> bool``: does this administrator hold an open, unexpired
    break-glass grant? Asked afresh on every permission check, so that expiry and closing
    take effect at once. Registering the same rule twice keeps one."""
    if rule not in _BREAK_GLASS_RULES:
        _BREAK_GLASS_RULES.append(rule)


@dataclass(frozen=True)
class TokenScope:
    """What an API token lets a request do (``ApiToken``), attached to the request's user as
    ``token_scope`` by the token authentication: every check below then sees no more than the
    token's permissions and sites, and never more than the user's role and sites give now.

    ``permissions`` None: the role's permissions outside the compartment; ``site_ids`` None:
    every site of the user's. ``read_only``: the API refuses every writing method."""

    token_id: str
    read_only: bool
    permissions: frozenset[str] | None
    site_ids: frozenset | None

    def permissions_within(self, role_perms: frozenset[str]) -> frozenset[str]:
        named = self.permissions if self.permissions is not None else (
            role_perms - COMPARTMENT_PERMS)
        return role_perms & named


def token_scope(user) -> TokenScope | None:
    """The API token scope the request's ``user`` acts under (None: a session)."""
    return getattr(user, "token_scope", None)


def permissions_of(user) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    perms = ROLE_PERMISSIONS.get(user.role, frozenset())
    scope = token_scope(user)
    if scope is not None:  # a token: never break-glass, never more than it names
        return scope.permissions_within(perms)
    if user.role == Role.ADMINISTRATOR and _break_glass_open(user):
        perms = perms | BREAK_GLASS_PERMS
    return perms


def _break_glass_open(user) -> bool:
    """Does the administrator hold an open, unexpired break-glass grant? (the registered
    rules decide; see ``break_glass_rule_register``)"""
    return any(rule(user) for rule in _BREAK_GLASS_RULES)


def assigned_sites(user, *, fresh: bool = False) -> list[Site]:
    """The sites assigned to ``user`` (active or not, by code), read once per user object.

    Every request reads them first for the session check (``User.get_session_auth_hash``,
    ``fresh=True``: always from the database); the site scoping and the site menu of the same
    request then reuse that read instead of asking the database twice more (issue #9)."""
    cached = None if fresh else getattr(user, "_mawa_sites", None)
    if cached is None:
        cached = list(user.sites.all())
        user._mawa_sites = cached
        user._mawa_site_ids = {s.pk for s in cached}
    return cached


def site_ids(user) -> set | None:
    """Ids of the sites the user works at; None means every site."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    scope = token_scope(user)
    if user.all_sites:
        return None if scope is None or scope.site_ids is None else set(scope.site_ids)
    cached = getattr(user, "_mawa_site_ids", None)
    if cached is None:
        assigned_sites(user)
        cached = user._mawa_site_ids
    if scope is not None and scope.site_ids is not None:
        return cached & scope.site_ids
    return cached


def sites_for(user) -> QuerySet[Site]:
    """The sites visible to ``user``."""
    ids = site_ids(user)
    qs = Site.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)


def active_sites(user) -> list[Site]:
    """``sites_for`` as a list, from the sites already read in this request when it can."""
    ids = site_ids(user)
    if ids is None or getattr(user, "_mawa_sites", None) is None:
        return list(sites_for(user))
    return [s for s in user._mawa_sites if s.is_active and s.pk in ids]


def in_scope(user, site) -> bool:
    ids = site_ids(user)
    if ids is None:
        return True
    site_id = getattr(site, "pk", site)
    return site_id in ids


def can(user, perm: str, site=None) -> bool:
    """May ``user`` use ``perm`` (at ``site``, when given)?"""
    if perm not in permissions_of(user):
        return False
    return site is None or in_scope(user, site)


def _deny(user, perm: str, site=None, object_id=None) -> None:
    with transaction.atomic():
        audit(actor=user if getattr(user, "is_authenticated", False) else None,
              action="denied", outcome="denied", object_id=object_id or "",
              detail={"permission": perm,
                      "site": str(getattr(site, "pk", site)) if site is not None else ""})


def require(user, perm: str, site=None) -> None:
    """Raise (and audit) unless ``user`` may use ``perm`` at ``site``.

    Compartment permissions and site scoping answer NotFound: the page or record must not be
    revealed to exist. Other role refusals answer Forbidden.
    """
    if can(user, perm, site):
        return
    _deny(user, perm, site)
    if perm in COMPARTMENT_PERMS or perm in permissions_of(user):
        # compartment, or the role is right but the site is not theirs
        raise NotFound()
    raise Forbidden()


def scope(qs: QuerySet, user, *, site_field: str | tuple[str, ...] = "site") -> QuerySet:
    """Restrict a queryset to the user's sites. ``site_field`` may name several fields: a
    record is visible when any of them is one of the user's sites (a person is seen both where
    they were registered and where they are held)."""
    ids = site_ids(user)
    if ids is None:
        return qs
    fields = (site_field,) if isinstance(site_field, str) else site_field
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__in": ids})
    return qs.filter(condition)


def ledger_streams(qs: QuerySet, user) -> QuerySet:
    """Ledger rows (heads, checkpoints: anything with a ``stream``) ``user`` may see listed and
    counted: the compartment's streams only with its permission, otherwise they do not exist
    (attack test 2). Verifying the chains still covers every stream."""
    if can(user, Perm.COMPARTMENT_VIEW):
        return qs
    hidden = Q()
    for prefix in COMPARTMENT_STREAMS:
        hidden |= Q(stream__startswith=prefix)
    return qs.exclude(hidden)


def get_for_user(qs: QuerySet, user, perm: str, *, site_field: str | tuple[str, ...] = "site",
                 **lookup):
    """Load one guarded record: the same NotFound for "not there", "not your site" and
    "your role may not see it", and the refusal audited."""
    if perm not in permissions_of(user):
        _deny(user, perm, object_id=str(next(iter(lookup.values()), "")))
        raise NotFound()
    try:
        obj = scope(qs, user, site_field=site_field).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    except Exception as exc:  # invalid UUID text and similar lookups
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError):
            raise NotFound()
        raise
    return obj


def requires(perm: str) -> Callable:
    """View decorator: login required, then ``require(perm)``; the site check belongs to the
    record, via ``get_for_user`` or an explicit ``require(user, perm, site)``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            from django.contrib.auth.views import redirect_to_login

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require(request.user, perm)
            return view(request, *args, **kwargs)

        wrapper.mawa_permission = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


def hidden(perm: str) -> Callable:
    """Mark a route as part of the compartment: to anyone without ``perm`` (signed out
    included) it does not exist. A page view or an API endpoint (below its ``@router``
    decorator) alike.

    ``accounts.hidden.HiddenRoutesMiddleware`` reads the mark on the resolved view (pages: it
    is copied up through the other decorators; the API: ``mawa.api`` copies it to the
    path's view) and answers exactly what an unknown URL answers before anything else of the
    route runs: its method check, Django's CSRF check, ninja's authentication and parsing.
    The check here is for a view reached another way."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            hidden_refuse(request, perm)
            return view(request, *args, **kwargs)

        # the annotations resolved where the view is written: ninja reads an endpoint's
        # parameters from its signature, and would resolve ``from __future__`` strings in
        # this module otherwise
        try:
            wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore
        except NameError:  # pragma: no cover - a name defined after the view
            pass
        wrapper.mawa_permission = perm  # type: ignore[attr-defined]
        wrapper.mawa_hidden = perm  # type: ignore[attr-defined]
        return wrapper

    return decorator


def hidden_refuse(request, *perms: str) -> None:
    """Unless the request's user may use one of ``perms``: audit the refusal and raise the
    ``Http404`` of an unknown URL (Django's own answer to a URL that resolves to nothing)."""
    # an API request's user (``request.auth``: the session's or an API token's, scoped)
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if any(can(user, perm) for perm in perms):
        return
    _deny(user, perms[0])
    raise Http404()
