"""The accountability compartment: allegations in the HURIDOCS events model, evidence, referrals
and break-glass grants.

Only fields, constraints and small properties live here; every write goes through
``mawa.accountability.services`` and every read through ``selectors`` (which ask
``mawa.accounts.access`` first). Free text that could identify a witness, a victim or a suspect
is an ``EncryptedTextField``: the database, its WAL and its backups never hold it in clear
(protection.md R10).

An allegation is not a finding (reference/evidence.md): the words here are "alleged", "reported",
"involvement", never "perpetrator" as a fact.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mawa.accountability.fields import EncryptedTextField
from mawa.core.models import DomainModel, Site


class CompartmentKey(models.Model):
    """The id of the key-encryption key in use (never the key itself, see ``crypto``)."""

    key_id = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class DatePrecision(models.TextChoices):
    DAY = "day", _("Exact day")
    MONTH = "month", _("Month and year")
    YEAR = "year", _("Year only")
    APPROXIMATE = "approximate", _("Approximate")
    UNKNOWN = "unknown", _("Unknown")


class Violation(models.TextChoices):
    """War crimes of the Rome Statute, art. 8(2) (a controlled vocabulary, HURIDOCS "act type").

    The paragraph is in the value, so that a referral names the provision it alleges."""

    WILFUL_KILLING = "8.2.a.i", _("Wilful killing (art. 8(2)(a)(i))")
    TORTURE = "8.2.a.ii", _("Torture or inhuman treatment (art. 8(2)(a)(ii))")
    GREAT_SUFFERING = "8.2.a.iii", _("Wilfully causing great suffering (art. 8(2)(a)(iii))")
    DESTRUCTION_PROPERTY = "8.2.a.iv", _("Extensive destruction or appropriation of property "
                                         "(art. 8(2)(a)(iv))")
    HOSTAGES = "8.2.a.viii", _("Taking of hostages (art. 8(2)(a)(viii))")
    DEPORTATION = "8.2.a.vii", _("Unlawful deportation, transfer or confinement "
                                 "(art. 8(2)(a)(vii))")
    ATTACK_CIVILIANS = "8.2.b.i", _("Intentionally attacking civilians (art. 8(2)(b)(i))")
    ATTACK_CIVILIAN_OBJECTS = "8.2.b.ii", _("Intentionally attacking civilian objects "
                                            "(art. 8(2)(b)(ii))")
    ATTACK_HUMANITARIAN = "8.2.b.iii", _("Attacking humanitarian personnel or peacekeepers "
                                         "(art. 8(2)(b)(iii))")
    DISPROPORTIONATE = "8.2.b.iv", _("Disproportionate attack (art. 8(2)(b)(iv))")
    KILLING_SURRENDERED = "8.2.b.vi", _("Killing or wounding a combatant who has surrendered "
                                        "(art. 8(2)(b)(vi))")
    PROTECTED_BUILDINGS = "8.2.b.ix", _("Attacking protected buildings: religion, education, "
                                        "hospitals (art. 8(2)(b)(ix))")
    PILLAGE = "8.2.b.xvi", _("Pillage (art. 8(2)(b)(xvi))")
    POISON_WEAPONS = "8.2.b.xvii", _("Poison, prohibited gases or weapons (art. 8(2)(b)(xvii)"
                                     "–(xx))")
    OUTRAGES_DIGNITY = "8.2.b.xxi", _("Outrages upon personal dignity (art. 8(2)(b)(xxi))")
    SEXUAL_VIOLENCE = "8.2.b.xxii", _("Rape and other sexual violence (art. 8(2)(b)(xxii))")
    HUMAN_SHIELDS = "8.2.b.xxiii", _("Using protected persons as shields (art. 8(2)(b)(xxiii))")
    STARVATION = "8.2.b.xxv", _("Starvation of civilians (art. 8(2)(b)(xxv))")
    CHILD_SOLDIERS = "8.2.b.xxvi", _("Conscripting or using children under 15 "
                                     "(art. 8(2)(b)(xxvi))")
    EXECUTION_WITHOUT_TRIAL = "8.2.c.iv", _("Sentences or executions without due process "
                                            "(art. 8(2)(c)(iv))")
    OTHER = "other", _("Other serious violation")


class InvolvementRole(models.TextChoices):
    ALLEGED_PERPETRATOR = "alleged_perpetrator", _("Alleged perpetrator")
    COMMANDER = "commander", _("Commander (alleged command responsibility)")
    WITNESS = "witness", _("Witness")
    VICTIM = "victim", _("Victim")


class InvolvementDegree(models.TextChoices):
    """Modes of liability, Rome Statute arts. 25 and 28."""

    DIRECT = "direct", _("Direct commission")
    ORDERED = "ordered", _("Ordering or inducing")
    AIDED = "aided", _("Aiding or abetting")
    COMMAND = "command", _("Command responsibility")
    PRESENT = "present", _("Present, role unclear")
    NOT_APPLICABLE = "n/a", _("Not applicable")
    UNKNOWN = "unknown", _("Unknown")


class SourceKind(models.TextChoices):
    WITNESS = "witness", _("Witness")
    VICTIM = "victim", _("Victim or survivor")
    INSIDER = "insider", _("Insider")
    DOCUMENT = "document", _("Document")
    OPEN_SOURCE = "open_source", _("Open source")
    ORGANISATION = "organisation", _("Organisation")


class Reliability(models.TextChoices):
    """Reliability of the *source* (the admiralty code's letter), rated apart from the
    credibility of each piece of information it gave."""

    A = "A", _("A — completely reliable")
    B = "B", _("B — usually reliable")
    C = "C", _("C — fairly reliable")
    D = "D", _("D — not usually reliable")
    E = "E", _("E — unreliable")
    F = "F", _("F — reliability cannot be judged")


class Credibility(models.TextChoices):
    """Credibility of one piece of *information* (the admiralty code's number)."""

    C1 = "1", _("1 — confirmed by other sources")
    C2 = "2", _("2 — probably true")
    C3 = "3", _("3 — possibly true")
    C4 = "4", _("4 — doubtful")
    C5 = "5", _("5 — improbable")
    C6 = "6", _("6 — truth cannot be judged")


class RecipientKind(models.TextChoices):
    NATIONAL_PROSECUTOR = "national_prosecutor", _("National prosecutor")
    UN_MECHANISM = "un_mechanism", _("UN investigative mechanism")
    INTERNATIONAL_COURT = "international_court", _("International court")
    COMMISSION = "commission", _("Commission of inquiry")


class Event(DomainModel):
    """What happened, when (a date range with its precision) and where. HURIDOCS "event"."""

    client_key = models.UUIDField(unique=True, editable=False)
    title = EncryptedTextField(_("title"))
    description = EncryptedTextField(_("description"), blank=True)
    place = EncryptedTextField(_("place"), blank=True)
    date_start = models.DateField(_("from"), null=True, blank=True)
    date_end = models.DateField(_("until"), null=True, blank=True)
    date_precision = models.CharField(_("precision of the dates"), max_length=12,
                                      choices=DatePrecision.choices,
                                      default=DatePrecision.UNKNOWN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(
            condition=Q(date_end__isnull=True) | Q(date_start__isnull=True)
            | Q(date_end__gte=models.F("date_start")), name="acc_event_dates_ordered")]

    def __str__(self) -> str:
        return self.short_code


class Act(DomainModel):
    """One alleged violation within an event. HURIDOCS "act"."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="acts")
    violation = models.CharField(_("violation"), max_length=16, choices=Violation.choices)
    date = models.DateField(_("date"), null=True, blank=True)
    place = EncryptedTextField(_("place"), blank=True)
    description = EncryptedTextField(_("description"), blank=True)
    # A watch-list hit (the matching app is not built yet): a nullable generic reference.
    hit_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    hit_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    # not a column: the act's involvements with their persons, set by selectors.event_acts
    involvement_list: list[Involvement]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.short_code


class ActItem(models.Model):
    """A surrendered item (a weapon used, a vehicle of the unit) linked to an act. The custody
    side has no reverse relation (``related_name="+"``): nothing there can reach back here."""

    act = models.ForeignKey(Act, on_delete=models.PROTECT, related_name="items")
    item = models.ForeignKey("custody.Item", on_delete=models.PROTECT, related_name="+")
    note = EncryptedTextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["act", "item"],
                                               name="acc_act_item_once")]


class HoldRecord(models.Model):
    """The compartment's side of a legal hold set through ``custody.services.legal_hold_set``:
    which allegation asked for it and the full reason, encrypted. Custody's own hold row holds
    only a reference (the event's code), so the reason never leaves the compartment."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="holds")
    # the act the item is evidence of (the allegation alone does not say which act)
    act = models.ForeignKey(Act, on_delete=models.PROTECT, null=True, blank=True,
                            related_name="holds")
    hold = models.OneToOneField("custody.LegalHold", on_delete=models.PROTECT,
                                related_name="+")
    reason = EncryptedTextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class Involvement(models.Model):
    """Who took part in an act and how: a registered person, a unit, or an unknown person."""

    act = models.ForeignKey(Act, on_delete=models.PROTECT, related_name="involvements")
    person = models.ForeignKey("reception.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    unit = EncryptedTextField(_("unit"), blank=True)
    unknown = models.BooleanField(_("unknown person"), default=False)
    role = models.CharField(_("role"), max_length=24, choices=InvolvementRole.choices)
    degree = models.CharField(_("degree of involvement"), max_length=10,
                              choices=InvolvementDegree.choices,
                              default=InvolvementDegree.UNKNOWN)
    note = EncryptedTextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(
            condition=Q(person__isnull=False) | Q(unknown=True) | ~Q(unit=""),
            name="acc_involvement_has_party")]


class Source(DomainModel):
    """Who reported: reliability rated here, credibility per piece of information; the consent
    scope says to whom what they gave may be passed (IIIM practice: nothing outside it)."""

    name = EncryptedTextField(_("name or description"))
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices)
    person = models.ForeignKey("reception.Person", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    reliability = models.CharField(_("reliability of the source"), max_length=1,
                                   choices=Reliability.choices, default=Reliability.F)
    consent_recipients = models.JSONField(_("may be shared with"), default=list, blank=True)
    willing_to_testify = models.BooleanField(_("willing to testify"), null=True)
    contact = EncryptedTextField(_("how to reach them"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["id"]

    def consents_to(self, recipient_kind: str) -> bool:
        return recipient_kind in (self.consent_recipients or [])


class Information(models.Model):
    """What one source said about one event, with its own credibility rating."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="information")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="information")
    received_on = models.DateField(_("received on"))
    credibility = models.CharField(_("credibility of the information"), max_length=1,
                                   choices=Credibility.choices, default=Credibility.C6)
    summary = EncryptedTextField(_("summary"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class EvidenceKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    PHOTO = "photo", _("Photograph")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    TEXT = "text", _("Text or transcript")
    ARCHIVE = "archive", _("Archive")


class Derivation(models.TextChoices):
    ORIGINAL = "original", _("Evidentiary original")
    REDACTED = "redacted", _("Redacted copy")
    TRANSCRIPT = "transcript", _("Transcript")
    TRANSLATION = "translation", _("Translation")
    EXCERPT = "excerpt", _("Excerpt")


class EvidenceItem(DomainModel):
    """One file, stored encrypted; the original is never changed and working copies point at it.

    ``sha256`` is the hash of the plaintext taken on arrival; the fixity check re-hashes the
    stored file and compares. Its custody is the ledger stream ``evidence/<id>``."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="evidence")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="evidence")
    derived_from = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="copies")
    derivation = models.CharField(_("original or copy"), max_length=12,
                                  choices=Derivation.choices, default=Derivation.ORIGINAL)
    kind = models.CharField(_("kind"), max_length=10, choices=EvidenceKind.choices)
    original_name = EncryptedTextField(_("file name"))
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = EncryptedTextField(_("description"), blank=True)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    captured_place = EncryptedTextField(_("captured where"), blank=True)
    original_location = EncryptedTextField(_("where the original is"), blank=True)
    creator_willing_to_testify = models.BooleanField(_("creator willing to testify"), null=True)
    storage_name = models.CharField(max_length=64, unique=True, editable=False)
    wrapped_key = models.CharField(max_length=200, editable=False)
    client_key = models.UUIDField(unique=True, editable=False)
    fixity_checked_at = models.DateTimeField(null=True, blank=True)
    fixity_ok = models.BooleanField(null=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(
            condition=(Q(derivation="original") & Q(derived_from__isnull=True))
            | (~Q(derivation="original") & Q(derived_from__isnull=False)),
            name="acc_evidence_lineage")]

    @property
    def stream(self) -> str:
        return f"evidence/{self.id}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second investigator")
    APPROVED = "approved", _("Approved")
    EXPORTED = "exported", _("Exported")


class Referral(DomainModel):
    """A referral of an event's material to a named recipient, approved by a second
    investigator before any bundle can be exported."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="referrals")
    recipient_kind = models.CharField(_("kind of recipient"), max_length=24,
                                      choices=RecipientKind.choices)
    recipient_name = models.CharField(_("recipient"), max_length=200)
    purpose = EncryptedTextField(_("purpose"))
    evidence = models.ManyToManyField(EvidenceItem, related_name="referrals")
    status = models.CharField(max_length=10, choices=ReferralStatus.choices,
                              default=ReferralStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    exports = models.PositiveIntegerField(default=0)
    client_key = models.UUIDField(unique=True, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Two-person rule: the approver is never the requester (a constraint, not just code).
            models.CheckConstraint(condition=Q(approved_by__isnull=True)
                                   | ~Q(approved_by=models.F("requested_by")),
                                   name="acc_referral_two_persons"),
            models.CheckConstraint(condition=Q(status="pending") | Q(approved_by__isnull=False),
                                   name="acc_referral_approved_before_export"),
        ]

    @property
    def stream(self) -> str:
        return f"referral/{self.id}"


class BreakGlassGrant(models.Model):
    """Time-boxed access of an administrator to read the compartment (protection.md R4), with
    the reason they gave; shown to every investigator. ``access.permissions_of`` asks
    ``selectors.break_glass_active``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", null=True)
    reason = EncryptedTextField(_("reason"))
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="acc_breakglass_user")]
        constraints = [models.CheckConstraint(condition=Q(expires_at__gt=models.F("opened_at")),
                                              name="acc_breakglass_timeboxed")]
