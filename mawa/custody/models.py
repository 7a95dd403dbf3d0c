"""Surrendered materiel: the catalogue, items, receipts, stores, stock checks, legal holds.

Fields follow ``reference/custody.md`` (IDDRS 4.10, ISACS/MOSAIC 05.30, ITI, UNROCA). Only
fields, constraints and small properties live here; every write goes through
``mawa.custody.services``.

An item's *current* custodian, location, state, quantity and hold flag are a projection of its
custody events (``mawa.custody.derive``): the services write them in the same transaction as
the ledger entry that justifies them, and ``mawa custody verify`` recomputes them from the
ledger and names any item whose projection disagrees. Nobody edits them by hand (the admin
shows them read-only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mawa.core.ids import uuid7
from mawa.core.models import DomainModel, Site


def display_in_language(name: str, name_ar: str) -> str:
    """A catalogue or store name as the active language shows it: the Arabic name on Arabic
    pages when there is one, else the name (Latin designations such as "AKM" are the
    international ones)."""
    if name_ar and (get_language() or "ar").startswith("ar"):
        return name_ar
    return name


class Kind(models.TextChoices):
    WEAPON = "weapon", _("Weapon")
    AMMUNITION = "ammunition", _("Ammunition lot")
    VEHICLE = "vehicle", _("Vehicle or heavy system")


class ItiCategory(models.TextChoices):
    """International Tracing Instrument, art. 4: small arms and light weapons."""

    PISTOL = "SA-pistol", _("Revolvers and self-loading pistols")
    RIFLE = "SA-rifle", _("Rifles and carbines")
    SMG = "SA-smg", _("Sub-machine guns")
    ASSAULT_RIFLE = "SA-assault", _("Assault rifles")
    LMG = "SA-lmg", _("Light machine guns")
    HMG = "LW-hmg", _("Heavy machine guns")
    GRENADE_LAUNCHER = "LW-grenade", _("Grenade launchers")
    AA_GUN = "LW-aagun", _("Portable anti-aircraft guns")
    AT_GUN = "LW-atgun", _("Portable anti-tank guns")
    RECOILLESS = "LW-recoilless", _("Recoilless rifles")
    AT_LAUNCHER = "LW-atlauncher", _("Portable anti-tank missile and rocket launchers")
    AA_LAUNCHER = "LW-aalauncher", _("Portable anti-aircraft missile launchers")
    MORTAR = "LW-mortar", _("Mortars under 100 mm")


class UnrocaCategory(models.TextChoices):
    """UN Register of Conventional Arms: the seven categories and the optional SALW list
    (whose mortar limit is 75 mm where the ITI uses 100 mm, hence both codes are stored)."""

    I = "I", _("I Battle tanks")  # noqa: E741
    II = "II", _("II Armoured combat vehicles")
    III = "III", _("III Large-calibre artillery systems")
    IV = "IV", _("IV Combat aircraft")
    V = "V", _("V Attack helicopters")
    VI = "VI", _("VI Warships")
    VII = "VII", _("VII Missiles and missile launchers")
    VIIB = "VII-b", _("VII(b) Man-portable air-defence systems")
    SA1 = "SA1", _("SALW: revolvers and self-loading pistols")
    SA2 = "SA2", _("SALW: rifles and carbines")
    SA3 = "SA3", _("SALW: sub-machine guns")
    SA4 = "SA4", _("SALW: assault rifles")
    SA5 = "SA5", _("SALW: light machine guns")
    LW1 = "LW1", _("SALW: heavy machine guns")
    LW2 = "LW2", _("SALW: grenade launchers")
    LW3 = "LW3", _("SALW: portable anti-tank guns")
    LW4 = "LW4", _("SALW: recoilless rifles")
    LW5 = "LW5", _("SALW: portable anti-tank missile launchers and rocket systems")
    LW6 = "LW6", _("SALW: mortars under 75 mm")
    LW7 = "LW7", _("SALW: other light weapons")


class MarkingIntegrity(models.TextChoices):
    INTACT = "intact", _("Intact")
    ALTERED = "altered", _("Altered")
    ERASED = "erased", _("Erased")


class Condition(models.TextChoices):
    SERVICEABLE = "serviceable", _("Serviceable")
    UNSERVICEABLE = "unserviceable", _("Unserviceable")


class State(models.TextChoices):
    """Derived from events by ``mawa.custody.derive``; never set by hand."""

    IN_CUSTODY = "in_custody", _("In custody")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_ON_ACCESS = "out_on_access", _("Out of the store (access)")
    MISSING = "missing", _("Missing (loss reported)")
    REFUSED = "refused", _("Refused at the gate")
    CONSUMED = "consumed", _("Split or merged into other lots")
    DESTROYED = "destroyed", _("Destroyed")
    TRANSFERRED = "transferred", _("Transferred to the national authority")
    RETURNED = "returned", _("Returned to the country of origin")


class MaterielModel(models.Model):
    """A reference entry of the catalogue (administrators edit it in the admin)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("model"), max_length=120, unique=True)
    name_ar = models.CharField(_("model in Arabic"), max_length=120, blank=True,
                               help_text=_("The name an Arabic page shows (e.g. "
                                           "“كلاشنكوف AKM”); the model name when empty."))
    make = models.CharField(_("make"), max_length=120, blank=True)
    calibre = models.CharField(_("calibre"), max_length=40, blank=True)
    calibre_mm = models.DecimalField(_("calibre in mm"), max_digits=6, decimal_places=2,
                                     null=True, blank=True)
    iti_category = models.CharField(_("ITI category"), max_length=16,
                                    choices=ItiCategory.choices, blank=True)
    unroca_category = models.CharField(_("UNROCA category"), max_length=8,
                                       choices=UnrocaCategory.choices, blank=True)
    country = models.CharField(_("country of design"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("materiel model")
        verbose_name_plural = _("materiel models")

    def __str__(self) -> str:
        name = self.display_name
        return f"{name} ({self.calibre})" if self.calibre else name

    @property
    def display_name(self) -> str:
        """The name in the active language: Arabic on Arabic pages when there is one."""
        return display_in_language(self.name, self.name_ar)


class Store(DomainModel):
    """A store (armoury, ammunition bunker, vehicle park) at a site; bays and racks are text."""

    name = models.CharField(_("name"), max_length=120)
    name_ar = models.CharField(_("name in Arabic"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices,
                            default=Kind.WEAPON)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["site__code", "name"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="store_site_name")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language: Arabic on Arabic pages when there is one."""
        return display_in_language(self.name, self.name_ar)


class Receipt(DomainModel):
    """The surrender at the gate of one person (or one arrival group) and its signed receipt.

    Open while items are being recorded, issued (signed, immutable) once handed over.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ISSUED = "issued", _("Issued")

    client_key = models.UUIDField(unique=True, editable=False)
    person = models.ForeignKey("reception.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("person"))
    group = models.ForeignKey("reception.ArrivalGroup", on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("arrival group"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("received by"))
    witness = models.CharField(_("witness"), max_length=160, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateTimeField(null=True, blank=True)
    signed_payload = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.CheckConstraint(condition=models.Q(person__isnull=False)
                                   | models.Q(group__isnull=False), name="receipt_has_bearer"),
        ]

    def __str__(self) -> str:
        return self.short_code


DERIVED_FIELDS = ("state", "custodian", "custodian_name", "location_site", "store", "bay", "rack",
                  "quantity", "on_hold", "seal", "deactivated", "remarked", "item_seq")


class Item(DomainModel):
    """One weapon, one ammunition lot or one vehicle/heavy system. ``short_code`` is its tag."""

    client_key = models.UUIDField(unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="items", verbose_name=_("receipt"))
    catalogue = models.ForeignKey(MaterielModel, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("model"))
    iti_category = models.CharField(_("ITI category"), max_length=16,
                                    choices=ItiCategory.choices, blank=True)
    unroca_category = models.CharField(_("UNROCA category"), max_length=8,
                                       choices=UnrocaCategory.choices, blank=True)
    make = models.CharField(_("make"), max_length=120, blank=True)
    model = models.CharField(_("model"), max_length=120, blank=True)
    variant = models.CharField(_("variant"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    serial_key = models.CharField(max_length=80, blank=True, editable=False, db_index=True)
    serial_duplicate = models.BooleanField(_("serial seen on another item"), default=False)
    parts_serials = models.CharField(_("serials of major parts"), max_length=400, blank=True)
    calibre = models.CharField(_("calibre"), max_length=40, blank=True)
    country_of_manufacture = models.CharField(_("country of manufacture"), max_length=60,
                                              blank=True)
    year_of_manufacture = models.PositiveSmallIntegerField(_("year of manufacture"), null=True,
                                                           blank=True)
    markings = models.TextField(_("markings (verbatim)"), blank=True)
    marking_location = models.CharField(_("marking location"), max_length=120, blank=True)
    marking_integrity = models.CharField(_("marking integrity"), max_length=8,
                                         choices=MarkingIntegrity.choices,
                                         default=MarkingIntegrity.INTACT)
    condition = models.CharField(_("condition at surrender"), max_length=14,
                                 choices=Condition.choices, default=Condition.SERVICEABLE)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=300, blank=True)
    cleared_by = models.CharField(_("cleared by"), max_length=120, blank=True)
    verified_by = models.CharField(_("verified by"), max_length=120, blank=True)
    # ammunition
    ammunition_type = models.CharField(_("ammunition type"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    packaging = models.CharField(_("packaging"), max_length=20, blank=True)
    lot_number = models.CharField(_("lot or batch number"), max_length=80, blank=True)
    headstamps = models.CharField(_("headstamps"), max_length=200, blank=True)
    hazard_division = models.CharField(_("hazard division and compatibility group"),
                                       max_length=8, blank=True)
    safety_assessment = models.CharField(_("safety assessment"), max_length=20, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("parent lot"))
    # vehicles and heavy systems
    chassis_number = models.CharField(_("hull or chassis number"), max_length=80, blank=True)
    engine_number = models.CharField(_("engine number"), max_length=80, blank=True)
    plate = models.CharField(_("plate"), max_length=40, blank=True)
    tactical_markings = models.CharField(_("tactical markings and insignia"), max_length=200,
                                         blank=True)
    mounted_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="mounted", verbose_name=_("mounted on"))
    documents_on_board = models.TextField(_("documents found on board"), blank=True)
    hazards = models.CharField(_("hazards"), max_length=200, blank=True)

    # --- projection of the custody events (see module docstring) ------------------------
    state = models.CharField(_("state"), max_length=14, choices=State.choices)
    custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("custodian"))
    custodian_name = models.CharField(_("held by"), max_length=160, blank=True)
    location_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("location"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="items", verbose_name=_("store"))
    bay = models.CharField(_("bay"), max_length=20, blank=True)
    rack = models.CharField(_("rack"), max_length=20, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    on_hold = models.BooleanField(_("legal hold"), default=False)
    seal = models.CharField(_("seal number"), max_length=40, blank=True)
    deactivated = models.BooleanField(_("deactivated or demilitarised"), default=False)
    remarked = models.BooleanField(_("re-marked"), default=False)
    item_seq = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        indexes = [
            models.Index(fields=["store", "-id"], name="item_store_id"),
            models.Index(fields=["location_site", "state", "kind"], name="item_loc_state"),
            models.Index(fields=["site", "state", "kind"], name="item_site_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(kind="weapon") | models.Q(quantity__lte=1),
                                   name="item_weapon_single"),
        ]

    def __str__(self) -> str:
        return self.short_code

    @property
    def title(self) -> str:
        """Make, model and variant; the model by the catalogue's name in the active language
        when the catalogue entry was read with the item (``select_related("catalogue")``:
        never a query per row)."""
        model = self.model
        catalogue = self._state.fields_cache.get("catalogue")
        if catalogue is not None and model == catalogue.name:
            model = catalogue.display_name
        return " ".join(p for p in (self.make, model, self.variant) if p) or \
            self.get_kind_display()

    @property
    def left_custody(self) -> bool:
        return self.state in LEFT_CUSTODY


LEFT_CUSTODY = frozenset({State.DESTROYED, State.TRANSFERRED, State.RETURNED})


class CustodyEvent(models.Model):
    """An index row per item and ledger entry, so an item's history is one indexed query.

    The ledger entry is the record; this row points at it and copies, from it, what the
    reports need to read the register on a past day with aggregate queries: the entry's time
    and the item's state and quantity before and after the event (``derive.apply``; the
    "after" is the one recorded in the entry's line). ``from_state`` and ``from_quantity`` are
    NULL for the event that created the item (surrender, refusal, a new lot of a split or
    merge). Append-only as well: ``services._common._record`` creates them in the transaction of the
    entry, nothing updates them (migration 0004 filled them once from the ledger).
    """

    id = models.BigAutoField(primary_key=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="events")
    ledger_entry = models.ForeignKey("core.LedgerEntry", on_delete=models.PROTECT,
                                     related_name="+")
    kind = models.CharField(max_length=32)
    item_seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    from_state = models.CharField(max_length=14, null=True, choices=State.choices)
    to_state = models.CharField(max_length=14, choices=State.choices)
    from_quantity = models.PositiveIntegerField(null=True)
    to_quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "item_seq"],
                                               name="custody_event_item_seq")]
        indexes = [
            # the events after a day (undone from the register to give that day's state)
            models.Index(fields=["at"], name="custody_event_at"),
            # the surrenders up to a day (received to date)
            models.Index(fields=["kind", "at"], name="custody_event_kind_at"),
        ]


class ItemPhoto(models.Model):
    class Subject(models.TextChoices):
        ITEM = "item", _("Item")
        MARKING = "marking", _("Marking")
        HEADSTAMP = "headstamp", _("Headstamp")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="photos")
    subject = models.CharField(_("subject"), max_length=10, choices=Subject.choices)
    image = models.FileField(upload_to="custody/photos/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class LegalHold(models.Model):
    """A legal hold set by an investigator (IDDRS 6.40 §7.1: do not destroy evidence).

    ``reason`` belongs to the accountability compartment: it is never shown to, exported for,
    or written to the ledger for anyone but investigators. Custody staff see only that a hold
    exists ("cannot be disposed: legal hold").
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["item", "lifted_at"], name="hold_item_active")]


class StockCheck(DomainModel):
    """A count of one store (IDDRS 4.10 §7.3.1–7.3.2): weekly (≥ 10 % of serials) or full.

    ``seed`` is the head hash of the site's custody stream just before the check started (the
    ``prev_hash`` of its start entry), so anyone can re-derive ``sample`` from the ledger.
    """

    class Scope(models.TextChoices):
        WEEKLY = "weekly", _("Weekly count (10 % serial sample)")
        FULL = "full", _("Full check (every serial)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    client_key = models.UUIDField(unique=True, editable=False)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="checks",
                              verbose_name=_("store"))
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.OPEN)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    seed = models.CharField(max_length=64)
    population = models.JSONField(default=list)  # tag codes of serialised items at the start
    sample = models.JSONField(default=list)  # tag codes drawn for the serial check
    expected_counts = models.JSONField(default=dict)  # category → number (lots: quantity)
    counted = models.JSONField(default=dict)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("stock check")
        verbose_name_plural = _("stock checks")


class StockCheckLine(models.Model):
    """One item seen during a check: its tag scanned or typed (and serial confirmed)."""

    check_run = models.ForeignKey(StockCheck, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    serial_ok = models.BooleanField(default=True)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["check_run", "item"],
                                               name="check_line_once")]


class Discrepancy(DomainModel):
    """A difference found by a stock check; it stays open until resolved (IDDRS 4.10 §7.3.2:
    any loss reported at once)."""

    class Resolution(models.TextChoices):
        FOUND = "found", _("Found")
        LOSS = "loss", _("Loss confirmed")
        RECORD_ERROR = "record_error", _("Recording error corrected")

    check_run = models.ForeignKey(StockCheck, on_delete=models.PROTECT,
                                  related_name="discrepancies")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="discrepancies")
    description = models.CharField(_("description"), max_length=300)
    resolution = models.CharField(_("resolution"), max_length=14, choices=Resolution.choices,
                                  blank=True)
    resolution_note = models.CharField(_("note"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")


class HandoverBatch(DomainModel):
    """Materiel returned to the country of origin at the end of internment, many items at once
    (IDDRS 5.40: weapons kept for return to the government of origin). One ``returned`` custody
    event on the ledger covers every item of the batch; each line keeps the item's condition
    at surrender and at return (the condition report)."""

    client_key = models.UUIDField(unique=True, editable=False)
    recipient = models.CharField(_("received by (country of origin)"), max_length=200)
    document = models.CharField(_("handover agreement or document"), max_length=200)
    witness = models.CharField(_("witness"), max_length=200, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"))
    handed_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       related_name="+")
    ledger_seq = models.PositiveBigIntegerField(editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("handover batch")
        verbose_name_plural = _("handover batches")


class HandoverLine(models.Model):
    batch = models.ForeignKey(HandoverBatch, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    condition_at_surrender = models.CharField(max_length=14, choices=Condition.choices)
    condition_at_return = models.CharField(max_length=14, choices=Condition.choices)
    quantity = models.PositiveIntegerField()
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item"], name="handover_item_once")]
