"""Arabic-aware name matching: normalisation, cross-script keys, scoring, dedupe, screening.

A pure library: it imports nothing from Django, so it can be tested and benchmarked alone
and run on CSV files from the command line (:mod:`mawa.names.cli`).

Typical use::

    from mawa.names import NameRecord, score_pair
    a = NameRecord("1", given_name="محمد", father_name="أحمد", family_name="الحلبي")
    b = NameRecord("2", given_name="Mohammed", father_name="Ahmed", family_name="Al-Halabi")
    match = score_pair(a, b)
    match.probability, match.explanation

Reading files (the CLI and the Django side share these readers)::

    from mawa.names import CSV_COLUMNS, Report, UnusableInput, read_ftm, read_records_csv
    report = Report("list.csv")
    with open("list.csv", encoding="utf-8", newline="") as f:
        records = [record for _line, record in read_records_csv(f, report)]
    report.bad, report.warnings   # [(line number, message)] of skipped rows and problems

``read_records_csv`` reads the record CSV contract (header :data:`CSV_COLUMNS`),
``read_ftm`` FollowTheMoney JSON lines (Person entities). Both yield ``(line, NameRecord)``.

Name frequencies from counts kept elsewhere (a database table)::

    pairs = NameFrequencies.counts_of(prepare(record))   # [("given", fkey), …] to store
    freqs = NameFrequencies.from_counts({("given", "muhammad"): 120, …},
                                        totals={"given": 4000, "family": 1000, "place": 900})

Keys of a name text for an indexed search table (a stored name, and what a search asks)::

    search_keys("عبد الرحمن الحلبي")          # ('abd|rahman', '~hlb') — the keys to store
    search_keys("Abd al-Rahman", query=True)  # ('abd|rahman',) — the keys a search needs

Errors: :class:`InvalidDate` (a ``ValueError``) from :func:`parse_birth_date`;
:class:`UnusableInput` from the readers for a file that cannot be read at all (no header
columns, not a CSV, empty); ``ValueError`` from :meth:`NameFrequencies.from_counts` for an
unknown pool or an empty key. Nothing else is raised for bad input — problems in a record
are collected in ``prepare(r).problems``, bad rows of a file in the :class:`Report`.
"""

from __future__ import annotations

from ._blocking import prepared_keys
from ._cluster import Assignment, dedupe
from ._index import Candidate, NameIndex, screen
from ._io import CSV_COLUMNS, Report, UnusableInput, read_ftm, read_records_csv
from ._learned import Model, default_model, train_model
from ._model import DEFAULT_MODEL, Match, NameFrequencies, Reason, Scorer
from ._record import BirthDate, InvalidDate, NameRecord, Prepared, parse_birth_date, prepare
from ._search import SEARCH_KEY_MAX, query_search_keys, stored_search_keys
from ._text import detect_script, normalize_arabic, normalize_digits, normalize_latin
from ._units import Unit as NameUnit
from ._units import place_key, split_units

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_MODEL",
    "SEARCH_KEY_MAX",
    "Assignment",
    "BirthDate",
    "Candidate",
    "InvalidDate",
    "Match",
    "Model",
    "NameFrequencies",
    "NameIndex",
    "NameRecord",
    "NameUnit",
    "Prepared",
    "Reason",
    "Report",
    "Scorer",
    "UnusableInput",
    "dedupe",
    "default_model",
    "detect_script",
    "latin_key",
    "name_keys",
    "names_match",
    "normalize_arabic",
    "normalize_digits",
    "normalize_latin",
    "parse_birth_date",
    "parse_name",
    "place_key",
    "prepare",
    "read_ftm",
    "read_records_csv",
    "score_pair",
    "screen",
    "search_keys",
    "train_model",
]


