"""The internment camp: layout, assignments, movements, roll calls, distributions, incidents.

Only fields, constraints and small properties live here. Every write goes through
``mawa.camp.services``; every read that a user sees through ``mawa.camp.selectors``.

Rules that can be constraints are constraints: one open assignment per person (partial unique
index), capacities and quantities never negative, stock never below zero.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mawa.core.fields import EncryptedTextField
from mawa.core.ids import uuid7
from mawa.core.models import DomainModel, Site
from mawa.reception.models import Person

USER = settings.AUTH_USER_MODEL


# --- layout ------------------------------------------------------------------------------

class Zone(DomainModel):
    """A part of the camp (e.g. the officers' zone), holding blocks."""

    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="zone_site_name")]

    def __str__(self) -> str:
        return self.name


class Block(DomainModel):
    """A block of shelters; the unit of a roll call. ``x, y, width, height`` place it on the
    camp plan (SVG user units, 0–1000 × 0–600)."""

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="blocks",
                             verbose_name=_("zone"))
    name = models.CharField(_("name"), max_length=80)
    x = models.PositiveSmallIntegerField(default=0)
    y = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveSmallIntegerField(default=100)
    height = models.PositiveSmallIntegerField(default=80)

    class Meta:
        ordering = ["name"]
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="block_site_name")]

    def __str__(self) -> str:
        return self.name


class ShelterKind(models.TextChoices):
    TENT = "tent", _("Tent")
    ROOM = "room", _("Room")
    HALL = "hall", _("Hall")


class Shelter(DomainModel):
    """A tent, room or hall with a number of places."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="shelters",
                              verbose_name=_("block"))
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=8, choices=ShelterKind.choices,
                            default=ShelterKind.TENT)
    capacity = models.PositiveIntegerField(_("capacity"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        constraints = [
            models.UniqueConstraint(fields=["block", "name"], name="shelter_block_name"),
            models.CheckConstraint(condition=Q(kind__in=ShelterKind.values),
                                   name="shelter_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.block.name}/{self.name}" if "block" in self._state.fields_cache \
            else self.name


# --- assignments -------------------------------------------------------------------------

class Assignment(models.Model):
    """A stay of one person in one shelter: check-in, and check-out when it ends.

    ``block`` and ``site`` repeat the shelter's so that occupancy and roll-call queries read one
    indexed table. At most one open assignment per person (database constraint).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    client_key = models.UUIDField(unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="camp_assignments")
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="assignments")
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="assignments")
    start_at = models.DateTimeField(_("checked in"))
    end_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    end_reason = models.CharField(_("reason for leaving"), max_length=200, blank=True)
    override_reason = models.CharField(_("capacity override reason"), max_length=500,
                                       blank=True)
    checked_in_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    checked_out_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+",
                                       null=True, blank=True)

    class Meta:
        ordering = ["-start_at"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(end_at__isnull=True),
                                    name="assignment_one_open_per_person"),
        ]
        indexes = [
            models.Index(fields=["block"], condition=Q(end_at__isnull=True),
                         name="assignment_open_block"),
            models.Index(fields=["shelter"], condition=Q(end_at__isnull=True),
                         name="assignment_open_shelter"),
            # occupancy by shelter for the plan and the dashboard: read from the index alone
            models.Index(fields=["site", "shelter"], condition=Q(end_at__isnull=True),
                         name="assignment_open_site_shelter"),
            models.Index(fields=["person", "-start_at"], name="assignment_person_start"),
        ]


# --- movements ---------------------------------------------------------------------------

class MovementKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    COURT = "court", _("Court or judicial detention")
    VISIT = "visit", _("Visit")
    TRANSFER = "transfer", _("Transfer to another camp")
    RELEASE = "release", _("Release")
    REPATRIATION = "repatriation", _("Repatriation")
    ASYLUM = "asylum", _("Referral to asylum")
    ESCAPE = "escape", _("Escape")
    DEATH = "death", _("Death")


#: movements after which the person is expected back (they stay assigned to their shelter)
TEMPORARY_KINDS = frozenset({MovementKind.HOSPITAL, MovementKind.COURT, MovementKind.VISIT})


