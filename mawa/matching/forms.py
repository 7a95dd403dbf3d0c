from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mawa.matching.models import Decision


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices,
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
    survivor = forms.UUIDField(required=False, widget=forms.HiddenInput)


class WatchlistImportForm(forms.Form):
    file = forms.FileField(label=_("File (FollowTheMoney JSON lines or CSV)"))
    source = forms.CharField(label=_("Source"), max_length=200,
                             widget=forms.TextInput(attrs={"class": "form-control"}))
    version = forms.CharField(label=_("Version"), max_length=100,
                              widget=forms.TextInput(attrs={"class": "form-control"}))
    licence = forms.CharField(label=_("Licence"), max_length=200,
                              widget=forms.TextInput(attrs={"class": "form-control"}))
