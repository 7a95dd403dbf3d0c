from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Role
from mawa.core.forms import BootstrapMixin
from mawa.core.models import Site, SiteKind


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


class UserAccessForm(BootstrapMixin, forms.Form):
    """Who an account is and where it works. Giving the compartment (the investigator role) or
    widening it needs a second administrator: the page says so after saving."""

    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *Role.choices],
                             required=False)
    all_sites = forms.BooleanField(label=_("All sites"), required=False)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"), required=False, queryset=Site.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class UserCreateForm(UserAccessForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    language = forms.ChoiceField(label=_("Language"),
                                 choices=[("ar", _("Arabic")), ("en", _("English"))])
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    field_order = ["username", "first_name", "last_name", "email", "language", "password",
                   "role", "sites", "all_sites", "is_active"]

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class ApiTokenForm(BootstrapMixin, forms.Form):
    """A new API token: its name, scope, sites and expiry (``services.api_token_create``)."""

    SCOPES = [("read_only", _("Read only (everything my role may read)")),
              ("permissions", _("The permissions chosen below (reading and writing)"))]

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. the camp's ration system."))
    scope = forms.ChoiceField(label=_("Scope"), choices=SCOPES, initial="read_only")
    permissions = forms.MultipleChoiceField(label=_("Permissions"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    sites = forms.ModelMultipleChoiceField(label=_("Sites"), queryset=Site.objects.none(),
                                           required=False, widget=forms.CheckboxSelectMultiple)
    all_sites = forms.BooleanField(label=_("Every site I work at"), required=False)
    expires_at = forms.DateField(label=_("Expires on"),
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, permissions=(), sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(p, p) for p in sorted(permissions)]
        if sites is not None:
            self.fields["sites"].queryset = sites


class DisplayForm(BootstrapMixin, forms.Form):
    """The user's own display settings."""

    digits = forms.ChoiceField(label=_("Digits on Arabic pages"),
                               widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                               choices=[("latin", _("Latin digits (0123456789)")),
                                        ("arabic", _("Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩)"))])


class SiteForm(BootstrapMixin, forms.Form):
    """A crossing, camp, depot or headquarters, with its restricted location
    (``services.site_create`` / ``site_update`` decide what is valid)."""

    code = forms.CharField(label=_("Code"), max_length=5,
                           help_text=_("Two to five capital letters, used in short codes; "
                                       "never changes."),
                           widget=forms.TextInput(attrs={"dir": "ltr",
                                                         "autocapitalize": "characters"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=SiteKind.choices)
    name_ar = forms.CharField(label=_("Name in Arabic"), max_length=200,
                              widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}))
    name_en = forms.CharField(label=_("Name in English"), max_length=200,
                              widget=forms.TextInput(attrs={"dir": "ltr", "lang": "en"}))
    latitude = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9,
                                  decimal_places=6,
                                  widget=forms.TextInput(attrs={"dir": "ltr",
                                                                "inputmode": "decimal"}))
    longitude = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9,
                                   decimal_places=6,
                                   widget=forms.TextInput(attrs={"dir": "ltr",
                                                                 "inputmode": "decimal"}))
    location_note = forms.CharField(label=_("Location description"), required=False,
                                    max_length=300)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def clean_code(self):
        return (self.cleaned_data.get("code") or "").strip().upper()


class AuditFilterForm(forms.Form):
    record = forms.CharField(label=_("Record (code or id)"), required=False, max_length=60)
    actor = forms.CharField(label=_("User (user name)"), required=False, max_length=150)
    day = forms.DateField(label=_("Day (UTC)"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=0, max_value=100_000,
                              widget=forms.HiddenInput)
