"""Arrival groups and persons: the register kept at the crossing.

Only fields, constraints and small properties live here. Every write goes through
``mawa.reception.services``; the allowed lifecycle moves are data in ``lifecycle``; the purpose,
sensitivity tier and retention of each field are in ``fieldinfo`` (protection.md R17), and a test
fails when a field of these models is missing from it.

Names are stored exactly as typed, part by part, in Arabic script and/or Latin. Normalised keys
for search and match suggestions are kept apart in ``PersonNameKey`` so that the identity
resolution engine (``mawa.names``) can recompute them without touching what the officer typed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.fields import EncryptedJSONField, EncryptedTextField
from mawa.core.ids import uuid7
from mawa.core.models import DomainModel, Site


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Exact day")
    MONTH = "month", _("Month and year")
    YEAR = "year", _("Year only")
    ESTIMATED = "estimated", _("Estimated from apparent age")
    UNKNOWN = "unknown", _("Unknown")


class Category(models.TextChoices):
    """Separation at registration (IDDRS 5.40; UNHCR civilian character of asylum)."""

    COMBATANT = "combatant", _("Combatant")
    CIVILIAN = "civilian", _("Civilian")
    CHILD = "child", _("Child (under 18)")


class Status(models.TextChoices):
    """Lifecycle states. The allowed moves between them are in ``reception.lifecycle``."""

    ARRIVED = "arrived", _("Arrived")
    DISARMED = "disarmed", _("Disarmed")
    REGISTERED = "registered", _("Registered")
    INTERNED = "interned", _("Interned")
    HOSPITALISED = "hospitalised", _("Hospitalised")
    DETAINED = "detained", _("Detained (judicial)")
    TRANSFERRED = "transferred", _("Transferred to another camp")
    RELEASED = "released", _("Released")
    REPATRIATED = "repatriated", _("Repatriated")
    REFERRED_TO_ASYLUM = "referred_to_asylum", _("Referred to asylum")
    ESCAPED = "escaped", _("Escaped")
    DECEASED = "deceased", _("Deceased")
    REFERRED_OUT = "referred_out", _("Separated and referred out")
    # a duplicate record found to be another person's (a reviewer's decision): counted
    # nowhere, printed nothing; the survivor's record is the person
    MERGED = "merged", _("Merged into another record")


class Branch(models.TextChoices):
    ARMY = "army", _("Army")
    AIR_FORCE = "air_force", _("Air force")
    NAVY = "navy", _("Navy")
    AIR_DEFENCE = "air_defence", _("Air defence")
    GUARD = "guard", _("Republican or presidential guard")
    SPECIAL_FORCES = "special_forces", _("Special forces")
    SECURITY = "security", _("Security or intelligence service")
    POLICE = "police", _("Police")
    MILITIA = "militia", _("Militia or auxiliary force")
    OTHER = "other", _("Other")


class Vulnerability(models.TextChoices):
    WOUNDED = "wounded", _("Wounded")
    SICK = "sick", _("Sick")
    DISABLED = "disabled", _("Disabled")
    ELDERLY = "elderly", _("Elderly")
    PREGNANT = "pregnant", _("Pregnant")
    UNACCOMPANIED_MINOR = "unaccompanied_minor", _("Unaccompanied minor")
    MENTAL_HEALTH = "mental_health", _("Mental health need")
    TORTURE_SURVIVOR = "torture_survivor", _("Survivor of torture")
    CHRONIC = "chronic", _("Chronic illness needing treatment")


class DocumentKind(models.TextChoices):
    NATIONAL_ID = "national_id", _("National identity card")
    PASSPORT = "passport", _("Passport")
    MILITARY_ID = "military_id", _("Military identity card")
    FAMILY_BOOK = "family_book", _("Family book")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    OTHER = "other", _("Other document")


class ArrivalGroup(DomainModel):
    """People who crossed together at one time (UNHCR's group pre-registration at the gate).

    ``reported_count`` is what was announced at the gate; the group page compares it with the
    persons actually registered, disarmed and handed to the camp, so nobody is lost.
    """

    arrived_at = models.DateTimeField(_("arrived at"))
    reported_count = models.PositiveIntegerField(_("people reported at the gate"))
    facilitated_by = models.CharField(_("crossing facilitated by"), max_length=200, blank=True)
    formation = models.CharField(_("formation or unit of origin"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    client_key = models.UUIDField(_("client key"), unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        verbose_name = _("arrival group")
        verbose_name_plural = _("arrival groups")
        indexes = [models.Index(fields=["site", "-arrived_at"], name="group_site_arrived")]

    def __str__(self) -> str:
        return self.short_code


class Person(DomainModel):
    """One individual who crossed. ``site`` is where they were registered; ``current_site``
    where they are held now (the camp after internment). Both sites' staff see the record."""

    client_key = models.UUIDField(_("client key"), unique=True, editable=False,
                                  help_text=_("Generated by the form or device, so that a "
                                              "retried save never creates a second person."))
    content_hash = models.CharField(max_length=64, editable=False)
    group = models.ForeignKey(ArrivalGroup, on_delete=models.PROTECT, related_name="persons",
                              null=True, blank=True, verbose_name=_("arrival group"))
    current_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("current site"))
    arrived_at = models.DateTimeField(_("arrived at"))

    # names, as typed, part by part, in each script
    given_ar = models.CharField(_("given name (Arabic)"), max_length=80, blank=True)
    given_lat = models.CharField(_("given name (Latin)"), max_length=80, blank=True)
    father_ar = models.CharField(_("father's name (Arabic)"), max_length=80, blank=True)
    father_lat = models.CharField(_("father's name (Latin)"), max_length=80, blank=True)
    grandfather_ar = models.CharField(_("grandfather's name (Arabic)"), max_length=80,
                                      blank=True)
    grandfather_lat = models.CharField(_("grandfather's name (Latin)"), max_length=80,
                                       blank=True)
    family_ar = models.CharField(_("family name (Arabic)"), max_length=80, blank=True)
    family_lat = models.CharField(_("family name (Latin)"), max_length=80, blank=True)
    mother_given_ar = models.CharField(_("mother's given name (Arabic)"), max_length=80,
                                       blank=True)
    mother_given_lat = models.CharField(_("mother's given name (Latin)"), max_length=80,
                                        blank=True)
    mother_family_ar = models.CharField(_("mother's family name (Arabic)"), max_length=80,
                                        blank=True)
    mother_family_lat = models.CharField(_("mother's family name (Latin)"), max_length=80,
                                         blank=True)
    kunya_ar = models.CharField(_("kunya (Arabic)"), max_length=80, blank=True)
    kunya_lat = models.CharField(_("kunya (Latin)"), max_length=80, blank=True)

    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("month of birth"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("day of birth"), null=True, blank=True)
    birth_precision = models.CharField(_("precision of the date of birth"), max_length=10,
                                       choices=DatePrecision.choices,
                                       default=DatePrecision.UNKNOWN)
    place_of_birth = models.CharField(_("place of birth"), max_length=120, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True,
                                   help_text=_("ISO 3166 two-letter country code."))
    languages = models.JSONField(_("languages"), default=list, blank=True)

    service_number = models.CharField(_("service number"), max_length=40, blank=True)
    rank = models.CharField(_("rank"), max_length=80, blank=True)
    unit = models.CharField(_("unit"), max_length=160, blank=True)
    branch = models.CharField(_("branch"), max_length=20, choices=Branch.choices, blank=True)

    # sealed with the reception field key (``core.fields``): never in clear in the database,
    # its WAL or a backup. Lengths are checked by ``services`` (``_TEXT_LIMITS``).
    family_contact_name = EncryptedTextField(_("family contact: name"), purpose="reception",
                                             blank=True)
    family_contact_relation = EncryptedTextField(_("family contact: relationship"),
                                                 purpose="reception", blank=True)
    family_contact_phone = EncryptedTextField(_("family contact: telephone"),
                                              purpose="reception", blank=True)
    family_contact_address = EncryptedTextField(_("family contact: address"),
                                                purpose="reception", blank=True)

    photo = models.FileField(_("photo"), upload_to="reception/photos/%Y/%m/", blank=True)
    vulnerabilities = EncryptedJSONField(_("vulnerabilities"), purpose="reception",
                                         default=list, blank=True)
    vulnerability_notes = EncryptedTextField(_("vulnerability notes"), purpose="reception",
                                             blank=True)

    category = models.CharField(_("category"), max_length=10, choices=Category.choices,
                                default=Category.COMBATANT)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.ARRIVED)
    status_changed_at = models.DateTimeField(_("status changed at"))
    referral_to = models.CharField(_("referred to"), max_length=200, blank=True,
                                   help_text=_("For separated civilians and children: the "
                                               "organisation or service that received them."))

    icrc_withheld = models.BooleanField(_("withheld from ICRC notification"), default=False)
    icrc_withheld_reason = EncryptedTextField(_("reason for withholding"), purpose="reception",
                                              blank=True)

    completeness = models.PositiveSmallIntegerField(_("completeness (%)"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("registered by"))
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["site", "-id"], name="person_site_id"),
            models.Index(fields=["current_site", "-id"], name="person_cursite_id"),
            models.Index(fields=["status", "-id"], name="person_status_id"),
            models.Index(fields=["group", "status"], name="person_group_status"),
            models.Index(fields=["service_number"], name="person_service_number"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(birth_month__isnull=True)
                                   | models.Q(birth_month__gte=1, birth_month__lte=12),
                                   name="person_birth_month_range"),
            models.CheckConstraint(condition=models.Q(birth_day__isnull=True)
                                   | models.Q(birth_day__gte=1, birth_day__lte=31),
                                   name="person_birth_day_range"),
            models.CheckConstraint(condition=models.Q(icrc_withheld=False)
                                   | ~models.Q(icrc_withheld_reason=""),
                                   name="person_icrc_withheld_has_reason"),
            models.CheckConstraint(condition=models.Q(status__in=Status.values),
                                   name="person_status_known"),
            models.CheckConstraint(condition=models.Q(category__in=Category.values),
                                   name="person_category_known"),
            models.CheckConstraint(condition=models.Q(completeness__lte=100),
                                   name="person_completeness_percent"),
        ]

    def __str__(self) -> str:
        return self.short_code

    @property
    def name_ar(self) -> str:
        return " ".join(p for p in (self.given_ar, self.father_ar, self.grandfather_ar,
                                    self.family_ar) if p)

    @property
    def name_lat(self) -> str:
        return " ".join(p for p in (self.given_lat, self.father_lat, self.grandfather_lat,
                                    self.family_lat) if p)

    @property
    def display_name(self) -> str:
        return self.name_ar or self.name_lat or self.short_code

    @property
    def birth_display(self) -> str:
        if self.birth_year is None:
            return ""
        if self.birth_month is None:
            return f"{self.birth_year:04d}"
        if self.birth_day is None:
            return f"{self.birth_year:04d}-{self.birth_month:02d}"
        return f"{self.birth_year:04d}-{self.birth_month:02d}-{self.birth_day:02d}"


