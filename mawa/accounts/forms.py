from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        # One message for an unknown user and a wrong password: do not reveal which accounts exist.
        "invalid_login": _("The user name or password is not correct."),
        "inactive": _("The user name or password is not correct."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("User name")
        self.fields["password"].label = _("Password")
        self.fields["username"].widget.attrs.update({"class": "form-control", "autofocus": True,
                                                      "autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"class": "form-control",
                                                      "autocomplete": "current-password"})


class SiteChoiceForm(forms.Form):
    site_id = forms.UUIDField()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=20,
        help_text=_("The six digits shown by the authenticator app, or one recovery code."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "one-time-code",
                                      "inputmode": "numeric", "autofocus": True, "dir": "ltr"}))


class ReauthForm(forms.Form):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={
        "class": "form-control", "autocomplete": "current-password", "autofocus": True}))
    code = forms.CharField(label=_("Code"), max_length=8, widget=forms.TextInput(attrs={
        "class": "form-control", "autocomplete": "one-time-code", "inputmode": "numeric",
        "dir": "ltr"}))
