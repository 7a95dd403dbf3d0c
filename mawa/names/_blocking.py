"""Blocking keys: which records are worth comparing at all.

Each key combines two or three parts that rarely all go wrong at once, so a true pair shares
at least one key even with a typo in one name, a missing grandfather, a year off by one or
given and family names swapped. Name parts enter by their canonical skeleton, which is the
same for محمد, Mohammed and Mhd; keys are plain strings so the Django side can store them
in an indexed table.
"""

from __future__ import annotations

import re

from ._record import Prepared

# Blocking keys use coarse letter classes: Latin spellings disagree on these letters (ذ as
# th/dh/z/d, ث as th/s, ج as j/g, ق as q/g/k), and a key combines two or three names, so the
# coarser letters cost little precision in blocking. Scoring still sees the exact letters.
_COARSE = str.maketrans({"t": "d", "z": "d", "s": "d", "j": "k", "G": "k"})


def _k(slot: tuple) -> str:  # type: ignore[type-arg]
    return slot[0].key.translate(_COARSE) if slot else ""


def prepared_keys(p: Prepared, mode: str = "index") -> set[str]:
    """Blocking keys of a prepared record (see :func:`mawa.names.name_keys`).

    ``mode="index"`` adds looser keys (given+father, father+family) for an index that is
    queried one record at a time and ranks candidates by shared keys, where a watch-list
    entry without grandfather or date must still be found despite a typo in one name.
    ``mode="dedupe"`` leaves them out: over a whole population they make huge blocks.
    """
    keys: set[str] = set()
    g, f, gf, fam, mo = _k(p.given), _k(p.father), _k(p.grandfather), _k(p.family), _k(p.mother)
    year = str(p.dob.year) if p.dob else ""
    gfam = "|".join(sorted((g, fam))) if g and fam else ""
    if gfam and f:
        keys.add(f"A|{gfam}|{f}")
    if gfam and year:
        keys.add(f"B|{gfam}|{year}")
    if g and f and year:
        keys.add(f"C|{g}|{f}|{year}")
    if f and gf and fam:
        keys.add(f"D|{f}|{gf}|{fam}")
    if g and mo and year:
        keys.add(f"E|{g}|{mo}|{year}")
    if g and f and gf:
        keys.add(f"F|{g}|{f}|{gf}")
    if gfam:
        keys.add(f"G|{gfam}")
    if mode == "index":
        if g and f:
            keys.add(f"H|{g}|{f}")
        if f and fam:
            keys.add(f"I|{f}|{fam}")
    if p.national_id:
        keys.add(f"N|{p.national_id}")
    if p.military_id:
        keys.add(f"S|{p.military_id}")
    for alias in p.aliases:
        if not alias.weak:
            keys |= prepared_keys(alias, mode)
    return keys


# Phonetic classes for the extra dedupe keys: coarser still than _COARSE, so that a French
# and an English clerk (Chadi/Shadi → C/C, Djamal/Jamal, Moustafa/Mustafa), an OCR slip
# on a dot (ح/خ/ج, س/ش) or a lost h (Ahmed/Amed) give one key.
_PHONETIC = str.maketrans(
    {
        "t": "d",
        "z": "d",
        "s": "d",
        "C": "d",
        "j": "k",
        "G": "k",
        "X": "k",
        "q": "k",
        "h": None,
        "w": None,
        "y": None,
        "p": "b",
        "v": "f",
        "n": "m",
    }
)


def phonetic_key(slot: tuple) -> str:  # type: ignore[type-arg]
    """Phonetic key of a name slot's first unit: its canonical skeleton in coarse classes."""
    if not slot:
        return ""
    unit = slot[0]
    prefix, _, skel = unit.key.rpartition("|")
    return (prefix + "|" if prefix else "") + re.sub(r"(.)\1+", r"\1", skel.translate(_PHONETIC))


def _year_buckets(year: int) -> tuple[str, str]:
    # Two overlapping two-year buckets: years one apart always share one of them.
    return f"{year // 2}e", f"{(year + 1) // 2}o"


def _id_variants(ident: str) -> set[str]:
    """The number with each character deleted in turn: one wrong or two swapped digits of
    two spellings of a number leave one deletion in common."""
    if len(ident) < 5:
        return {ident}
    return {ident[:i] + ident[i + 1 :] for i in range(len(ident))}


def dedupe_keys(p: Prepared) -> set[str]:
    """Blocking keys for bulk de-duplication: :func:`prepared_keys` plus tolerant keys.

    The extra keys survive what the base keys do not, each through at least one key: a
    typo or an OCR slip in one name part (keys of two other parts plus date), romanisation
    habits (phonetic classes), a year off by one (overlapping two-year buckets), day and
    month swapped (the day/month pair is sorted), a missing father or grandfather (keys
    without them), and a wrong or swapped digit in a service or document number (deletion
    variants). Only dedupe uses them: the keys the Django side stores are unchanged.
    """
    keys = prepared_keys(p, "dedupe")
    g, f, gf, fam, mo = (
        phonetic_key(p.given),
        phonetic_key(p.father),
        phonetic_key(p.grandfather),
        phonetic_key(p.family),
        phonetic_key(p.mother),
    )
    if g and f and fam:
        keys.add(f"a|{g}|{f}|{fam}")
    if p.dob:
        buckets = _year_buckets(p.dob.year)
        for yb in buckets:
            if g and fam:
                keys.add(f"b|{g}|{fam}|{yb}")
            if g and f:
                keys.add(f"c|{g}|{f}|{yb}")
            if f and fam:
                keys.add(f"d|{f}|{fam}|{yb}")
            if g and gf:
                keys.add(f"e|{g}|{gf}|{yb}")
            if g and mo:
                keys.add(f"m|{g}|{mo}|{yb}")
        if p.dob.day:
            dm = "-".join(sorted((f"{p.dob.month:02d}", f"{p.dob.day:02d}")))
            for yb in buckets:
                for part in (g, f, fam):
                    if part:
                        keys.add(f"y|{part}|{dm}|{yb}")
    if f and gf and fam:
        keys.add(f"f|{f}|{gf}|{fam}")
    if g and gf and fam:
        keys.add(f"h|{g}|{gf}|{fam}")
    for ident, tag in ((p.national_id, "n"), (p.military_id, "s")):
        if ident:
            keys.update(f"{tag}|{v}" for v in _id_variants(ident))
    return keys
