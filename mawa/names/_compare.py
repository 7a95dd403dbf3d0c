"""Comparison levels for single fields, each with a machine code and an English phrase.

Following Splink's idea of a comparison level as a tiny object that both measures and says in
words what it measured, every level here has a ``code`` (stable, for translation on the
Django side) and an English ``phrase``.
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler, Levenshtein

from ._record import BirthDate
from ._units import SKELETON_OWNERS, Unit

EXACT, VARIANT, TYPO, WEAK, DIFF = "exact", "variant", "typo", "weak", "diff"
RANK = {EXACT: 4, VARIANT: 3, TYPO: 2, WEAK: 1, DIFF: 0}

_CACHE: dict[tuple[int, int], str] = {}
_CACHE_LIMIT = 3_000_000


def unit_level(a: Unit, b: Unit) -> str:
    """Compare two name units; return EXACT, VARIANT, TYPO, WEAK or DIFF.

    Lexicon identities decide when both names are known (Omar ≠ Amr however close the
    letters); otherwise the same-script form or the cross-script skeleton is compared, with
    a typo allowance only for longer names, where one edit rarely makes another name.
    """
    key = (a.uid, b.uid) if a.uid < b.uid else (b.uid, a.uid)
    level = _CACHE.get(key)
    if level is None:
        level = _unit_level(a, b)
        if len(_CACHE) > _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = level
    return level


def _unit_level(a: Unit, b: Unit) -> str:
    if a.kind != b.kind:
        return DIFF
    if a.ids and b.ids:
        if a.ids & b.ids:
            return EXACT
        if a.ids & b.alt_ids or a.alt_ids & b.ids:
            return WEAK
        return DIFF
    if a.script == b.script and a.form == b.form:
        return EXACT
    known = a.ids or b.ids
    if known and (a.alt_ids & b.ids or a.ids & b.alt_ids):
        return WEAK
    if len(a.form) == 1 or len(b.form) == 1:
        # An initial (M. for Mohammed) fits any name with that first letter, weakly.
        x, y = (a, b) if len(a.form) == 1 else (b, a)
        if x.script == "la" and y.script == "la" and y.form[:1] == x.form:
            return WEAK
        if x.script == "la" and y.script == "ar" and y.skel[:1] == x.skel[:1]:
            return WEAK
        return DIFF
    if a.skel == b.skel or (a.script != b.script and (a.skels & b.skels)):
        if known:
            owners = SKELETON_OWNERS.get(a.skel, frozenset())
            if len(owners) > 1:
                return WEAK
            return VARIANT
        if a.script == b.script == "la":
            return VARIANT if JaroWinkler.similarity(a.form, b.form) >= 0.85 else WEAK
        if a.script == b.script == "ar":
            return TYPO if Levenshtein.distance(a.form, b.form) <= 1 else WEAK
        return VARIANT
    if a.script == b.script and not known:
        n = min(len(a.form), len(b.form))
        d = Levenshtein.distance(a.form, b.form, score_cutoff=2)
        if (d <= 1 and n >= 4) or (d <= 2 and n >= 8):
            return TYPO
    n = min(len(a.skel), len(b.skel))
    d = min(Levenshtein.distance(x, y, score_cutoff=2) for x in a.skels for y in b.skels)
    if d <= 1 and not (a.ids and b.ids):
        if n >= 4:
            return TYPO
        if n >= 3 or (a.script == b.script == "ar" and min(len(a.form), len(b.form)) >= 3):
            # Short names one letter apart are often different names (Saad/Saeed): weak.
            return WEAK
    return DIFF


def slot_level(a: tuple[Unit, ...], b: tuple[Unit, ...]) -> tuple[str, Unit | None, Unit | None]:
    """Compare two name slots (each one or more units): best level for their first names.

    Returns the level and the pair of units it was found on, or ``("missing", None, None)``
    if either side is empty. A double given name (``Mohammed Ali``) matches its first part.
    """
    if not a or not b:
        return "missing", None, None
    best = DIFF
    pair: tuple[Unit | None, Unit | None] = (a[0], b[0])
    for x in a[:2]:
        for y in b[:2]:
            lvl = unit_level(x, y)
            if RANK[lvl] > RANK[best]:
                best, pair = lvl, (x, y)
                if best == EXACT:
                    return best, x, y
    return best, pair[0], pair[1]


# --- Dates -----------------------------------------------------------------------------


def dob_level(a: BirthDate | None, b: BirthDate | None) -> str:
    """Compare two birth dates, knowing their precision and the usual recording errors.

    Levels: ``missing``; ``exact`` (same full date); ``swap`` (day and month swapped);
    ``jan1`` (same year, one side is a 1 January placeholder); ``month`` (same year and month);
    ``year`` (same year, one side less precise); ``year_other`` (same year, full dates
    disagree otherwise); ``year1`` (one year apart); ``year3`` (two or three years);
    ``far`` (more than three years).
    """
    if a is None or b is None:
        return "missing"
    dy = abs(a.year - b.year)
    if dy == 0:
        if a.day and b.day:
            if a.month == b.month and a.day == b.day:
                return "exact"
            if a.month == b.day and a.day == b.month:
                return "swap"
            if (a.month, a.day) == (1, 1) or (b.month, b.day) == (1, 1):
                return "jan1"
            if a.month == b.month:
                return "month"
            return "year_other"
        if a.month and b.month and a.month != b.month:
            return "year_other"
        return "year"
    if dy == 1:
        return "year1"
    if dy <= 3:
        return "year3"
    return "far"


def id_level(a: str, b: str) -> str:
    """Compare two document or service numbers: ``missing``, ``same``, ``near`` or ``diff``.

    ``near`` is one character off (a typing error) on numbers of at least six characters.
    """
    if not a or not b:
        return "missing"
    if a == b:
        return "same"
    if min(len(a), len(b)) >= 6 and Levenshtein.distance(a, b, score_cutoff=1) <= 1:
        return "near"
    return "diff"
