"""Parsing and checking of values as officers type them: partial dates in any digits, names in
one script per field, document numbers. Pure functions, shared by services (the rules), forms
and the API (so that the three interfaces agree).

Names are checked here, not normalised: the keys a name is searched by come from
``mawa.names.search_keys``, the one normaliser of search, suggestions, dedupe and screening.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from mawa.core import crypto
from mawa.core.digits import to_ascii_digits
from mawa.reception.models import DatePrecision

_DATE_RE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_DMY_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_MY_RE = re.compile(r"^(\d{1,2})[-/.](\d{4})$")


class BadValue(ValueError):
    """A typed value that cannot be read; ``message`` is translatable."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


def partial_date_parse(text: str | None) -> tuple[int | None, int | None, int | None, str]:
    """Read a date of birth as typed: ``1990``, ``1990-03``, ``1990-03-15``, ``15/03/1990``,
    ``03/1990``, in ASCII, Arabic-Indic or Persian digits. Returns (year, month, day,
    precision). An empty value is an unknown date."""
    cleaned = to_ascii_digits((text or "").strip()).replace(" ", "")
    if not cleaned:
        return None, None, None, DatePrecision.UNKNOWN
    m = _DATE_RE.match(cleaned)
    if m:
        y, mo, d = (int(g) if g else None for g in m.groups())
    elif (m := _DMY_RE.match(cleaned)):
        d, mo, y = (int(g) for g in m.groups())
    elif (m := _MY_RE.match(cleaned)):
        mo, y = (int(g) for g in m.groups())
        d = None
    else:
        raise BadValue(_("Type a year (1990), a month (1990-03) or a full date (1990-03-15)."))
    return partial_date_check(y, mo, d)


def partial_date_check(year, month, day) -> tuple[int | None, int | None, int | None, str]:
    """Check that (year, month, day) is a real, possibly partial, date; return it with its
    precision."""
    if year is None:
        if month is not None or day is not None:
            raise BadValue(_("A month or day needs a year."))
        return None, None, None, DatePrecision.UNKNOWN
    if not 1900 <= year <= 2100:
        raise BadValue(_("The year %(year)s is not plausible.") % {"year": year})
    if month is None:
        if day is not None:
            raise BadValue(_("A day needs a month."))
        return year, None, None, DatePrecision.YEAR
    if not 1 <= month <= 12:
        raise BadValue(_("There is no month %(month)s.") % {"month": month})
    if day is None:
        return year, month, None, DatePrecision.MONTH
    try:
        dt.date(year, month, day)
    except ValueError:
        raise BadValue(_("This date does not exist."))
    return year, month, day, DatePrecision.DAY


def partial_date_earliest(year, month, day) -> dt.date | None:
    """The earliest day a partial date can mean (to compare with the arrival date)."""
    if year is None:
        return None
    return dt.date(year, month or 1, day or 1)


# --- scripts -----------------------------------------------------------------------------

def _script_of(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("ARABIC"):
        return "ar"
    if name.startswith("LATIN"):
        return "lat"
    return "other"


_NAME_PUNCT = set(" -'’ʼ.")


def name_check(value: str, script: str) -> str:
    """Return ``value`` tidied (spaces collapsed, NFC) or raise ``BadValue``.

    One name part holds one script: a part that mixes Arabic and Latin letters cannot be
    normalised or matched, and is usually a keyboard-layout slip. Only letters, combining marks
    and ``- ' .`` are allowed, so markup can never be stored in a name.
    """
    return _name_check(value or "", script)


@lru_cache(maxsize=100_000)
def _name_check(value: str, script: str) -> str:
    # a pure function of its arguments, and an import checks 14 name fields on each of
    # 100,000 rows made of a few thousand distinct names: each checked once (a refusal is
    # an exception, which the cache does not keep: it is raised again every time)
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if not value:
        return ""
    scripts = set()
    for ch in value:
        if ch in _NAME_PUNCT or unicodedata.category(ch).startswith("M") or ch == "\u0640":
            continue
        s = _script_of(ch)
        if s is None:
            raise BadValue(_("A name may contain only letters, spaces, hyphens and "
                             "apostrophes."))
        scripts.add(s)
    if len(scripts & {"ar", "lat"}) > 1:
        raise BadValue(_("This name mixes Arabic and Latin letters; type each script in its "
                         "own field."))
    if script == "ar" and scripts - {"ar"}:
        raise BadValue(_("Type this name in Arabic script."))
    if script == "lat" and scripts - {"lat"}:
        raise BadValue(_("Type this name in Latin letters."))
    return value


def document_key(number: str) -> str:
    """A document or service number reduced to upper-case letters and ASCII digits."""
    return re.sub(r"[^0-9A-Z\u0600-\u06ff]", "", to_ascii_digits(number or "").upper())


#: the purpose of the reception's field key and look-up key in the key directory
KEY_PURPOSE = "reception"


def document_lookup(number: str) -> str:
    """What ``IdentityDocument.number_key`` holds for ``number``: the keyed hash of its
    ``document_key``, so that a number is found however it was typed without the database
    holding it in clear (the number itself is an ``EncryptedTextField``). ``""`` for a number
    with no letter or digit. Every look-up by document number goes through this."""
    return crypto.lookup_hash(KEY_PURPOSE, document_key(number))
