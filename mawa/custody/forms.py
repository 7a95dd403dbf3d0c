"""Forms of the custody pages: they parse and show errors; the rules are in services."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.core.forms import AsciiDigitsCharField, BootstrapMixin, DigitsIntegerField
from mawa.custody import derive
from mawa.custody.models import (
    Condition,
    Discrepancy,
    ItemPhoto,
    Kind,
    MarkingIntegrity,
    MaterielModel,
    StockCheck,
)


class KindSelect(forms.Select):
    """The catalogue's models, each option carrying its kind (``data-kind``), so the page
    lists only the models of the kind chosen (``custody/surrender.js``)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-kind"] = instance.kind
        return option


class SurrenderStartForm(BootstrapMixin, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    site = forms.ChoiceField(label=_("Crossing where the items are handed in"),
                             help_text=_("Your working site, unless you choose another here."))
    person = AsciiDigitsCharField(
        label=_("Person: name, code or service number"), required=False, max_length=100,
        help_text=_("Type a name in Arabic or Latin letters, the code on the registration slip "
                    "or the service number, then choose the person in the list."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    person_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    group = AsciiDigitsCharField(label=_("Or the arrival group's code"), required=False,
                                 help_text=_("For items abandoned or handed in collectively."))
    witness = forms.CharField(label=_("Witness"), max_length=160, required=False)


class ItemForm(BootstrapMixin, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    catalogue = forms.ModelChoiceField(label=_("Model (catalogue)"), required=False,
                                       queryset=MaterielModel.objects.filter(is_active=True),
                                       widget=KindSelect)
    accepted = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                      choices=[("1", _("Accepted into custody")),
                                               ("0", _("Refused (ineligible or defective)"))],
                                      initial="1")
    refusal_reason = forms.CharField(label=_("Reason for refusal"), required=False,
                                     max_length=300)
    serial_number = AsciiDigitsCharField(label=_("Serial number"), required=False,
                                         max_length=80)
    make = forms.CharField(label=_("Make"), required=False, max_length=120)
    model = forms.CharField(label=_("Model (if not in the catalogue)"), required=False,
                            max_length=120)
    calibre = forms.CharField(label=_("Calibre"), required=False, max_length=40)
    country_of_manufacture = forms.CharField(label=_("Country of manufacture"),
                                             required=False, max_length=60)
    year_of_manufacture = DigitsIntegerField(label=_("Year of manufacture"), required=False)
    markings = forms.CharField(label=_("Markings (verbatim)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    marking_location = forms.CharField(label=_("Marking location"), required=False,
                                       max_length=120)
    marking_integrity = forms.ChoiceField(label=_("Marking integrity"),
                                          choices=MarkingIntegrity.choices)
    condition = forms.ChoiceField(label=_("Condition"), choices=Condition.choices)
    cleared_by = forms.CharField(label=_("Cleared by"), required=False, max_length=120)
    verified_by = forms.CharField(label=_("Verified by"), required=False, max_length=120)
    quantity = DigitsIntegerField(label=_("Quantity (rounds)"), required=False, min_value=1)
    ammunition_type = forms.CharField(label=_("Ammunition type"), required=False,
                                      max_length=40)
    lot_number = forms.CharField(label=_("Lot or batch number"), required=False,
                                 max_length=80)
    hazard_division = forms.CharField(label=_("Hazard division"), required=False,
                                      max_length=8)
    chassis_number = AsciiDigitsCharField(label=_("Hull or chassis number"), required=False,
                                          max_length=80)
    engine_number = AsciiDigitsCharField(label=_("Engine number"), required=False,
                                         max_length=80)
    plate = forms.CharField(label=_("Plate"), required=False, max_length=40)
    documents_on_board = forms.CharField(label=_("Documents found on board"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo"), required=False)


EVENT_FIELDS = ("to_site", "escort", "store", "bay", "rack", "taken_by", "purpose", "seal",
                "method", "plan", "monitor", "certified_by", "recipient", "document", "note",
                "quantity")


class EventForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Event"), choices=[
        (k.code, k.label) for k in derive.KINDS.values() if k.manual])
    store = forms.ChoiceField(label=_("Store"), required=False)
    bay = forms.CharField(label=_("Bay"), required=False, max_length=20)
    rack = forms.CharField(label=_("Rack"), required=False, max_length=20)
    to_site = forms.CharField(label=_("Destination site code"), required=False, max_length=5)
    escort = forms.CharField(label=_("Escort"), required=False, max_length=160)
    taken_by = forms.CharField(label=_("Taken by"), required=False, max_length=160)
    purpose = forms.CharField(label=_("Purpose"), required=False, max_length=200)
    seal = forms.CharField(label=_("Seal number"), required=False, max_length=40)
    method = forms.CharField(label=_("Method"), required=False, max_length=200)
    plan = forms.CharField(label=_("Plan reference"), required=False, max_length=200)
    monitor = forms.CharField(label=_("Third-party monitor"), required=False, max_length=200)
    certified_by = forms.CharField(label=_("Certified by"), required=False, max_length=200)
    recipient = forms.CharField(label=_("Recipient"), required=False, max_length=200)
    document = forms.CharField(label=_("Handover document"), required=False, max_length=200)
    quantity = DigitsIntegerField(label=_("Quantity"), required=False, min_value=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", "—")] + [(str(s.pk), str(s)) for s in stores]


class SplitForm(BootstrapMixin, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    parts = AsciiDigitsCharField(label=_("New lots (rounds each, separated by spaces)"))


class PhotoForm(BootstrapMixin, forms.Form):
    subject = forms.ChoiceField(label=_("Subject"), choices=ItemPhoto.Subject.choices)
    photo = forms.FileField(label=_("Photo"))


class HoldForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason (investigators only)"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class CheckStartForm(BootstrapMixin, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    scope = forms.ChoiceField(label=_("Scope"), choices=StockCheck.Scope.choices)


class ScanForm(BootstrapMixin, forms.Form):
    code = AsciiDigitsCharField(label=_("Tag code"), max_length=20)
    serial = AsciiDigitsCharField(label=_("Serial read on the item"), required=False,
                                  max_length=80)
    quantity = DigitsIntegerField(label=_("Rounds counted"), required=False, min_value=0)


class ResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=Discrepancy.Resolution.choices)
    note = forms.CharField(label=_("What was done"), max_length=300)


class VerifyForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Receipt code (text of the QR code)"),
                           widget=forms.Textarea(attrs={"rows": 3}))


class StoreForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=120)
    name_ar = forms.CharField(label=_("Store name in Arabic"), max_length=120, required=False)
    kind = forms.ChoiceField(label=_("Holds"), choices=Kind.choices)


class HandoverForm(BootstrapMixin, forms.Form):
    """A return to the country of origin, as prepared and then completed on the pages. The
    items are the tags ticked in the store's list (``items``); the condition at return of
    each is read from ``condition-<tag>`` and ``note-<tag>`` by the view."""

    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    store = forms.CharField(widget=forms.HiddenInput)
    items = forms.MultipleChoiceField(label=_("Items to hand over"), required=False,
                                      widget=forms.MultipleHiddenInput)
    recipient = forms.CharField(label=_("Receiving party"), max_length=160,
                                help_text=_("The state or authority that receives the "
                                            "materiel, e.g. its ministry of defence."))
    delegation = forms.CharField(label=_("Delegation"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("The names of those who receive and sign for it, "
                                             "one per line."))
    document = forms.CharField(label=_("Handover agreement or document"), max_length=200)
    witness = forms.CharField(label=_("Witness"), required=False, max_length=200)

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        # any tag may come back from the page; which ones the user may hand over is for
        # the selector and the service to say
        posted = self.data.getlist("items") if hasattr(self.data, "getlist") else []
        self.fields["items"].choices = [(t, t) for t in dict.fromkeys([*tags, *posted])]

    def delegation_names(self) -> list[str]:
        text = self.cleaned_data.get("delegation") or ""
        return [n.strip() for n in text.splitlines() if n.strip()]