def parse_name(text: str, family: bool = False) -> list[NameUnit]:
    """Split a name field or a full chain into name units (compounds merged, particles dropped).

    ``parse_name("Abd al-Rahman bin Khalid")`` gives two units, ``abd|rahman`` and
    ``khalid``. Each unit has ``kind`` (``simple``, ``abd``, ``din``, ``abu`` for a kunya),
    lexicon ``ids``, a cross-script ``skel`` and a blocking ``key``. Set ``family`` for a
    family-name field, where a glued article (``Alhalabi``) is stripped.
    """
    return list(split_units(text, family))


def latin_key(text: str) -> str:
    """Cross-script key of a name in either script: equal for spellings of one name.

    ``latin_key("محمد") == latin_key("Mohammed") == latin_key("Mhd") == "mhmd"``. It is a
    consonant skeleton (lexicon names use their canonical skeleton), so it is deliberately
    coarse — Omar and Amr share it; use :func:`names_match` or :func:`score_pair` to decide.
    Units of a multi-part name are joined with spaces.
    """
    return " ".join(u.key for u in split_units(text))


def names_match(a: str, b: str) -> str:
    """Compare two single names in any script: ``exact``, ``variant``, ``typo``, ``weak``, ``diff``.

    ``names_match("محمد", "Mohamad") == "exact"``; ``names_match("Omar", "Amr") == "diff"``.
    Only the first unit of each side is compared. Empty or third-script input gives ``diff``.
    """
    from ._compare import unit_level

    ua, ub = split_units(a), split_units(b)
    if not ua or not ub:
        return "diff"
    return unit_level(ua[0], ub[0])


def name_keys(record: NameRecord | Prepared) -> set[str]:
    """Blocking keys of a record, for an indexed key table on the Django side.

    Two records are candidates for comparison when they share at least one key. Keys combine
    canonical skeletons of given, father, grandfather, family and mother names, birth year
    and identifiers; they survive script changes, spelling variants, a dropped grandfather,
    given/family swaps and one-year date errors (each through some of the keys).
    """
    p = record if isinstance(record, Prepared) else prepare(record)
    return prepared_keys(p)


def search_keys(text: str, *, query: bool = False) -> tuple[str, ...]:
    """Search keys of a name text in either script, for an indexed key table.

    The one normaliser of the person search: its keys come from the units that scoring,
    dedupe and screening compare (:func:`parse_name`), so a search meets the spellings they
    hold to be one name — عبد الرحمن, عبدالرحمن, Abdul Rahman, Abdelrahman and Abd al-Rahman
    all carry ``abd|rahman`` — and keeps apart the names they keep apart (Omar ``omar``, Amr
    ``amr``). A lexicon name is keyed by its identity, any other name by its consonant
    skeleton after ``~``.

    Without ``query``: every key a stored name part carries (one per unit; a glued Latin
    article read both with and without), once each. With ``query``: the keys a search for
    ``text`` must all find, one per name unit in the order typed; a word holding a digit or
    a third script's letters is its own key (it finds no name), punctuation gives none. Keys
    are at most :data:`SEARCH_KEY_MAX` characters.
    Empty text gives ``()``.
    """
    if not text:
        return ()
    return query_search_keys(text) if query else stored_search_keys(text)


def score_pair(
    a: NameRecord | Prepared,
    b: NameRecord | Prepared,
    frequencies: NameFrequencies | None = None,
    model: Model | None = None,
) -> Match:
    """Score whether two records are one person: calibrated probability plus explanation.

    ``frequencies`` should come from the population being matched
    (:meth:`NameFrequencies.from_records`); without it a small built-in prior is used, which
    knows only that names like Mohammed and Ahmed are common. ``model`` is a learned scorer
    (:class:`Model`); without it the model shipped with the package is used, or the
    rule-based scorer if that cannot be read.
    """
    pa = a if isinstance(a, Prepared) else prepare(a)
    pb = b if isinstance(b, Prepared) else prepare(b)
    return Scorer(frequencies, model=model or DEFAULT_MODEL).score(pa, pb)
