"""Template face of ``mawa.core.display``: ``{% load mawa_display %}``.

``{{ value|choice_label:"custody.Item.condition" }}``, ``{{ key|field_label:"custody.Item" }}``,
``{{ d|day }}``, ``{{ dt|when }}``, ``{{ n|num }}`` (dates and digits as the reader chose),
``{{ value|value_text }}``, ``{{ code|site_name }}``. The model is named by the caller, so the
kernel stays ignorant of the apps above it."""

from __future__ import annotations

from django import template
from django.apps import apps
from django.utils.html import format_html
from django.utils.module_loading import import_string

from mawa.core import display

register = template.Library()


def _model(path: str):
    app_label, model_name = path.split(".")[:2]
    return apps.get_model(app_label, model_name)


@register.filter
def choice_label(value, path: str) -> str:
    """``app.Model.field``: the translated label of the stored choice."""
    app_label, model_name, name = path.split(".")
    return display.choice_label(_model(f"{app_label}.{model_name}"), name, value)


@register.filter
def field_label(key, path: str) -> str:
    """``app.Model``: the translated verbose name of the field ``key``."""
    return display.field_label(_model(path), str(key))


@register.filter
def value_text(value) -> str:
    return display.value_text(value)


@register.filter
def site_name(code) -> str:
    return display.site_names([code]).get(code, code or "—")


@register.simple_tag
def shown_value(path: str, key, value) -> str:
    """``{% shown_value "app.Model" key value %}``: a stored value of the field ``key``, its
    choice label when the field has choices, else yes/no, "—" or the value."""
    model = _model(path)
    field = display.model_field(model, str(key))
    if field is not None and getattr(field, "choices", None) and not isinstance(value, bool):
        return display.choice_label(model, str(key), value)
    return display.value_text(value)


@register.filter
def stream_label(stream) -> str:
    """A ledger stream in words (``custody/RHM`` → "Custody at Rahma crossing")."""
    return display.stream_label(stream)


@register.filter
def choices_label(value, dotted: str) -> str:
    """``{{ person.vulnerabilities|choices_label:"mawa.reception.models.Vulnerability" }}``:
    a stored choice, or a list of them, by the translated labels of the caller's choices."""
    choices = import_string(dotted)
    if isinstance(value, (list, tuple)):
        if not value:
            return "—"
        return ", ".join(display.choice_label(None, "", v, choices) for v in value)
    return display.choice_label(None, "", value, choices)


def _time(value, text: str):
    """A ``<time>`` that keeps its own direction (Arabic month names never reordered by an
    ``ltr`` cell) and never breaks across lines."""
    value = display.moment(value)
    if value in (None, "") or isinstance(value, str):
        return text
    return format_html('<time class="when" dir="auto" datetime="{}">{}</time>',
                       value.isoformat(), text)


@register.filter
def day(value):
    """``{{ d|day }}``: a date (or a datetime's day) in the one format of the language."""
    return _time(value, display.day_text(value))


@register.filter
def when(value):
    """``{{ dt|when }}``: date and time in the one format of the language."""
    return _time(value, display.when_text(value))


@register.filter
def num(value) -> str:
    """``{{ n|num }}``, ``{{ person.short_code|num }}``: digits in the reader's choice."""
    return display.number_text(value)


@register.filter
def model_name(label) -> str:
    """``app.model`` (as the audit trail stores it): the model's translated name."""
    try:
        return str(apps.get_model(str(label))._meta.verbose_name)
    except (LookupError, ValueError):
        return display.humanise(str(label))


@register.filter
def humanised(key) -> str:
    """A stored key (``match_run``) in words, for keys without a label of their own."""
    return display.humanise(str(key))
