"""Writes on accounts: users, roles and sites (four eyes on the compartment), two-factor
enrolment and checks, step-up, recovery codes, throttling, sessions.

Protection.md R11 (two factors for all staff, no replay, single-use hashed recovery codes),
R13 (throttling and lockout, same answer for unknown and known accounts), R14 (sessions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.models import (
    ApiToken,
    GrantRequest,
    LoginThrottle,
    RecoveryCode,
    TOTPDevice,
    User,
    UserSession,
)
from mawa.accounts.roles import ROLE_PERMISSIONS, Perm
from mawa.core.audit import audit
from mawa.core.crypto import decrypt_text, encrypt_text
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import Conflict, Forbidden, MawaError, NotFound, ValidationFailed
from mawa.core.models import Site, SiteKind

TOTP_STEP = 30
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
# One account from one address: throttled after 5 failures in 15 minutes (DHIS2's figure).
PAIR_MAX_FAILURES = 5
# One account from any number of addresses: locked after 10 (a guess spread over addresses).
ACCOUNT_MAX_FAILURES = 10
THROTTLE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
# A step-up (password and a fresh code again) counts for five minutes.
STEP_UP_SECONDS = 300


class Throttled(MawaError):
    code = "throttled"
    status = 429

    def __init__(self, minutes: int):
        super().__init__(_("Too many failed attempts. Try again in %(minutes)d minutes.")
                         % {"minutes": minutes})


# --- TOTP ------------------------------------------------------------------------------

def _totp(secret: bytes) -> TOTP:
    # HMAC-SHA1 is what RFC 6238 and every authenticator app use; HMAC-SHA1 is not broken.
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)  # noqa: S303


def totp_secret_new() -> bytes:
    return secrets.token_bytes(20)


def totp_provisioning_uri(secret: bytes, username: str) -> str:
    return _totp(secret).get_provisioning_uri(username, "Mawa")


def totp_code_at(secret: bytes, when: float) -> str:
    return _totp(secret).generate(int(when)).decode()


def totp_context(user_id) -> str:
    """The authenticated context a user's TOTP secret is sealed with (also used by the field
    key rotation, ``core.keyrotation``)."""
    return f"accounts.totp:{user_id}"


def _context(user) -> str:
    return totp_context(user.pk)


def _matching_step(secret: bytes, code: str, now: float) -> int | None:
    """The time step (now −1, now, now +1: 30 s of clock drift) whose code is ``code``."""
    code = to_ascii_digits(code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != TOTP_DIGITS:
        return None
    current = int(now) // TOTP_STEP
    for step in (current - 1, current, current + 1):
        try:
            _totp(secret).verify(code.encode(), step * TOTP_STEP)
            return step
        except InvalidToken:
            continue
    return None


def totp_enrol_confirm(*, user: User, secret: bytes, code: str) -> list[str]:
    """Confirm enrolment with a first code from the app; return the recovery codes (shown once).
    """
    step = _matching_step(secret, code, time.time())
    if step is None:
        raise MawaError(_("That code is not right. Check the time on the phone and type the "
                          "six digits shown now."), code="totp_invalid")
    with transaction.atomic():
        TOTPDevice.objects.update_or_create(user=user, defaults={
            "secret_encrypted": encrypt_text("accounts", secret.hex(), context=_context(user)),
            "confirmed_at": timezone.now(), "last_step": step})
        codes = recovery_codes_generate(user=user)
        audit(actor=user, action="totp_enrolled", obj=user)
    return codes


def totp_verify(*, user: User, code: str) -> bool:
    """Check a code; a code of a time step already used is refused (replay)."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed_at__isnull=False).first())
        if device is None:
            return False
        secret = bytes.fromhex(decrypt_text("accounts", device.secret_encrypted,
                                            context=_context(user)))
        step = _matching_step(secret, code, time.time())
        if step is None or step <= device.last_step:
            audit(actor=user, action="totp_failed", obj=user, outcome="denied",
                  detail={"replay": step is not None})
            return False
        device.last_step = step
        device.save(update_fields=["last_step"])
    return True


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


