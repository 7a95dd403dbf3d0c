"""Form pieces shared by every app.

``DigitsMixin`` makes every form accept Arabic-Indic and Persian digits wherever digits are
typed: the fields it lists are converted to ASCII digits before validation, so errors are shown
and the typed values kept exactly as with ASCII input.

``service_errors`` is how a page runs a form through a service: the service refuses with a
``MawaError`` and the refusal lands on the form (the message on top, each field error on its
field), which is shown again with what was typed::

    if form.is_valid():
        with service_errors(form):
            zone = services.zone_create(actor=request.user, site=site, **form.cleaned_data)
            return redirect(...)
    return render(request, "camp/layout.html", {"form": form}, status=400)
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from mawa.core.digits import to_ascii_digits
from mawa.core.errors import MawaError


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


def _mark_invalid(field) -> None:
    attrs = field.widget.attrs
    if "is-invalid" not in attrs.get("class", ""):
        attrs["class"] = (attrs.get("class", "") + " is-invalid").strip()
    attrs["aria-invalid"] = "true"


def form_errors_add(form, exc: MawaError, *, fields: Mapping[str, str] | None = None,
                    message_field: str | None = None) -> None:
    """Put a service's refusal on the form it came from.

    The message goes to the form's non-field errors (or onto ``message_field``, for a form of
    one field that shows no others); each field error goes to its field, and an error on a
    field the form does not have (a service's name for it, a nested value) to the non-field
    errors, so nothing is lost. ``fields`` (or the form's ``service_fields``) renames the
    service's field names to the form's. The messages stay lazy: they are shown in the user's
    language. The form's data is untouched, so the page shows again what was typed.
    """
    names = {**getattr(form, "service_fields", {}), **(fields or {})}
    shown: set[tuple[str | None, str]] = set()

    def add(name: str | None, message) -> None:
        if name is not None and name not in form.fields:
            name = None
        if (name, str(message)) in shown:
            return
        shown.add((name, str(message)))
        form.add_error(name, message)
        if name is not None:
            _mark_invalid(form.fields[name])

    add(message_field, exc.message)
    for name, messages in exc.fields.items():
        for message in messages:
            add(names.get(name, name), message)


class service_errors:  # noqa: N801 — used as a statement: ``with service_errors(form):``
    """Run the body (a service call, then the answer on success) and put a ``MawaError`` it
    raises on ``form`` (``form_errors_add``) instead of letting it through; the page then goes
    on to show the form again. ``error`` is the refusal caught (``None`` when there was none),
    ``status`` the HTTP status of the page to show (the refusal's, else 400).

    Errors of the classes in ``passthrough`` are not caught (e.g. ``NotFound``, to answer 404
    rather than show the form)."""

    def __init__(self, form, *, fields: Mapping[str, str] | None = None,
                 message_field: str | None = None,
                 passthrough: tuple[type[MawaError], ...] = ()):
        self.form, self.fields, self.message_field = form, fields, message_field
        self.passthrough = passthrough
        self.error: MawaError | None = None

    def __enter__(self) -> service_errors:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or not isinstance(exc, MawaError) or isinstance(exc, self.passthrough):
            return False
        self.error = exc
        form_errors_add(self.form, exc, fields=self.fields, message_field=self.message_field)
        return True

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None and self.error.status >= 400 else 400