class Movement(DomainModel):
    """A person leaving the camp: out and back (hospital, court, visit) or for good."""

    client_key = models.UUIDField(unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="camp_movements")
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    out_at = models.DateTimeField(_("left at"))
    due_back_at = models.DateTimeField(_("due back"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    destination = models.CharField(_("destination"), max_length=200, blank=True)
    # why to hospital or court: sealed with the camp field key (``core.fields``)
    note = EncryptedTextField(_("note"), purpose="camp", blank=True)
    is_open = models.BooleanField(default=False, help_text="Out and not back yet.")
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    returned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True)

    class Meta:
        ordering = ["-out_at"]
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MovementKind.values),
                                   name="movement_kind_known"),
            models.UniqueConstraint(fields=["person"], condition=Q(is_open=True),
                                    name="movement_one_open_per_person"),
        ]
        indexes = [
            models.Index(fields=["site", "due_back_at"], condition=Q(is_open=True),
                         name="movement_open_site_due"),
            models.Index(fields=["person", "-out_at"], name="movement_person_out"),
        ]

    @property
    def is_temporary(self) -> bool:
        return self.kind in TEMPORARY_KINDS


# --- roll calls --------------------------------------------------------------------------

class RollCallMode(models.TextChoices):
    COUNT = "count", _("Head count per shelter")
    SCAN = "scan", _("ID card scan")


class RollCallStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    BALANCED = "balanced", _("Balanced")
    DISCREPANCY = "discrepancy", _("Discrepancy")
    RESOLVED = "resolved", _("Discrepancy resolved")


class RollCall(DomainModel):
    """One count of one block (or one shelter of it)."""

    client_key = models.UUIDField(unique=True, editable=False)
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="roll_calls",
                              verbose_name=_("block"))
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="roll_calls",
                                null=True, blank=True, verbose_name=_("shelter"))
    mode = models.CharField(_("method"), max_length=8, choices=RollCallMode.choices)
    day = models.DateField(_("day"))
    started_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=RollCallStatus.choices,
                              default=RollCallStatus.OPEN)
    expected = models.PositiveIntegerField(_("expected"), default=0)
    present = models.PositiveIntegerField(_("present"), default=0)
    missing = models.PositiveIntegerField(_("missing"), default=0)
    unexpected = models.PositiveIntegerField(_("unexpected"), default=0)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True)
    taken_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("roll call")
        verbose_name_plural = _("roll calls")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RollCallStatus.values),
                                   name="rollcall_status_known"),
            models.CheckConstraint(condition=~Q(status="resolved") | ~Q(resolution=""),
                                   name="rollcall_resolved_has_reason"),
        ]
        indexes = [
            models.Index(fields=["site", "day"], name="rollcall_site_day"),
            models.Index(fields=["site", "status"], name="rollcall_site_status"),
        ]


class RollCallCount(models.Model):
    """The head count of one shelter in a count-mode roll call."""

    roll_call = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="counts")
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="+")
    counted = models.PositiveIntegerField()
    expected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["roll_call", "shelter"],
                                               name="rollcallcount_unique")]


class RollCallScan(models.Model):
    """One ID card scanned (or typed) in a scan-mode roll call. Scanning twice counts once."""

    roll_call = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="scans")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["roll_call", "person"],
                                               name="rollcallscan_unique")]


class RollCallLine(models.Model):
    """A finding of a closed roll call: a person missing, a person present but not expected,
    or a shelter whose head count differs."""

    class Finding(models.TextChoices):
        MISSING = "missing", _("Missing")
        UNEXPECTED = "unexpected", _("Unexpected")
        COUNT = "count", _("Head count differs")

    roll_call = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="lines")
    finding = models.CharField(max_length=12, choices=Finding.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", null=True,
                               blank=True)
    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="+", null=True,
                                blank=True)
    difference = models.IntegerField(default=0)

    # not a column: the shelter the person is housed in now, set by selectors.rollcall_findings
    where: Shelter | None


# --- distributions -----------------------------------------------------------------------

class ItemKind(models.TextChoices):
    MEAL = "meal", _("Meal")
    ITEM = "item", _("Item")