# --- recovery codes --------------------------------------------------------------------

def _code_hash(code: str) -> str:
    normalised = to_ascii_digits(code).strip().upper().replace("-", "").replace(" ", "")
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(),
                    hashlib.sha256).hexdigest()


def recovery_codes_generate(*, user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; only their hashes are kept."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in
             range(RECOVERY_CODE_COUNT)]
    codes = [f"{c[:5]}-{c[5:]}" for c in codes]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(user=user, code_hash=_code_hash(c)) for c in codes])
    return codes


def recovery_code_use(*, user: User, code: str) -> bool:
    """Spend one recovery code; a used or unknown code is refused."""
    with transaction.atomic():
        used = (RecoveryCode.objects.filter(user=user, code_hash=_code_hash(code),
                                            used_at__isnull=True)
                .update(used_at=timezone.now()))
        if used:
            audit(actor=user, action="recovery_code_used", obj=user)
    return bool(used)


# --- throttling ------------------------------------------------------------------------
#
# Failures are counted per account name (from every address: a distributed guess locks the
# account) and per (account name, address) pair. There is no lock on an address alone: at a
# post every laptop may share one address (or all arrive through one reverse proxy), and one
# person's failures must never lock the whole post out. The address is the client's
# (``core.client_address``: a proxy header is believed only from a configured proxy).

def _name_hash(username: str, address: str = "") -> str:
    material = username.strip().lower() + ("\x00" + address if address else "")
    return hmac.new(settings.SECRET_KEY.encode(), material.encode(),
                    hashlib.sha256).hexdigest()[:40]


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    keys = [(f"user:{_name_hash(username)}", ACCOUNT_MAX_FAILURES)]
    if address:
        keys.append((f"pair:{_name_hash(username, address)}", PAIR_MAX_FAILURES))
    return keys


def throttle_check(*, username: str, address: str) -> None:
    """Raise ``Throttled`` while the account name, or this name from this address, is locked."""
    now = timezone.now()
    for key, _limit in _keys(username, address):
        row = LoginThrottle.objects.filter(key=key, locked_until__gt=now).first()
        if row and row.locked_until:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise Throttled(minutes)


def throttle_failure(*, username: str, address: str) -> None:
    """Count a failed attempt; lock the name, or the (name, address) pair, at its limit."""
    now = timezone.now()
    with transaction.atomic():
        for key, limit in _keys(username, address):
            LoginThrottle.objects.bulk_create(
                [LoginThrottle(key=key, failures=0, window_start=now)], ignore_conflicts=True)
            row = LoginThrottle.objects.select_for_update().get(key=key)
            if now - row.window_start > THROTTLE_WINDOW:
                row.failures, row.window_start = 0, now
            row.failures += 1
            if row.failures >= limit and not (row.locked_until and row.locked_until > now):
                row.locked_until = now + LOCKOUT
                audit(actor=None, action="lockout", outcome="denied",
                      detail={"scope": key.split(":")[0]})
            row.save()


def throttle_success(*, username: str, address: str = "") -> None:
    for key, _limit in _keys(username, address):
        LoginThrottle.objects.filter(key=key).delete()


# --- sessions --------------------------------------------------------------------------

def session_record(*, user: User, session_key: str, address: str, user_agent: str) -> None:
    UserSession.objects.update_or_create(session_key=session_key, defaults={
        "user": user, "last_seen": timezone.now(), "address": address,
        "user_agent": user_agent[:200]})


