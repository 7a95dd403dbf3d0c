from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.core.forms import BootstrapMixin, DigitsDateField


class SitrepForm(BootstrapMixin, forms.Form):
    """The day and scope of a report. Arabic-Indic digits are accepted in the date."""

    date = DigitsDateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    site = forms.ChoiceField(label=_("Scope"), required=False)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("ALL", _("All my sites")),
                                       *((s.code, f"{s.code} · {s.name}") for s in sites)]


class StatsPublishForm(BootstrapMixin, forms.Form):
    date = DigitsDateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
