"""Dates and values in printed documents, one way for every document (issue 16).

A date is written ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM UTC`` with its time) in both languages,
in a ``<bdi dir="ltr">``: inside an Arabic sentence its digits would otherwise take the
sentence's direction and come out reversed (``06-12-2026``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if timezone.is_aware(value) else value


@register.filter
def docdate(value) -> str:
    """``value`` (a date, a datetime or an ISO string) as an isolated ``YYYY-MM-DD``."""
    if value in (None, ""):
        return "—"
    if isinstance(value, dt.datetime):
        value = _utc(value).date()
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return format_html('<bdi dir="ltr" class="date">{}</bdi>', text)


@register.filter
def docdatetime(value) -> str:
    """A datetime as an isolated ``YYYY-MM-DD HH:MM UTC``."""
    if value in (None, ""):
        return "—"
    if not isinstance(value, dt.datetime):
        return docdate(value)
    return format_html('<bdi dir="ltr" class="date">{} UTC</bdi>',
                       _utc(value).strftime("%Y-%m-%d %H:%M"))


def direction_of(text: str) -> str:
    """``rtl`` when the first letter of ``text`` is Arabic (or Hebrew), else ``ltr``: what
    ``dir="auto"`` would say (WeasyPrint does not apply it, so it is decided here)."""
    for ch in text:
        if unicodedata.bidirectional(ch) in ("R", "AL"):
            return "rtl"
        if unicodedata.bidirectional(ch) == "L":
            return "ltr"
    return "ltr"


@register.filter
def isolated(value) -> str:
    """A value in whatever script (a code, a name, a free text), isolated from the text
    around it in its own direction, so that neither reorders the other."""
    if value in (None, ""):
        return "—"
    text = str(value)
    return format_html('<bdi dir="{}">{}</bdi>', direction_of(text), text)