def sessions_end_all(*, user: User, actor=None) -> int:
    """End every live session of ``user`` (sign out everywhere, disable, role change)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
        keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(user=user).delete()
        audit(actor=actor or user, action="sessions_ended", obj=user,
              detail={"count": len(keys)})
    user.refresh_from_db(fields=["session_generation"])
    return len(keys)


def display_digits_set(*, user: User, digits: str) -> None:
    """The user's own choice of digits for display (``latin`` or ``arabic``)."""
    if digits not in {c for c, _label in User._meta.get_field("digits").flatchoices}:
        raise ValidationFailed(_("Choose Latin or Arabic-Indic digits."),
                               fields={"digits": [_("Choose Latin or Arabic-Indic digits.")]})
    User.objects.filter(pk=user.pk).update(digits=digits)
    user.digits = digits


# --- step-up ---------------------------------------------------------------------------

def step_up_confirm(*, user: User, password: str, code: str) -> bool:
    """Re-authenticate ``user`` before a sensitive action: the password and a fresh code.
    Both outcomes are on the ledger (the step-up is one of the steps of a grant request)."""
    with transaction.atomic():
        ok = user.check_password(password) and totp_verify(user=user, code=code)
        audit(actor=user, action="step_up", obj=user, outcome="ok" if ok else "denied")
    return bool(ok)


def step_up_fresh(step_up_at: float | None) -> bool:
    return bool(step_up_at) and 0 <= time.time() - float(step_up_at or 0) <= STEP_UP_SECONDS


def _require_step_up(step_up_at: float | None) -> dt.datetime:
    if not step_up_fresh(step_up_at):
        raise Forbidden(_("Confirm your password and a fresh code first."), code="step_up")
    return dt.datetime.fromtimestamp(float(step_up_at or 0), tz=dt.UTC)


# --- users, roles and sites ------------------------------------------------------------
#
# Every change of an account's access is one ledger entry on the audit stream (role, sites,
# every site, active, two-factor reset, creation), written in the transaction of the change.
# A change that would open (or widen) the accountability compartment to someone does not take
# effect: it becomes a ``GrantRequest`` that a second administrator approves or refuses.

USER_PROFILE_FIELDS = ("username", "first_name", "last_name", "email", "language")


def compartment_perms_of(role: str, is_active: bool = True) -> frozenset[str]:
    """The compartment permissions a role gives (none to an inactive account)."""
    if not is_active:
        return frozenset()
    return ROLE_PERMISSIONS.get(role, frozenset()) & access.COMPARTMENT_PERMS


def _reaches_compartment(user: User) -> bool:
    return bool(compartment_perms_of(user.role, user.is_active))


def _widens_compartment(*, before_role: str, before_active: bool, before_all: bool,
                        before_sites: set, role: str, is_active: bool, all_sites: bool,
                        site_ids: set) -> bool:
    """Does the change give a compartment permission the account did not have, or give it at
    more sites?"""
    after = compartment_perms_of(role, is_active)
    if not after:
        return False
    before = compartment_perms_of(before_role, before_active)
    if after - before:
        return True
    if all_sites and not before_all:
        return True
    return not all_sites and not before_all and bool(set(site_ids) - set(before_sites))


def _site_ids(user: User) -> set:
    return set(user.sites.values_list("pk", flat=True))


def _codes(site_ids) -> list[str]:
    return sorted(Site.objects.filter(pk__in=list(site_ids)).values_list("code", flat=True))


def _check_role(role: str) -> None:
    if role and role not in ROLE_PERMISSIONS:
        raise MawaError(_("Unknown role."), code="invalid", fields={"role": [_("Unknown role.")]})


def user_in_scope(actor, user: User) -> bool:
    """May the administrator ``actor`` manage ``user``? An administrator working at some sites
    manages the accounts working only at those (and new accounts with no site yet); accounts
    working everywhere only by one working everywhere (R3)."""
    ids = access.site_ids(actor)
    if ids is None:
        return True
    return not user.all_sites and {s.pk for s in user.sites.all()} <= ids


def grant_in_scope(actor, request: GrantRequest) -> bool:
    ids = access.site_ids(actor)
    if ids is None:
        return True
    return (user_in_scope(actor, request.target) and not request.all_sites
            and {s.pk for s in request.sites.all()} <= ids)


