"""Sites, the ledger tables and the base of every domain record."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mawa.core.ids import uuid7


class SiteKind(models.TextChoices):
    CROSSING = "crossing", _("Crossing point")
    CAMP = "camp", _("Internment camp")
    DEPOT = "depot", _("Depot")
    HQ = "hq", _("Headquarters")


class Site(models.Model):
    """A place where Mawa is used: a crossing, a camp, a depot or headquarters.

    The exact location of a camp is not disclosed (UNHCR/ICRC data-protection guidance): it is
    read only through ``accounts.selectors.site_location_get``, which checks the role and audits.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    code = models.CharField(_("code"), max_length=5, unique=True,
                            help_text=_("Two to five capital letters, used in short codes."))
    kind = models.CharField(_("kind"), max_length=16, choices=SiteKind.choices)
    name_ar = models.CharField(_("name in Arabic"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6,
                                   null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6,
                                    null=True, blank=True)
    location_note = models.CharField(_("location description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2,5}$"), name="site_code_letters"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def name(self) -> str:
        return self.name_ar if (get_language() or "ar").startswith("ar") else self.name_en


class ShortCodeCounter(models.Model):
    """Next short-code number per site; incremented under a row lock."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)


class DomainModel(models.Model):
    """Base of domain records: UUIDv7 key, the site that created it, a short code."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("site"))
    short_code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class LedgerEntry(models.Model):
    """One entry of an append-only, hash-chained stream. See ``mawa.core.ledger``.

    UPDATE and DELETE are refused by database triggers (migration 0002).
    """

    stream = models.CharField(max_length=120)
    seq = models.PositiveBigIntegerField()
    ts = models.CharField(max_length=32, help_text="UTC time, ISO 8601 with microseconds")
    actor = models.CharField(max_length=64, blank=True)
    site = models.CharField(max_length=5, blank=True)
    kind = models.CharField(max_length=64)
    payload = models.TextField(help_text="RFC 8785 canonical JSON")
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="ledger_stream_seq_unique"),
        ]
        indexes = [models.Index(fields=["kind"], name="ledger_kind_idx")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.kind}"


class LedgerHead(models.Model):
    """The current head of each stream. A cache used to serialise writers (row lock);
    ``mawa verify`` never trusts it and recomputes every chain."""

    stream = models.CharField(max_length=120, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)


class Checkpoint(models.Model):
    """A site's Ed25519 signature over (stream, seq, head hash, time)."""

    stream = models.CharField(max_length=120)
    seq = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    ts = models.CharField(max_length=32)
    site = models.CharField(max_length=5)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        indexes = [models.Index(fields=["stream", "seq"], name="checkpoint_stream_seq")]


class SiteKey(models.Model):
    """Public half of a site's signing key (the private half is a file, see ``core.keys``)."""

    site_code = models.CharField(max_length=5)
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


# Background jobs (core.jobs): the model lives beside its services.
# Field operations (core.changes, mawa.sync): nodes, changes, record heads, peers, conflicts.
from mawa.core.changes_models import (  # noqa: E402,F401
    Change,
    ChangeOp,
    ChangeState,
    ConflictKind,
    Node,
    NodeRole,
    PeerState,
    RecordHead,
    SyncConflict,
)
from mawa.core.jobs_models import Job, JobState  # noqa: E402,F401
