"""Search keys: the name units of a text as short strings for an indexed key table.

The person search looks names up by exact key, so a key must be equal for every spelling
the engine holds to be one name, and different for names it keeps apart. Both come from the
units that scoring, blocking, dedupe and screening already use (:func:`split_units`):

* a unit of a name the lexicon knows is keyed by its identity, prefixed by its kind
  (``muhammad``; ``abd|rahman`` for عبد الرحمن, عبدالرحمن, Abdul Rahman, Abdelrahman and
  Abd al-Rahman alike; ``omar`` and ``amr`` stay two keys);
* any other unit by its consonant skeleton after ``~`` (``~hlb`` for الحلبي, Halabi and
  al-Halabi), which is its frequency key (``Unit.fkey``) too.

A stored name carries, besides that key of each unit, the coarse ``~skeleton`` of the unit
(the lexicon's and its own), so that a spelling the lexicon does not know (a typo, a rare
transliteration) still finds the persons whose name sounds the same; and the units of both
readings of a Latin token with a glued article (``Alhalabi`` as a family name and as itself),
because a search does not know which name part a word was typed for. A query takes one key
per unit, read as a family name would be: every key of a query is then one a stored spelling
of the same name carries.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ._text import detect_script
from ._units import Unit, split_units

# Keys are cut to this many characters, the width of the indexed column that holds them.
SEARCH_KEY_MAX = 80

_PREFIX = {"simple": "", "abd": "abd|", "din": "din|", "abu": "abu|"}


def _coarse(unit: Unit, skeleton: str) -> str:
    """``skeleton`` (with the unit's kind prefix) as a coarse key: ``abd|rhmn`` → ``abd|~rhmn``."""
    prefix = _PREFIX[unit.kind]
    return prefix + "~" + skeleton[len(prefix) :]


@lru_cache(maxsize=100_000)
def stored_search_keys(text: str) -> tuple[str, ...]:
    """Every key a stored name ``text`` carries (see the module docstring), in order, once."""
    keys: dict[str, None] = {}
    for family in (False, True):
        for unit in split_units(text, family):
            for key in (unit.fkey, _coarse(unit, unit.key), _coarse(unit, unit.skel)):
                keys[key[:SEARCH_KEY_MAX]] = None
    return tuple(keys)


@lru_cache(maxsize=10_000)
def query_search_keys(text: str) -> tuple[str, ...]:
    """The keys a search for ``text`` asks for: one per name unit, in the order typed.

    A word the engine cannot read as a name (it holds a digit or letters of a third script)
    is its own key, case-folded, so that it matches no name instead of being dropped: a
    search for ``محمد 12345`` is not a search for every محمد. Punctuation alone gives none.
    """
    readable: list[str] = []
    literal: list[str] = []
    for token in text.split():
        if any(ch.isdigit() for ch in token) or detect_script(token) == "other":
            literal.append(unicodedata.normalize("NFKC", token).casefold()[:SEARCH_KEY_MAX])
        elif detect_script(token) != "empty":
            readable.append(token)
    keys = [u.fkey[:SEARCH_KEY_MAX] for u in split_units(" ".join(readable), True)]
    return tuple(dict.fromkeys(keys + literal))