def _require_scope(actor, *, user: User | None = None, all_sites: bool = False,
                   site_ids=()) -> None:
    """No administrator gives sites they do not work at, nor every site unless they do."""
    ids = access.site_ids(actor)
    if ids is None:
        return
    if (user is not None and not user_in_scope(actor, user)) or all_sites or (
            set(site_ids) - ids):
        raise NotFound()


def _apply_access(*, actor, user: User, role: str, all_sites: bool, site_ids: set,
                  is_active: bool, request: GrantRequest | None = None) -> list[str]:
    """Set the account's access; one ledger entry per thing that changed. Returns what
    changed."""
    detail_extra = {"grant_request": str(request.pk)} if request else {}
    before_sites = _site_ids(user)
    changed: list[str] = []
    if user.role != role:
        audit(actor=actor, action="role_change", obj=user,
              detail={"from": user.role, "to": role, **detail_extra})
        user.role = role
        changed.append("role")
    if user.all_sites != all_sites:
        audit(actor=actor, action="all_sites_change", obj=user,
              detail={"from": user.all_sites, "to": all_sites, **detail_extra})
        user.all_sites = all_sites
        changed.append("all_sites")
    if user.is_active != is_active:
        audit(actor=actor, action="active_change", obj=user,
              detail={"from": user.is_active, "to": is_active, **detail_extra})
        user.is_active = is_active
        changed.append("is_active")
    if changed:
        user.save(update_fields=changed)
    if set(site_ids) != before_sites:
        audit(actor=actor, action="sites_change", obj=user,
              detail={"added": _codes(set(site_ids) - before_sites),
                      "removed": _codes(before_sites - set(site_ids)), **detail_extra})
        user.sites.set(list(site_ids))
        changed.append("sites")
    return changed


def _grant_request_create(*, actor, user: User, kind: str, step_up_at: float | None,
                          role: str = "", all_sites: bool = False, site_ids=(),
                          is_active: bool = True) -> GrantRequest:
    stepped = _require_step_up(step_up_at)
    if GrantRequest.objects.filter(target=user, status=GrantRequest.Status.PENDING).exists():
        raise Conflict(_("A request for this account is already waiting for a second "
                         "administrator."), code="grant_pending")
    request = GrantRequest.objects.create(
        kind=kind, target=user, requested_by=actor, role=role, all_sites=all_sites,
        is_active=is_active, step_up_at=stepped)
    if site_ids:
        request.sites.set(list(site_ids))
    audit(actor=actor, action="grant_requested", obj=request,
          detail={"user": str(user.pk), "kind": kind, "role": role, "all_sites": all_sites,
                  "sites": _codes(site_ids), "is_active": is_active,
                  "step_up_at": stepped.isoformat()})
    return request


@transaction.atomic
def user_create(*, actor, username: str, password: str | None = None, first_name: str = "",
                last_name: str = "", email: str = "", language: str = "ar", role: str = "",
                site_ids=(), all_sites: bool = False, is_active: bool = True,
                step_up_at: float | None = None) -> tuple[User, GrantRequest | None]:
    """Create an account. An account that would reach the compartment (an investigator) is
    created without role, sites or access, and its access becomes a grant request waiting for
    a second administrator (returned with the user)."""
    access.require(actor, Perm.USER_MANAGE)
    _check_role(role)
    _require_scope(actor, all_sites=all_sites, site_ids=site_ids)
    if User.objects.filter(username__iexact=username).exists():
        raise MawaError(_("This user name is taken."), code="invalid",
                        fields={"username": [_("This user name is taken.")]})
    site_ids = set(site_ids)
    four_eyes = _widens_compartment(
        before_role="", before_active=False, before_all=False, before_sites=set(), role=role,
        is_active=is_active, all_sites=all_sites, site_ids=site_ids)
    if four_eyes:
        _require_step_up(step_up_at)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email,
                language=language, role="" if four_eyes else role,
                all_sites=False if four_eyes else all_sites, is_active=is_active)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit(actor=actor, action="user_create", obj=user,
          detail={"role": user.role, "all_sites": user.all_sites, "is_active": user.is_active,
                  "sites": [] if four_eyes else _codes(site_ids)})
    request = None
    if four_eyes:
        request = _grant_request_create(actor=actor, user=user, kind=GrantRequest.Kind.ACCESS,
                                        step_up_at=step_up_at, role=role, all_sites=all_sites,
                                        site_ids=site_ids, is_active=is_active)
    elif site_ids:
        user.sites.set(list(site_ids))
    return user, request


