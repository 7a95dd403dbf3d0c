"""Search keys: the name units of a text as short strings for an indexed key table.

The person search looks names up by exact key, so a key must be equal for every spelling
the engine holds to be one name, and different for names it keeps apart. Both come from the
units that scoring, blocking, dedupe and screening already use (:func:`split_units`):

* a unit of a name the lexicon knows is keyed by its identity, prefixed by its kind
  (``muhammad``; ``abd|rahman`` for عبد الرحمن, عبدالرحمن, Abdul Rahman, Abdelrahman and
  Abd al-Rahman alike; ``omar`` and ``amr`` stay two keys);
* any other unit by its consonant skeleton after ``~`` (``~hlb`` for الحلبي, Halabi and
  al-Halabi), which is its frequency key (``Unit.fkey``) too.

A stored name carries the key of each of its units; a Latin token with a glued article
(``Alhalabi``) is read both ways, as a family name (``~hlb``) and as itself (``~lhlb``),
because a search does not know which name part a word was typed for. A query takes one key
per unit, read as a family name would be: every key of a query is then one that a stored
spelling of the same name carries. One key per unit keeps the key table about as large as
the register's words: a name and its spelling in the other script share their key.

A spelling the lexicon does not know is keyed by its skeleton, so it meets the unknown
spellings with that skeleton, not the lexicon name it may be a typo of (``Mohmmed`` is
``~mhmd``, محمد is ``muhammad``): the search finds spellings, the suggestions while typing
and the duplicate queue (which score every candidate) find typos.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ._text import detect_script
from ._units import split_units

# Keys are cut to this many characters, the width of the indexed column that holds them.
SEARCH_KEY_MAX = 80


@lru_cache(maxsize=100_000)
def stored_search_keys(text: str) -> tuple[str, ...]:
    """Every key a stored name ``text`` carries (see the module docstring), in order, once."""
    keys = [u.fkey[:SEARCH_KEY_MAX] for family in (False, True) for u in split_units(text, family)]
    return tuple(dict.fromkeys(keys))


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
