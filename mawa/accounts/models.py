"""Staff accounts: one role each, scoped to sites."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Role
from mawa.core.ids import uuid7


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    sites = models.ManyToManyField("core.Site", blank=True, related_name="users",
                                   verbose_name=_("sites"))
    all_sites = models.BooleanField(
        _("all sites"), default=False,
        help_text=_("Headquarters roles that work across every site."),
    )
    language = models.CharField(_("language"), max_length=8, default="ar",
                                choices=[("ar", _("Arabic")), ("en", _("English"))])
    # How digits are shown on Arabic pages (numbers, dates, codes); input takes both anyway.
    digits = models.CharField(_("digits"), max_length=8, default="latin", choices=[
        ("latin", _("Latin digits (0123456789)")),
        ("arabic", _("Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩)"))])
    # Bumped by "sign out everywhere"; part of the session hash, so every live session ends.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values) | models.Q(role=""),
                                   name="user_role_known"),
        ]

    def get_session_auth_hash(self):
        """Django checks this hash on every request and ends the session when it changes.

        Beyond the password (Django's default), it covers the role, the sites, and the session
        generation: a role change, a change of sites or "sign out everywhere" end every live
        session at its next request (protection.md attack test 6). Disabling a user ends them
        too, because inactive users cannot authenticate.
        """
        from django.utils.crypto import salted_hmac

        from mawa.accounts import access

        # read from the database every time; the request's scoping reuses this read
        site_part = "*" if self.all_sites else ",".join(
            sorted(str(s.pk) for s in access.assigned_sites(self, fresh=True)))
        material = f"{self.password}|{self.role}|{site_part}|{self.session_generation}"
        return salted_hmac("mawa.accounts.session", material, algorithm="sha256").hexdigest()

    # Django's admin asks these. Only administrators get model permissions, and never on the
    # accountability compartment (DESIGN.md: administrators see no compartment content).
    _ADMIN_DENIED_APPS = frozenset({"accountability"})

    def has_perm(self, perm, obj=None):
        if not (self.is_active and self.role == Role.ADMINISTRATOR):
            return False
        return perm.split(".", 1)[0] not in self._ADMIN_DENIED_APPS

    def has_module_perms(self, app_label):
        return self.is_active and self.role == Role.ADMINISTRATOR and (
            app_label not in self._ADMIN_DENIED_APPS)


class TOTPDevice(models.Model):
    """A user's authenticator app (RFC 6238 TOTP, 6 digits, 30 s). The shared secret is stored
    encrypted (``core.crypto``, purpose ``accounts``) with the user id as associated data."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret_encrypted = models.CharField(max_length=200)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code of that step or an earlier one is a replay.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"TOTP for {self.user_id}"


class RecoveryCode(models.Model):
    """Single-use recovery codes, stored only as keyed hashes (HMAC-SHA256)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"],
                                               name="recovery_code_unique")]


class LoginThrottle(models.Model):
    """Failed sign-in counters per account name and per address (protection.md R13).

    ``key`` is ``user:<hmac of the typed name>`` or ``addr:<address>``; the typed name is never
    stored in clear, and unknown names are counted like known ones, so a lockout reveals
    nothing about which accounts exist."""

    key = models.CharField(max_length=100, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)


class UserSession(models.Model):
    """A live session, listed to its user (and ended by "sign out everywhere")."""

    session_key = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="live_sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)


class GrantRequest(models.Model):
    """A change that would open the accountability compartment to someone, waiting for a second
    administrator (four eyes, issue 20).

    ``access``: the account's whole requested access (role, sites, every site, active), applied
    as one on approval; ``two_factor_reset``: the account's authenticator and recovery codes
    removed on approval. Until approved nothing of it takes effect. The requester re-confirmed
    their password and a code (``step_up_at``) and can never decide their own request (the
    database refuses it too)."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor reset")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second administrator")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ACCESS)
    target = models.ForeignKey(User, on_delete=models.PROTECT, related_name="grant_requests")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT,
                                     related_name="grant_requests_made")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    sites = models.ManyToManyField("core.Site", blank=True, related_name="+")
    all_sites = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    step_up_at = models.DateTimeField()
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="grant_requests_decided")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | ~models.Q(decided_by=models.F("requested_by")),
                name="grant_request_four_eyes"),
            models.UniqueConstraint(fields=["target"],
                                    condition=models.Q(status="pending"),
                                    name="grant_request_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.target_id} ({self.status})"


class ApiToken(models.Model):
    """A bearer token for an integration (issue 20): one user's, scoped, expiring, revocable.

    Only a keyed hash of the secret (HMAC-SHA256) is stored, with a short public ``prefix`` to
    find the row; the secret is shown once, when the token is created. The token never gives
    more than its user's role gives at the time of each request (``access.TokenScope``):
    ``permissions`` empty means every permission of the role outside the compartment; the
    compartment only when named here and still held by the role. ``sites`` empty with
    ``all_sites`` means every site of the user's."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    read_only = models.BooleanField(_("read only"), default=True)
    permissions = models.JSONField(default=list, blank=True)
    sites = models.ManyToManyField("core.Site", blank=True, related_name="+")
    all_sites = models.BooleanField(_("all my sites"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"API token {self.prefix} of {self.user_id}"