@transaction.atomic
def user_access_change(*, actor, user: User, role: str, site_ids, all_sites: bool,
                       is_active: bool, step_up_at: float | None = None
                       ) -> GrantRequest | None:
    """Change an account's role, sites, every-site flag and active state. A change that opens
    or widens the compartment is not applied: it becomes a grant request (returned)."""
    access.require(actor, Perm.USER_MANAGE)
    _check_role(role)
    user = User.objects.select_for_update().get(pk=user.pk)
    site_ids = set(site_ids)
    _require_scope(actor, user=user, all_sites=all_sites and not user.all_sites,
                   site_ids=site_ids - _site_ids(user))
    if _widens_compartment(before_role=user.role, before_active=user.is_active,
                           before_all=user.all_sites, before_sites=_site_ids(user), role=role,
                           is_active=is_active, all_sites=all_sites, site_ids=site_ids):
        return _grant_request_create(actor=actor, user=user, kind=GrantRequest.Kind.ACCESS,
                                     step_up_at=step_up_at, role=role, all_sites=all_sites,
                                     site_ids=site_ids, is_active=is_active)
    _apply_access(actor=actor, user=user, role=role, all_sites=all_sites, site_ids=site_ids,
                  is_active=is_active)
    return None


@transaction.atomic
def user_profile_update(*, actor, user: User, **values) -> list[str]:
    """Change the account's name, e-mail, language or user name (not its access)."""
    access.require(actor, Perm.USER_MANAGE)
    _require_scope(actor, user=user)
    unknown = set(values) - set(USER_PROFILE_FIELDS)
    if unknown:
        raise Forbidden(_("Access is changed on the user's page, not here."), code="forbidden")
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, values[name])
        user.save(update_fields=changed)
        audit(actor=actor, action="update", obj=user, detail={"fields": sorted(changed)})
    return changed


@transaction.atomic
def user_password_set(*, actor, user: User, password: str) -> None:
    """An administrator sets another account's password. Not for an account that reaches the
    compartment: whoever knew its password could read the compartment without a second
    administrator."""
    access.require(actor, Perm.USER_MANAGE)
    _require_scope(actor, user=user)
    if _reaches_compartment(user) and actor.pk != user.pk:
        raise Forbidden(_("The password of an account that reaches the accountability "
                          "compartment is not set by an administrator."), code="four_eyes")
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(actor=actor, action="password_set", obj=user)


def _two_factor_remove(*, actor, user: User, request: GrantRequest | None = None) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit(actor=actor, action="two_factor_reset", obj=user,
          detail={"grant_request": str(request.pk)} if request else None)
    sessions_end_all(user=user, actor=actor)


@transaction.atomic
def two_factor_reset(*, actor, user: User, step_up_at: float | None = None
                     ) -> GrantRequest | None:
    """Remove an account's authenticator and recovery codes (a lost phone): the next sign-in
    enrols again. For an account that reaches the compartment it is a grant request: with a
    new authenticator of their choosing, whoever holds its password would be in."""
    access.require(actor, Perm.USER_MANAGE)
    _require_scope(actor, user=user)
    if _reaches_compartment(user):
        return _grant_request_create(actor=actor, user=user,
                                     kind=GrantRequest.Kind.TWO_FACTOR_RESET,
                                     step_up_at=step_up_at, role=user.role,
                                     all_sites=user.all_sites, site_ids=_site_ids(user),
                                     is_active=user.is_active)
    _two_factor_remove(actor=actor, user=user)
    return None


