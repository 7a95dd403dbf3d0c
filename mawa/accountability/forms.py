"""Forms of the compartment's pages: parsing only; the rules are in ``services``."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.accountability.models import (
    Credibility,
    DatePrecision,
    Derivation,
    InvolvementDegree,
    InvolvementRole,
    RecipientKind,
    Reliability,
    SourceKind,
    Violation,
)

_DATE = forms.DateInput(attrs={"type": "date"})


class EventForm(forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(
        attrs={"rows": 4}), required=False)
    place = forms.CharField(label=_("Place"), max_length=500, required=False)
    date_start = forms.DateField(label=_("From"), required=False, widget=_DATE)
    date_end = forms.DateField(label=_("Until"), required=False, widget=_DATE)
    date_precision = forms.ChoiceField(label=_("Precision of the dates"),
                                       choices=DatePrecision.choices,
                                       initial=DatePrecision.DAY)


class ActForm(forms.Form):
    violation = forms.ChoiceField(label=_("Violation"), choices=Violation.choices)
    date = forms.DateField(label=_("Date"), required=False, widget=_DATE)
    place = forms.CharField(label=_("Place"), max_length=500, required=False)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class InvolvementForm(forms.Form):
    act = forms.UUIDField(widget=forms.HiddenInput)
    person_code = forms.CharField(label=_("Registered person (code)"), max_length=20,
                                  required=False)
    unit = forms.CharField(label=_("Unit"), max_length=300, required=False)
    unknown = forms.BooleanField(label=_("Unknown person"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=InvolvementRole.choices)
    degree = forms.ChoiceField(label=_("Degree of involvement"),
                               choices=InvolvementDegree.choices,
                               initial=InvolvementDegree.UNKNOWN)


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Source (name or description)"), max_length=500)
    kind = forms.ChoiceField(label=_("Kind"), choices=SourceKind.choices)
    reliability = forms.ChoiceField(label=_("Reliability of the source"),
                                    choices=Reliability.choices, initial=Reliability.F)
    consent_recipients = forms.MultipleChoiceField(
        label=_("May be shared with"), choices=RecipientKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    received_on = forms.DateField(label=_("Received on"), widget=_DATE)
    credibility = forms.ChoiceField(label=_("Credibility of the information"),
                                    choices=Credibility.choices, initial=Credibility.C6)
    summary = forms.CharField(label=_("What they said"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    file = forms.FileField(label=_("File"))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.UUIDField(required=False, widget=forms.HiddenInput)
    captured_place = forms.CharField(label=_("Captured where"), max_length=300, required=False)
    original_location = forms.CharField(label=_("Where the original is"), max_length=300,
                                        required=False)
    derived_from = forms.UUIDField(required=False, widget=forms.HiddenInput)
    derivation = forms.ChoiceField(label=_("Original or copy"), choices=Derivation.choices,
                                   initial=Derivation.ORIGINAL)


class HoldForm(forms.Form):
    item_code = forms.CharField(label=_("Surrendered item (code)"), max_length=20)
    act_code = forms.CharField(label=_("Act (code)"), max_length=20, required=False,
                               help_text=_("The act the item is evidence of."))
    reason = forms.CharField(label=_("Reason (stays in the compartment)"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReferralForm(forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    recipient_kind = forms.ChoiceField(label=_("Kind of recipient"),
                                       choices=RecipientKind.choices)
    recipient_name = forms.CharField(label=_("Recipient"), max_length=200)
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}))


class HandoverForm(forms.Form):
    to = forms.CharField(label=_("Handed to"), max_length=200)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.IntegerField(label=_("Minutes (at most 180)"), min_value=1, max_value=180,
                                 initial=60)
