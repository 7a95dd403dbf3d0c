"""Blocking keys: which records are worth comparing at all.

Each key combines two or three parts that rarely all go wrong at once, so a true pair shares
at least one key even with a typo in one name, a missing grandfather, a year off by one or
given and family names swapped. Name parts enter by their canonical skeleton, which is the
same for محمد, Mohammed and Mhd; keys are plain strings so the Django side can store them
in an indexed table.
"""

from __future__ import annotations

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