def _grant_for_decision(*, actor, request_id) -> GrantRequest:
    access.require(actor, Perm.USER_MANAGE)
    request = (GrantRequest.objects.select_for_update().select_related("target")
               .filter(pk=request_id).first())
    if request is None or not grant_in_scope(actor, request):
        raise NotFound()
    if request.status != GrantRequest.Status.PENDING:
        raise Conflict(_("This request has already been decided."), code="grant_decided")
    return request


def grant_approve(*, actor, request_id, step_up_at: float | None = None) -> GrantRequest:
    """A second administrator approves a grant request: it takes effect now. The requester
    and the account concerned cannot approve it (the attempt is on the ledger)."""
    with transaction.atomic():
        request = _grant_for_decision(actor=actor, request_id=request_id)
        own = actor.pk in (request.requested_by_id, request.target_id)
        if own:
            audit(actor=actor, action="grant_approve_refused", obj=request, outcome="denied",
                  detail={"reason": "own_request" if actor.pk == request.requested_by_id
                          else "own_account"})
        else:
            _require_step_up(step_up_at)
            return _grant_apply(actor=actor, request=request)
    raise Forbidden(_("A second administrator must approve this request, not the one who made "
                      "it or the account it concerns."), code="four_eyes")


def _grant_apply(*, actor, request: GrantRequest) -> GrantRequest:
    request.status, request.decided_by, request.decided_at = (
        GrantRequest.Status.APPROVED, actor, timezone.now())
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit(actor=actor, action="grant_approved", obj=request,
          detail={"user": str(request.target_id), "kind": request.kind,
                  "requested_by": str(request.requested_by_id)})
    user = User.objects.select_for_update().get(pk=request.target_id)
    if request.kind == GrantRequest.Kind.TWO_FACTOR_RESET:
        _two_factor_remove(actor=actor, user=user, request=request)
    else:
        _apply_access(actor=actor, user=user, role=request.role, all_sites=request.all_sites,
                      site_ids=set(request.sites.values_list("pk", flat=True)),
                      is_active=request.is_active, request=request)
    return request


@transaction.atomic
def grant_refuse(*, actor, request_id) -> GrantRequest:
    """Refuse a grant request (or, by its requester, withdraw it): nothing of it applies."""
    request = _grant_for_decision(actor=actor, request_id=request_id)
    request.status, request.decided_at = GrantRequest.Status.REFUSED, timezone.now()
    withdrawn = actor.pk == request.requested_by_id
    request.decided_by = None if withdrawn else actor  # the constraint: never one's own
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit(actor=actor, action="grant_refused", obj=request,
          detail={"user": str(request.target_id), "kind": request.kind,
                  "withdrawn": withdrawn})
    return request


# --- API tokens (issue 20) --------------------------------------------------------------

