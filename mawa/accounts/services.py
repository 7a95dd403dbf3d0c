"""Writes on accounts: two-factor enrolment and checks, recovery codes, throttling, sessions.

Protection.md R11 (two factors for all staff, no replay, single-use hashed recovery codes),
R13 (throttling and lockout, same answer for unknown and known accounts), R14 (sessions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
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

from mawa.accounts.models import LoginThrottle, RecoveryCode, TOTPDevice, User, UserSession
from mawa.core.audit import audit
from mawa.core.crypto import decrypt_text, encrypt_text
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import MawaError

TOTP_STEP = 30
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
ACCOUNT_MAX_FAILURES = 5  # DHIS2: lock after 5 failures in 15 minutes
ADDRESS_MAX_FAILURES = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)


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

def _keys(username: str, address: str) -> list[tuple[str, int]]:
    name_hash = hmac.new(settings.SECRET_KEY.encode(), username.strip().lower().encode(),
                         hashlib.sha256).hexdigest()[:40]
    keys = [(f"user:{name_hash}", ACCOUNT_MAX_FAILURES)]
    if address:
        keys.append((f"addr:{address}", ADDRESS_MAX_FAILURES))
    return keys


def throttle_check(*, username: str, address: str) -> None:
    """Raise ``Throttled`` while the account name or the address is locked."""
    now = timezone.now()
    for key, _limit in _keys(username, address):
        row = LoginThrottle.objects.filter(key=key, locked_until__gt=now).first()
        if row and row.locked_until:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise Throttled(minutes)


def throttle_failure(*, username: str, address: str) -> None:
    """Count a failed attempt; lock the name or address when it reaches its limit."""
    now = timezone.now()
    with transaction.atomic():
        for key, limit in _keys(username, address):
            LoginThrottle.objects.bulk_create(
                [LoginThrottle(key=key, failures=0, window_start=now)], ignore_conflicts=True)
            row = LoginThrottle.objects.select_for_update().get(key=key)
            if now - row.window_start > THROTTLE_WINDOW:
                row.failures, row.window_start = 0, now
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = now + LOCKOUT
                audit(actor=None, action="lockout", outcome="denied",
                      detail={"scope": key.split(":")[0]})
            row.save()


def throttle_success(*, username: str) -> None:
    for key, _limit in _keys(username, ""):
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
