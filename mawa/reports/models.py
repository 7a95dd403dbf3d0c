"""Stored outputs of the reports app: generated situation reports and statistics releases."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.ids import uuid7
from mawa.core.models import Site


class StoredReport(models.Model):
    """A situation report generated as a PDF and kept for download (the scheduled
    ``mawa sitrep --yesterday --store``). ``site`` empty means every site. The file lives under
    ``VAR_DIR/reports``; ``sha256`` lets anyone check the copy they were sent."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    day = models.DateField(_("day"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("site"))
    language = models.CharField(_("language"), max_length=5)
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-day", "site__code", "language"]
        verbose_name = _("stored report")
        verbose_name_plural = _("stored reports")
        constraints = [
            models.UniqueConstraint(fields=["day", "site", "language"],
                                    name="storedreport_day_site_lang"),
            models.UniqueConstraint(fields=["day", "language"], condition=models.Q(site=None),
                                    name="storedreport_day_all_lang"),
        ]

    def __str__(self) -> str:
        return self.file_name


class StatsRelease(models.Model):
    """One publication of the protected statistics. Only the *released* (suppressed and
    rounded) table is kept — the next release is checked against it so that two releases
    cannot be differenced (protection.md R18)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    day = models.DateField(_("day"), unique=True)
    table = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("statistics release")
        verbose_name_plural = _("statistics releases")

    def __str__(self) -> str:
        return f"stats {self.day}"
