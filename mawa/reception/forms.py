"""Forms parse what was typed; the rules are in ``services`` (errors it raises are put back on
the fields, so everything typed is kept and each message sits next to its field)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.core.forms import AsciiDigitsCharField, BootstrapMixin, DigitsIntegerField
from mawa.reception.models import (
    Branch,
    Category,
    DocumentKind,
    Sex,
    Vulnerability,
)
from mawa.reception.services import NAME_PARTS, DocumentInput, PersonInput

NAME_PART_LABELS = {
    "given": _("Given name"), "father": _("Father's name"),
    "grandfather": _("Grandfather's name"), "family": _("Family name"),
    "mother_given": _("Mother's given name"), "mother_family": _("Mother's family name"),
    "kunya": _("Kunya (Abu …)"),
}


class DigitsDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        from mawa.core.digits import to_ascii_digits

        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
        return super().to_python(value)


class ArrivalGroupForm(BootstrapMixin, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    arrived_at = DigitsDateTimeField(
        label=_("Arrived at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format="%Y-%m-%dT%H:%M"))
    reported_count = DigitsIntegerField(label=_("People reported at the gate"), min_value=0,
                                        widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    facilitated_by = forms.CharField(label=_("Crossing facilitated by"), required=False,
                                     max_length=200)
    formation = forms.CharField(label=_("Formation or unit of origin"), required=False,
                                max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())


class PersonForm(BootstrapMixin, forms.Form):
    """The registration form. Arabic and Latin fields of each name part sit side by side; the
    hidden ``client_key`` is generated when the form is shown, so a double click or a retried
    post registers one person."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    group = forms.UUIDField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices,
                                 initial=Category.COMBATANT)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.MALE)
    birth = forms.CharField(
        label=_("Date of birth"), required=False, max_length=20,
        help_text=_("Year, year-month or year-month-day, for example 1990-03-15; any digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr",
                                      "class": "form-control hint-placeholder",
                                      "placeholder": _("YYYY-MM-DD")}))
    approximate_age = DigitsIntegerField(
        label=_("Approximate age"), required=False,
        help_text=_("Only when the date of birth is unknown."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    place_of_birth = forms.CharField(label=_("Place of birth"), required=False, max_length=120)
    nationality = forms.CharField(label=_("Nationality (two-letter code)"), required=False,
                                  max_length=2,
                                  help_text=_("For example SY for Syria."),
                                  widget=forms.TextInput(attrs={"dir": "ltr"}))
    languages = forms.CharField(label=_("Languages"), required=False, max_length=60,
                                help_text=_("Codes separated by spaces: ar ku en"),
                                widget=forms.TextInput(attrs={"dir": "ltr"}))
    service_number = AsciiDigitsCharField(
        label=_("Service number"), required=False, max_length=40,
        widget=forms.TextInput(attrs={"dir": "ltr", "class": "form-control match-input"}))
    rank = forms.CharField(label=_("Rank"), required=False, max_length=80)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=160)
    branch = forms.ChoiceField(label=_("Branch"), required=False,
                               choices=[("", "—"), *Branch.choices])
    alias_ar = forms.CharField(label=_("Alias (Arabic)"), required=False, max_length=160)
    alias_lat = forms.CharField(label=_("Alias (Latin)"), required=False, max_length=160)
    document_kind = forms.ChoiceField(label=_("Document kind"), required=False,
                                      choices=[("", "—"), *DocumentKind.choices])
    document_number = AsciiDigitsCharField(
        label=_("Document number"), required=False, max_length=60,
        widget=forms.TextInput(attrs={"dir": "ltr", "class": "form-control match-input"}))
    document_issuer = forms.CharField(label=_("Issued by"), required=False, max_length=120)
    family_contact_name = forms.CharField(label=_("Family contact: name"), required=False,
                                          max_length=160)
    family_contact_relation = forms.CharField(label=_("Relationship"), required=False,
                                              max_length=60)
    family_contact_phone = AsciiDigitsCharField(label=_("Telephone"), required=False,
                                                max_length=40,
                                                widget=forms.TextInput(attrs={"dir": "ltr"}))
    family_contact_address = forms.CharField(label=_("Address"), required=False,
                                             max_length=300)
    vulnerabilities = forms.MultipleChoiceField(label=_("Vulnerabilities"), required=False,
                                                choices=Vulnerability.choices,
                                                widget=forms.CheckboxSelectMultiple)
    vulnerability_notes = forms.CharField(label=_("Vulnerability notes"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vulnerabilities"].widget.attrs["class"] = "form-check-input"
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())

    def name_rows(self):
        return [(NAME_PART_LABELS[p], self[f"{p}_ar"], self[f"{p}_lat"]) for p in NAME_PARTS]

    def to_input(self, *, sensitive: bool) -> PersonInput:
        c = self.cleaned_data
        values = {f"{p}_{s}": c.get(f"{p}_{s}", "") for p in NAME_PARTS for s in ("ar", "lat")}
        for name in ("category", "sex", "place_of_birth", "nationality", "languages",
                     "service_number", "rank", "unit", "branch", "notes"):
            values[name] = c.get(name) or ""
        documents, aliases = [], []
        if sensitive:
            for name in ("family_contact_name", "family_contact_relation",
                         "family_contact_phone", "family_contact_address",
                         "vulnerability_notes"):
                values[name] = c.get(name) or ""
            values["vulnerabilities"] = c.get("vulnerabilities") or []
            if c.get("document_kind") or c.get("document_number"):
                documents.append(DocumentInput(kind=c.get("document_kind") or "",
                                               number=c.get("document_number") or "",
                                               issuer=c.get("document_issuer") or ""))
        if c.get("alias_ar") or c.get("alias_lat"):
            aliases.append((c.get("alias_ar") or "", c.get("alias_lat") or ""))
        return PersonInput(values=values, birth=c.get("birth") or "",
                           approximate_age=c.get("approximate_age"), aliases=aliases,
                           documents=documents, photo=c.get("photo"))

    #: the service's names of nested values, as the form's fields (``core.forms.service_errors``)
    service_fields = {"documents.0.kind": "document_kind", "documents.0.number": "document_number",
                      "documents.0.scan": "document_number", "aliases.0": "alias_ar"}


# Name fields, Arabic and Latin side by side, added to the class so they are cleaned like the
# others (each part: ``<part>_ar`` right-to-left, ``<part>_lat`` left-to-right).
for _part in NAME_PARTS:
    PersonForm.base_fields[f"{_part}_ar"] = forms.CharField(
        label=NAME_PART_LABELS[_part], required=False, max_length=80,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar", "autocomplete": "off",
                                      "class": "form-control match-input"}))
    PersonForm.base_fields[f"{_part}_lat"] = forms.CharField(
        label=NAME_PART_LABELS[_part], required=False, max_length=80,
        widget=forms.TextInput(attrs={"dir": "ltr", "lang": "en", "autocomplete": "off",
                                      "class": "form-control match-input"}))


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.CharField(required=False, max_length=20)
    group = forms.UUIDField(required=False)
    after = forms.UUIDField(required=False)


class SensitiveForm(BootstrapMixin, forms.Form):
    """The sensitive section of a registered person (family contact, vulnerabilities), filled
    in after registration by a role that sees it (``services.person_update``)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    family_contact_name = PersonForm.base_fields["family_contact_name"]
    family_contact_relation = PersonForm.base_fields["family_contact_relation"]
    family_contact_phone = PersonForm.base_fields["family_contact_phone"]
    family_contact_address = PersonForm.base_fields["family_contact_address"]
    vulnerabilities = PersonForm.base_fields["vulnerabilities"]
    vulnerability_notes = PersonForm.base_fields["vulnerability_notes"]

    FIELDS = ("family_contact_name", "family_contact_relation", "family_contact_phone",
              "family_contact_address", "vulnerabilities", "vulnerability_notes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vulnerabilities"].widget.attrs["class"] = "form-check-input"