class PersonAlias(models.Model):
    """Another name the person is known by (nom de guerre, former name), as typed."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases",
                               verbose_name=_("person"))
    name_ar = models.CharField(_("alias (Arabic)"), max_length=160, blank=True)
    name_lat = models.CharField(_("alias (Latin)"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")

    def __str__(self) -> str:
        return self.name_ar or self.name_lat


class PersonNameKey(models.Model):
    """A normalised token of one name part, for exact-match search and suggestions.

    Derived data: recomputed from the typed names by ``services`` (and later by the
    identity-resolution engine). One row per (part, token).

    The (key, person) index serves the name search (``selectors.person_search``): one key's
    persons newest first, read from the index alone, and "does this person carry that key?"
    as one index probe.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    part = models.CharField(max_length=16)
    key = models.CharField(max_length=80)

    class Meta:
        indexes = [models.Index(fields=["key", "person"], name="namekey_key_person")]
        constraints = [models.UniqueConstraint(fields=["person", "part", "key"],
                                               name="namekey_unique")]

    def __str__(self) -> str:
        return f"{self.part}:{self.key}"


class IdentityDocument(models.Model):
    """A document the person carried. The number is sealed (``EncryptedTextField``);
    ``number_key`` is the keyed hash of the number reduced to letters and ASCII digits (no
    spaces, dashes, case: ``values.document_lookup``), so that a search or a duplicate check
    finds it however it was typed without the number being in clear."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents",
                               verbose_name=_("person"))
    kind = models.CharField(_("document kind"), max_length=20, choices=DocumentKind.choices)
    number = EncryptedTextField(_("document number"), purpose="reception")
    number_key = models.CharField(max_length=64, editable=False)
    issuer = models.CharField(_("issued by"), max_length=120, blank=True)
    expiry = models.DateField(_("expiry date"), null=True, blank=True)
    scan = models.FileField(_("scan"), upload_to="reception/documents/%Y/%m/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        indexes = [models.Index(fields=["number_key"], name="document_number_key")]
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=DocumentKind.values),
                                              name="document_kind_known")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class LifecycleEvent(models.Model):
    """One lifecycle move, for the person page's history. The ledger entry written in the same
    transaction (stream ``person/<id>``) is the tamper-evident copy; ``ledger_seq`` links them."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    note = EncryptedTextField(blank=True, purpose="reception")  # e.g. why to hospital: sealed
    details = models.JSONField(default=dict, blank=True)
    ledger_seq = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["person", "at"], name="lifecycle_person_at")]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class PersonRevision(models.Model):
    """The values a correction replaced (protection.md R8: a correction keeps the prior
    version). Written by ``person_update`` before it changes the row."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(help_text="The version these values belonged to.")
    prior = EncryptedJSONField(purpose="reception")  # may hold family contacts: sealed
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["person", "version"],
                                               name="revision_person_version")]

    def __str__(self) -> str:
        return f"v{self.version}"