API_TOKEN_MAX_DAYS = 365
API_TOKEN_DEFAULT_DAYS = 90
API_TOKEN_PREFIX = "mawa_"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _api_token_hash(secret: str) -> str:
    """The keyed hash stored for a token's secret (HMAC-SHA256, the server's secret key)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"mawa.api-token|{secret}".encode(),
                    hashlib.sha256).hexdigest()


def api_token_create(*, user: User, name: str, expires_at: dt.datetime, read_only: bool = True,
                     permissions: list[str] | None = None, sites: list[Site] | None = None,
                     all_sites: bool = False) -> tuple[ApiToken, str]:
    """Create an API token for ``user`` and return it with its secret, which is never stored
    and never shown again. ``permissions`` (empty: the role's outside the compartment) must be
    the user's own; ``sites`` (or ``all_sites``: every site of the user's) the user's own; the
    expiry within ``API_TOKEN_MAX_DAYS``."""
    if not user.is_active or not user.is_authenticated:
        raise Forbidden()
    name = (name or "").strip()
    errors: dict[str, list] = {}
    if not name:
        errors["name"] = [_("Give the token a name.")]
    role_perms = ROLE_PERMISSIONS.get(user.role, frozenset())
    named = sorted(set(permissions or []))
    if any(p not in role_perms for p in named):
        errors["permissions"] = [_("A token cannot have a permission your role does not give.")]
    now = timezone.now()
    if expires_at <= now:
        errors["expires_at"] = [_("The expiry must be in the future.")]
    elif expires_at > now + dt.timedelta(days=API_TOKEN_MAX_DAYS):
        errors["expires_at"] = [_("A token expires within %(days)d days at most.")
                                % {"days": API_TOKEN_MAX_DAYS}]
    chosen = list(sites or [])
    if not chosen and not all_sites:
        errors["sites"] = [_("Choose the token's sites.")]
    own = access.site_ids(user)
    if own is not None and any(s.pk not in own for s in chosen):
        errors["sites"] = [_("A token can only have sites you work at.")]
    if errors:
        raise MawaError(_("The token was not created."), code="invalid", fields=errors)
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():  # pragma: no cover - 1 in 4e9
        prefix = secrets.token_hex(4)
    secret = f"{API_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, secret_hash=_api_token_hash(secret),
            read_only=read_only, permissions=named, all_sites=bool(all_sites and not chosen),
            expires_at=expires_at)
        if chosen:
            token.sites.set(chosen)
        audit(actor=user, action="api_token.create", obj=token,
              detail={"prefix": prefix, "read_only": read_only, "permissions": named,
                      "sites": sorted(s.code for s in chosen), "all_sites": token.all_sites,
                      "expires_at": expires_at.isoformat()})
    return token, secret


def api_token_revoke(*, user: User, token_id) -> ApiToken:
    """Revoke one of ``user``'s own tokens (another's answers like a missing one)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit(actor=user, action="api_token.revoke", obj=token,
                  detail={"prefix": token.prefix})
    return token


class ApiTokenUse:
    """The result of presenting a bearer token: the scoped ``user`` or a ``refusal``
    (``unauthorized``: unknown, malformed, expired, revoked or its user disabled;
    ``read_only``: a writing method with a read-only token)."""

    def __init__(self, user: User | None = None, refusal: str = ""):
        self.user = user
        self.refusal = refusal


def api_token_use(secret: str, *, method: str, path: str) -> ApiTokenUse:
    """Check a presented token and return its user with the token's scope attached
    (``access.TokenScope``). Every use of a known token, allowed or refused, is one entry on
    the audit ledger; an unknown one is answered alike without an entry (no user to name)."""
    secret = (secret or "").strip()
    parts = secret[len(API_TOKEN_PREFIX):].split("_", 1) if secret.startswith(
        API_TOKEN_PREFIX) else []
    if len(parts) != 2 or not parts[0]:
        _api_token_hash(secret)  # the same work as a known prefix
        return ApiTokenUse(refusal="unauthorized")
    token = (ApiToken.objects.select_related("user").filter(prefix=parts[0][:16]).first())
    expected = token.secret_hash if token is not None else "0" * 64
    matches = hmac.compare_digest(expected, _api_token_hash(secret))
    if token is None or not matches:
        return ApiTokenUse(refusal="unauthorized")
    user = token.user
    now = timezone.now()
    refusal = ""
    if token.revoked_at is not None:
        refusal, reason = "unauthorized", "revoked"
    elif token.expires_at <= now:
        refusal, reason = "unauthorized", "expired"
    elif not user.is_active:
        refusal, reason = "unauthorized", "user inactive"
    elif token.read_only and method.upper() not in _SAFE_METHODS:
        refusal, reason = "read_only", "read only"
    else:
        reason = ""
    with transaction.atomic():
        if not refusal:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit(actor=user, action="api_token.use", obj=token,
              outcome="denied" if refusal else "ok",
              detail={"prefix": token.prefix, "method": method.upper()[:10],
                      "path": path[:200], **({"reason": reason} if reason else {})})
    if refusal:
        return ApiTokenUse(refusal=refusal)
    site_ids = None if token.all_sites else frozenset(token.sites.values_list("pk", flat=True))
    user.token_scope = access.TokenScope(  # type: ignore[attr-defined]
        token_id=str(token.pk), read_only=token.read_only,
        permissions=frozenset(token.permissions) if token.permissions else None,
        site_ids=site_ids)
    return ApiTokenUse(user=user)


