"""The display layer: a stored key or value turned into what an officer reads.

Generic on purpose (the kernel knows no domain app): the caller names the model, the field,
the extra labels of keys that are no model field, and which keys hold site codes.

- ``choice_label(model, "condition", "serviceable")`` → the field's translated choice label
- ``field_label(model, "marking_integrity")`` → the field's translated ``verbose_name``
- ``value_text(True)`` → translated yes/no; ``None``/"" → "—"; lists joined
- ``site_names(["NUR"])`` → ``{"NUR": "Camp Nur"}`` in the active language
- ``labelled(data, model=..., labels=..., choices=..., sites=...)`` → ``[(label, text), ...]``
- ``day_text(d)`` / ``when_text(dt)`` → the one date (and time) format of the language (an ISO
  text, such as a ledger entry's ``ts``, is read first)
- ``shown_digits(text)`` / ``number_text(n)`` → digits in the reader's choice (``User.digits``:
  Latin or Arabic-Indic, set per request by ``digits_activate``)
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from mawa.core.models import Site


def model_field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def humanise(key: str) -> str:
    """Last resort for a key nobody labelled: words, not a snake_case token."""
    return capfirst(str(key).replace("_", " ").replace("/", " / "))


def choice_label(model, name: str, value: Any, choices=None) -> str:
    """The translated label of ``value`` in the field's choices (or the given TextChoices /
    list of pairs); the value itself, humanised, when it is none of them."""
    if value in (None, ""):
        return "—"
    options = choices
    if options is None:
        f = model_field(model, name)
        options = getattr(f, "choices", None)
    if isinstance(options, type) and issubclass(options, models.Choices):
        options = options.choices
    for key, label in options or ():
        if str(key) == str(value):
            return str(label)
    return humanise(value) if isinstance(value, str) and "_" in value else str(value)


def field_label(model, name: str, labels: Mapping[str, Any] | None = None) -> str:
    """The translated name of a stored key: the caller's label, else the model field's
    ``verbose_name``, else the key in words."""
    if labels and name in labels:
        return capfirst(str(labels[name]))
    f = model_field(model, name)
    if f is not None and getattr(f, "verbose_name", None):
        return capfirst(str(f.verbose_name))
    return humanise(name)


def value_text(value: Any) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return " · ".join(f"{humanise(k)}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, datetime.datetime):
        return when_text(value)
    if isinstance(value, datetime.date):
        return day_text(value)
    if isinstance(value, (int, float, Decimal)):
        return shown_digits(value)
    return str(value)


def site_names(codes: Iterable[str]) -> dict[str, str]:
    """Site code → the site's name in the active language (unknown codes map to themselves)."""
    codes = {c for c in codes if isinstance(c, str) and c}
    if not codes:
        return {}
    return {s.code: s.name for s in Site.objects.filter(code__in=codes)}


def labelled(data: Mapping[str, Any], *, model=None, labels: Mapping[str, Any] | None = None,
             choices: Mapping[str, Any] | None = None, sites: Iterable[str] = (),
             hide: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``data`` as (translated label, display text) pairs, in its order, ``hide`` left out."""
    hide, sites = set(hide), set(sites)
    choices = dict(choices or {})
    names = site_names(v for k, v in data.items() if k in sites)
    out = []
    for key, value in data.items():
        if key in hide:
            continue
        if key in sites:
            text = names.get(value, value_text(value))
        elif key in choices or (isinstance(value, str) and getattr(model_field(model, key),
                                                                     "choices", None)):
            text = choice_label(model, key, value, choices.get(key))
        else:
            text = value_text(value)
        out.append((field_label(model, key, labels), text))
    return out


#: what each ledger stream family records, for a person reading the ledger page
STREAM_FAMILIES = {
    "person": _lazy("A person's record"),
    "group": _lazy("An arrival group"),
    "custody": _lazy("Custody at %(site)s"),
    "camp": _lazy("Camp register at %(site)s"),
    "event": _lazy("An incident file"),
    "source": _lazy("An information source"),
    "match": _lazy("A match decision"),
    "watchlist": _lazy("A watch list"),
    "audit": _lazy("Audit trail"),
    "break-glass": _lazy("Emergency access"),
    "retention": _lazy("Retention purges"),
}


def stream_label(stream: str, names: Mapping[str, str] | None = None) -> str:
    """A ledger stream (``custody/RHM``, ``person/<uuid>``) in words; ids are left out."""
    family, _sep, rest = str(stream).partition("/")
    label = STREAM_FAMILIES.get(family)
    if label is None:
        return humanise(family)
    text = str(label)
    if "%(site)s" in text:
        if names is None:
            names = site_names([rest])
        text = text % {"site": names.get(rest, rest)}
    return text


# --- dates and digits ----------------------------------------------------------------------
#: the display digits a user may choose (the stored value of ``User.digits``)
LATIN, ARABIC_INDIC = "latin", "arabic"
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_digits: ContextVar[str] = ContextVar("mawa_display_digits", default=LATIN)


def digits_activate(style: str) -> Token:
    """Show digits as ``style`` (``latin``/``arabic``) for this request; ``digits_reset`` it."""
    return _digits.set(ARABIC_INDIC if style == ARABIC_INDIC else LATIN)


def digits_reset(token: Token) -> None:
    _digits.reset(token)


def digits_active() -> str:
    return _digits.get()


def shown_digits(text: Any) -> str:
    """``text`` with its digits in the reader's chosen script (Arabic-Indic only on Arabic
    pages: an English page keeps Latin digits whatever the preference)."""
    text = "" if text is None else str(text)
    if _digits.get() == ARABIC_INDIC and get_language() == "ar":
        return text.translate(_ARABIC_INDIC)
    return text


class YearMonth(datetime.date):
    """A date known to the month only (shown as "June 1993")."""

    def __new__(cls, year: int, month: int):
        return super().__new__(cls, year, month, 1)

    def isoformat(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def moment(value: Any) -> Any:
    """``value`` as a date or datetime: an ISO text (a ledger entry's ``ts``, UTC when it
    names no zone) is read; anything else is returned as it is."""
    if not isinstance(value, str):
        return value
    if re.fullmatch(r"\d{4}-\d{2}", value.strip()):  # a month (a birth known to the month)
        return YearMonth(int(value[:4]), int(value[5:7]))
    try:
        parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if len(value.strip()) == 10:
        return parsed.date()
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)


def day_text(value: Any) -> str:
    """A date (or the day of a datetime, local time) in the one format of the language."""
    if value in (None, ""):
        return "—"
    value = moment(value)
    if isinstance(value, str):
        return shown_digits(value)
    if isinstance(value, YearMonth):
        return shown_digits(formats.date_format(value, "YEAR_MONTH_FORMAT"))
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    return shown_digits(formats.date_format(value, "DATE_FORMAT"))


def when_text(value: Any) -> str:
    """A moment in the one date-and-time format of the language (a bare date: its day)."""
    if value in (None, ""):
        return "—"
    value = moment(value)
    if isinstance(value, str):
        return shown_digits(value)
    if not isinstance(value, datetime.datetime):
        return day_text(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return shown_digits(formats.date_format(value, "DATETIME_FORMAT"))


def number_text(value: Any) -> str:
    """A number or code in the reader's digits; ``None`` → "—"."""
    if value is None or value == "":
        return "—"
    return shown_digits(value)
