"""Camp forms: parse and convert typed input (Arabic-Indic digits accepted in every number);
the rules are in ``services``."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.camp.models import (
    IncidentKind,
    ItemKind,
    MovementKind,
    RollCallMode,
    Severity,
    ShelterKind,
)
from mawa.camp.services import GroupPolicy
from mawa.core.digits import to_ascii_digits
from mawa.core.forms import (
    AsciiDigitsCharField,
    BootstrapMixin,
    DigitsDecimalField,
    DigitsIntegerField,
)
from mawa.reception.models import Status


class DigitsDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
        return super().to_python(value)


class KeyedForm(BootstrapMixin, forms.Form):
    """A form with a client key made when it is shown: submitting it twice is one action."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_key", uuid.uuid4())
        super().__init__(*args, **kwargs)


class ZoneForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Zone name"), max_length=80)


class BlockForm(BootstrapMixin, forms.Form):
    zone = forms.ChoiceField(label=_("Zone"))
    name = forms.CharField(label=_("Block name"), max_length=80)
    x = DigitsIntegerField(label=_("Plan position x"), min_value=0, max_value=1000, initial=0)
    y = DigitsIntegerField(label=_("Plan position y"), min_value=0, max_value=1000, initial=0)
    width = DigitsIntegerField(label=_("Width"), min_value=10, max_value=1000, initial=120)
    height = DigitsIntegerField(label=_("Height"), min_value=10, max_value=1000, initial=90)


class ShelterForm(BootstrapMixin, forms.Form):
    block = forms.ChoiceField(label=_("Block"))
    name = forms.CharField(label=_("Shelter name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=ShelterKind.choices)
    capacity = DigitsIntegerField(label=_("Capacity"), min_value=1, max_value=10000)


class CheckInForm(KeyedForm):
    code = AsciiDigitsCharField(label=_("ID code"), max_length=30,
                                widget=forms.TextInput(attrs={"dir": "ltr",
                                                              "autocomplete": "off"}))
    shelter = forms.ChoiceField(label=_("Shelter"))
    move = forms.BooleanField(label=_("Move if already housed"), required=False)
    override_reason = forms.CharField(label=_("Capacity override reason (managers)"),
                                      max_length=500, required=False)


class GroupAssignForm(KeyedForm):
    group = forms.ChoiceField(label=_("Arrival group"))
    block = forms.ChoiceField(label=_("Block"))
    policies = forms.MultipleChoiceField(
        label=_("Grouping rules"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(GroupPolicy.KEEP_UNITS, _("Keep each unit together")),
                 (GroupPolicy.SEPARATE_OFFICERS, _("Officers apart from other ranks")),
                 (GroupPolicy.SPLIT_UNITS, _("Split units over shelters"))],
        initial=[GroupPolicy.KEEP_UNITS, GroupPolicy.SEPARATE_OFFICERS])
    override_reason = forms.CharField(label=_("Capacity override reason (managers)"),
                                      max_length=500, required=False)


class MovementForm(KeyedForm):
    code = AsciiDigitsCharField(label=_("ID code"), max_length=30,
                                widget=forms.TextInput(attrs={"dir": "ltr"}))
    kind = forms.ChoiceField(label=_("Movement"), choices=MovementKind.choices)
    destination = forms.CharField(label=_("Destination (hospital, court, camp code …)"),
                                  max_length=200, required=False)
    due_back_at = DigitsDateTimeField(label=_("Due back"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(
        attrs={"rows": 2}))
    decision = forms.CharField(label=_("Release decision reference"), required=False)
    declaration_date = forms.CharField(label=_("Date of the voluntary declaration"),
                                       required=False)
    declaration = forms.CharField(label=_("Voluntary declaration (as stated)"), required=False)
    witness = forms.CharField(label=_("Witnessed by"), required=False)
    renunciation_assessment = forms.CharField(
        label=_("Renunciation assessment reference"), required=False)
    assessed_by = forms.CharField(label=_("Assessed by"), required=False)


class RollCallStartForm(KeyedForm):
    block = forms.ChoiceField(label=_("Block"))
    # head count by default: every camp can count heads; ID cards may not be printed yet
    mode = forms.ChoiceField(label=_("Method"), choices=RollCallMode.choices,
                             initial=RollCallMode.COUNT)


class ScanForm(BootstrapMixin, forms.Form):
    code = AsciiDigitsCharField(label=_("ID code"), max_length=30, widget=forms.TextInput(
        attrs={"dir": "ltr", "autocomplete": "off", "autofocus": True,
               "inputmode": "text", "autocapitalize": "characters"}))


class ResolveForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("How the discrepancy was resolved"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class DistributionForm(KeyedForm):
    item = forms.ChoiceField(label=_("Meal or item"))
    code = AsciiDigitsCharField(label=_("ID code"), max_length=30, widget=forms.TextInput(
        attrs={"dir": "ltr", "autocomplete": "off", "autofocus": True}))
    quantity = DigitsIntegerField(label=_("Quantity"), min_value=1, max_value=1000, initial=1)


class ItemTypeForm(KeyedForm):
    name_ar = forms.CharField(label=_("Name in Arabic"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    unit_cost = DigitsDecimalField(label=_("Unit cost"), min_value=0, decimal_places=2,
                                   initial=0)
    per_person_per_day = DigitsDecimalField(label=_("Units per person per day"), min_value=0,
                                            decimal_places=3, initial=1)
    min_interval_hours = DigitsIntegerField(label=_("Minimum interval (hours)"), min_value=0,
                                            max_value=1000, initial=0)
    max_per_day = DigitsIntegerField(label=_("Maximum per day (0 = no limit)"), min_value=0,
                                     max_value=1000, initial=1)
    excludes = forms.MultipleChoiceField(label=_("Excludes (same day)"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    entitled_statuses = forms.MultipleChoiceField(
        label=_("Who is entitled"), widget=forms.CheckboxSelectMultiple,
        choices=[(s, Status(s).label) for s in (Status.INTERNED, Status.HOSPITALISED,
                                                 Status.DETAINED)],
        initial=[Status.INTERNED])
    requires_present = forms.BooleanField(label=_("Only for people present in the camp"),
                                          required=False, initial=True)


class StockForm(KeyedForm):
    item = forms.ChoiceField(label=_("Meal or item"))
    quantity = DigitsIntegerField(label=_("Quantity (negative to write off)"),
                                  min_value=-1000000, max_value=1000000)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class IncidentForm(KeyedForm):
    kind = forms.ChoiceField(label=_("Type"), choices=IncidentKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    occurred_at = DigitsDateTimeField(label=_("Occurred at"))
    block = forms.ChoiceField(label=_("Block"), required=False)
    summary = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}))
    codes = AsciiDigitsCharField(label=_("ID codes of people involved (spaces between)"),
                                 required=False, max_length=2000,
                                 widget=forms.TextInput(attrs={"dir": "ltr"}))


class FollowUpForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Follow-up"), widget=forms.Textarea(attrs={"rows": 2}))
    close = forms.BooleanField(label=_("Close the incident"), required=False)