class ItemType(DomainModel):
    """A meal or an item handed out, with its entitlement rules as data.

    - ``min_interval_hours``: at least this long between two for the same person;
    - ``max_per_day``: at most this many per person per day (0 = no limit);
    - ``excludes``: types the person may not also receive the same day (e.g. in Ramadan the
      evening meal excludes lunch) — symmetric;
    - ``entitled_statuses``: lifecycle statuses entitled to it; ``requires_present``: the
      person must be in the camp (not out at hospital, court …).
    """

    name_ar = models.CharField(_("name in Arabic"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=ItemKind.choices,
                            default=ItemKind.MEAL)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=10, decimal_places=2,
                                    default=0)
    per_person_per_day = models.DecimalField(_("units per person per day"), max_digits=8,
                                             decimal_places=3, default=1)
    min_interval_hours = models.PositiveIntegerField(_("minimum interval (hours)"), default=0)
    max_per_day = models.PositiveIntegerField(_("maximum per day"), default=1)
    excludes = models.ManyToManyField("self", symmetrical=True, blank=True,
                                      verbose_name=_("excludes"))
    entitled_statuses = models.JSONField(_("entitled statuses"), default=list)
    requires_present = models.BooleanField(_("only for people present in the camp"),
                                           default=True)
    stock = models.IntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("item type")
        verbose_name_plural = _("item types")
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="itemtype_stock_not_negative"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0),
                                   name="itemtype_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name_ar if (get_language() or "ar").startswith("ar") else self.name_en

    @property
    def name(self) -> str:
        return str(self)


class StockEntry(models.Model):
    """A change of stock: received, counted, written off (negative), or handed out."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    item = models.ForeignKey(ItemType, on_delete=models.PROTECT, related_name="stock_entries")
    quantity = models.IntegerField()
    reason = models.CharField(max_length=200)
    at = models.DateTimeField()
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    client_key = models.UUIDField(unique=True, editable=False)


class Distribution(models.Model):
    """One meal or item handed to one person."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    client_key = models.UUIDField(unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ItemType, on_delete=models.PROTECT, related_name="distributions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    at = models.DateTimeField()
    day = models.DateField()
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["person", "day"], name="distribution_person_day"),
            models.Index(fields=["site", "day"], name="distribution_site_day"),
        ]


class DailyDistribution(models.Model):
    """Running totals per item and day, kept by ``distribution_record`` in the same
    transaction (under the item's row lock), so that the dashboard and the cost of hosting read
    a few hundred rows instead of a year of distributions."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ItemType, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    quantity = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "day"], name="dailydist_item_day")]
        indexes = [models.Index(fields=["site", "day"], name="dailydist_site_day")]


# --- incidents ---------------------------------------------------------------------------

class IncidentKind(models.TextChoices):
    SECURITY = "security", _("Security")
    HEALTH = "health", _("Health")
    FIRE = "fire", _("Fire")
    DISCIPLINE = "discipline", _("Discipline")
    PROTECTION = "protection", _("Protection")
    SEXUAL_VIOLENCE = "sgbv", _("Sexual or gender-based violence")
    SELF_HARM = "self_harm", _("Self-harm")
    OTHER = "other", _("Other")


#: visible only to holders of Perm.INCIDENT_SENSITIVE_VIEW (need-to-know, ICRC handbook)
SENSITIVE_INCIDENT_KINDS = frozenset({IncidentKind.PROTECTION, IncidentKind.SEXUAL_VIOLENCE,
                                      IncidentKind.SELF_HARM})


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Incident(DomainModel):
    client_key = models.UUIDField(unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=12, choices=IncidentKind.choices)
    is_sensitive = models.BooleanField(default=False, editable=False)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="+", null=True,
                              blank=True, verbose_name=_("block"))
    # incident narratives (SGBV, self-harm, health): sealed with the camp field key
    summary = EncryptedTextField(_("what happened"), purpose="camp")
    persons = models.ManyToManyField(Person, blank=True, related_name="+",
                                     verbose_name=_("people involved"))
    is_closed = models.BooleanField(_("closed"), default=False)
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=IncidentKind.values),
                                   name="incident_kind_known"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values),
                                   name="incident_severity_known"),
        ]
        indexes = [models.Index(fields=["site", "is_closed"], name="incident_site_open")]


class IncidentFollowUp(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField()
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = EncryptedTextField(_("follow-up"), purpose="camp")
    closes = models.BooleanField(default=False)

    class Meta:
        ordering = ["at"]
