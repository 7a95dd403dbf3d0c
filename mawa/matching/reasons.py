"""The reason codes of ``mawa.names`` in words, in Arabic and English.

The library explains each score with machine codes (``given_name.variant``,
``birth_date.year1`` …) and English sentences; people deciding in the review queue read these
translations. A code the library adds later falls back to its English text.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

FIELDS = {
    "given": _("Given name"),
    "father": _("Father's name"),
    "grandfather": _("Grandfather's name"),
    "family": _("Family name"),
    "mother": _("Mother's name"),
}
LEVELS = {
    "exact": _("same"),
    "variant": _("spelling variants of one name"),
    "typo": _("one letter apart"),
    "weak": _("similar but possibly different names"),
    "diff": _("different"),
}
OTHER = {
    "family_group.capped": _("Father's, grandfather's, family and mother's names and birth "
                             "place count together at most as much as one family, since "
                             "brothers share them"),
    "order.swapped": _("Given and family names written in swapped order"),
    "kunya.same": _("Same kunya (Abu …)"),
    "chain.shifted": _("Names shifted by one generation: looks like father and son"),
    "birth_date.exact": _("Date of birth: same"),
    "birth_date.swap": _("Date of birth: day and month swapped"),
    "birth_date.jan1": _("Date of birth: same year, one is a 1 January placeholder"),
    "birth_date.month": _("Date of birth: same year and month, day differs"),
    "birth_date.year": _("Date of birth: same year (one date less precise)"),
    "birth_date.year_other": _("Date of birth: same year, month or day differs"),
    "birth_date.year1": _("Date of birth: one year apart"),
    "birth_date.year3": _("Date of birth: two or three years apart"),
    "birth_date.far": _("Date of birth: more than three years apart"),
    "national_id.same": _("National ID: same"),
    "national_id.near": _("National ID: one character apart"),
    "national_id.diff": _("National ID: different"),
    "military_id.same": _("Service number: same"),
    "military_id.near": _("Service number: one character apart"),
    "military_id.diff": _("Service number: different"),
    "document_number.same": _("Document number: same"),
    "sex.same": _("Sex: same"),
    "sex.diff": _("Sex: different"),
    "nationality.same": _("Nationality: same"),
    "nationality.diff": _("Nationality: different"),
    "birth_place.same": _("Place of birth: same"),
    "birth_place.diff": _("Place of birth: different"),
}
_NAME_CODE = re.compile(r"^(given|father|grandfather|family|mother)_name\.(\w+)$")
# The names compared, as the library quotes them: "(محمد / Mohammed)" or "(محمد)".
_QUOTED = re.compile(r"\(([^()]*)\)")


def reason_text(code: str, english: str = "") -> str:
    """One reason in the user's language; the names compared are kept as written."""
    m = _NAME_CODE.match(code)
    if m and m.group(2) in LEVELS:
        quoted = _QUOTED.search(english or "")
        text = f"{FIELDS[m.group(1)]}: {LEVELS[m.group(2)]}"
        return f"{text} ({quoted.group(1)})" if quoted else text
    if code in OTHER:
        return str(OTHER[code])
    return english or code


def reasons_display(reasons: list[dict]) -> list[dict]:
    """Stored reasons ready for a template: translated text, weight, and which way it points."""
    return [{"code": r["code"], "text": reason_text(r["code"], r.get("text", "")),
             "weight": r.get("weight", 0), "for_match": r.get("weight", 0) > 0}
            for r in reasons]