def api_token_for_request(request) -> ApiTokenUse | None:
    """The request's bearer token, checked once per request (one ledger entry however many
    times the middleware and the API ask); None when the request carries none."""
    if hasattr(request, "_mawa_token_use"):
        return request._mawa_token_use
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    use = None
    if scheme.lower() == "bearer" and request.path.startswith("/api/"):
        use = api_token_use(value, method=request.method or "", path=request.path)
    request._mawa_token_use = use
    return use


# --- site administration (issue 21) ----------------------------------------------------------

SITE_FIELDS = ("code", "kind", "name_ar", "name_en", "latitude", "longitude", "location_note",
               "is_active")


def _site_check(values: dict, *, exclude=None) -> None:
    errors: dict = {}
    code = values.get("code", "")
    if code is not None and not re.fullmatch(r"[A-Z]{2,5}", code or ""):
        errors["code"] = [_("Two to five capital letters, used in short codes.")]
    elif Site.objects.filter(code=code).exclude(pk=exclude).exists():
        errors["code"] = [_("Another site already has this code.")]
    if values.get("kind") not in SiteKind.values:
        errors["kind"] = [_("Choose the kind of site.")]
    for name in ("name_ar", "name_en"):
        if not (values.get(name) or "").strip():
            errors[name] = [_("Give the site's name.")]
    lat, lon = values.get("latitude"), values.get("longitude")
    if (lat is None) != (lon is None):
        errors["longitude" if lon is None else "latitude"] = [
            _("Give both latitude and longitude, or neither.")]
    if lat is not None and not -90 <= lat <= 90:
        errors["latitude"] = [_("Between -90 and 90.")]
    if lon is not None and not -180 <= lon <= 180:
        errors["longitude"] = [_("Between -180 and 180.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)


def site_create(*, actor, values: dict) -> Site:
    """Add a crossing, camp, depot or headquarters. Its restricted location (coordinates,
    description) may be given now or later (``site_update``). Audited, never the values."""
    access.require(actor, Perm.SITE_MANAGE)
    values = {k: values.get(k) for k in SITE_FIELDS if k in values}
    values.setdefault("is_active", True)
    _site_check(values)
    with transaction.atomic():
        site = Site.objects.create(**values)
        audit(actor=actor, action="create", obj=site, detail={"fields": sorted(values)})
    return site


def site_update(*, actor, site: Site, values: dict) -> Site:
    """Change a site's names, kind, state or restricted location (its code, printed in every
    short code, never changes). Audited with the names of the fields changed."""
    access.require(actor, Perm.SITE_MANAGE)
    changes = {k: v for k, v in values.items() if k in SITE_FIELDS and k != "code"}
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        merged = {**{k: getattr(locked, k) for k in SITE_FIELDS}, **changes}
        _site_check(merged, exclude=locked.pk)
        changed = sorted(k for k, v in changes.items() if getattr(locked, k) != v)
        if not changed:
            return locked
        for k in changed:
            setattr(locked, k, changes[k])
        locked.save(update_fields=changed)
        audit(actor=actor, action="update", obj=locked, detail={"fields": changed})
    return locked
