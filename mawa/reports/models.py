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


class DaySnapshot(models.Model):
    """The counts of one closed day that the situation report would otherwise read from the
    whole register (persons by status, site and category, arrivals, arrival groups of the day,
    lifecycle moves of the day): a few hundred ``DayCount`` rows instead of a million persons.

    Kept only for days that are over (before today), by the nightly ``mawa sitrep --store`` or
    the first report of the day asked for (``reports.services.snapshot_store``); re-derived from
    the records by ``reports.selectors.snapshot_derive``; dropped from the day of a backdated
    change on (the reception hooks, ``reports.services.snapshot_invalidate``), and checked
    against the records by ``mawa consistency``. A day without one is read from the records."""

    day = models.DateField(_("day"), primary_key=True)
    built_at = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("day snapshot")
        verbose_name_plural = _("day snapshots")

    def __str__(self) -> str:
        return f"snapshot {self.day}"


class DayCount(models.Model):
    """One figure of a ``DaySnapshot``: how many persons (``n``) at the end of ``day`` fall
    under one ``measure`` and key. ``site`` is the site that registered them, ``held`` the site
    holding them at the end of the day (for ``change``: the site of the move), so that any
    scope — one site, several, all — is the sum of the rows where either is in it, as the
    report's scope reads the register.

    Measures and their keys ``a`` / ``b``:

    - ``population``: status / category; ``first`` the earliest arrival among them;
    - ``arrival``: the day of arrival (ISO, the 30 days of the arrivals chart);
    - ``group``: the arrival group's id ("" without a group), of the arrivals of the day;
    - ``change``: from status / to status, of the lifecycle moves of the day.
    """

    POPULATION, ARRIVAL, GROUP, CHANGE = "population", "arrival", "group", "change"

    id = models.BigAutoField(primary_key=True)
    day = models.DateField(db_index=True)
    measure = models.CharField(max_length=16)
    site = models.UUIDField(null=True)
    held = models.UUIDField(null=True)
    a = models.CharField(max_length=40, blank=True, default="")
    b = models.CharField(max_length=40, blank=True, default="")
    n = models.BigIntegerField(default=0)
    first = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("day count")
        verbose_name_plural = _("day counts")

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.a} {self.b}: {self.n}"

    def key(self) -> tuple:
        return (self.measure, str(self.site or ""), str(self.held or ""), self.a, self.b)
