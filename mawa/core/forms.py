"""Form pieces shared by every app.

``DigitsMixin`` makes every form accept Arabic-Indic and Persian digits wherever digits are
typed: the fields it lists are converted to ASCII digits before validation, so errors are shown
and the typed values kept exactly as with ASCII input.
"""

from __future__ import annotations

from django import forms

from mawa.core.digits import to_ascii_digits


class AsciiDigitsCharField(forms.CharField):
    """A text field whose digits are stored as ASCII (document, service and phone numbers)."""

    def to_python(self, value):
        return to_ascii_digits(super().to_python(value))


class DigitsIntegerField(forms.IntegerField):
    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
        return super().to_python(value)


class DigitsDateField(forms.DateField):
    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
        return super().to_python(value)


class DigitsDecimalField(forms.DecimalField):
    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
        return super().to_python(value)


class BootstrapMixin:
    """Give every widget Bootstrap's classes; mark fields with errors as invalid."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else (
                "form-check-input" if isinstance(widget, forms.CheckboxInput) else "form-control")
            widget.attrs.setdefault("class", css)

    def full_clean(self):
        # Mark invalid fields after validation (not in __init__, which would validate before a
        # subclass has finished setting up its fields, e.g. its choices).
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if field is not None and "is-invalid" not in field.widget.attrs.get("class", ""):
                field.widget.attrs["class"] = field.widget.attrs.get("class", "") + " is-invalid"
                field.widget.attrs["aria-invalid"] = "true"
