"""The bridge between the register and ``mawa.names``: records in, scores out.

Nothing here checks permissions or writes; ``services`` and ``selectors`` do, and call these
helpers. Everything about names themselves (normalisation, keys, weights) is the library's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from mawa.names import Match, NameFrequencies, NameRecord, Prepared, Scorer, prepare

# An alias that is only a kunya (Abu X) is weak evidence: never above even odds. Same cap as
# ``mawa.names.NameIndex`` applies when it screens.
WEAK_ALIAS_CAP = 0.5

_RECORD_FIELDS = [f.name for f in dataclasses.fields(NameRecord)]


def _pick(ar: str, lat: str) -> str:
    # One value per part: the Arabic as typed when there is one (the engine compares across
    # scripts), otherwise the Latin.
    return (ar or "").strip() or (lat or "").strip()


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _birth(person) -> str:
    if person.birth_year is None:
        return ""
    if getattr(person, "birth_precision", "") == "estimated":
        return f"{person.birth_year:04d}"
    return person.birth_display


_SEX = {"male": "M", "female": "F"}


def person_record(person, *, national_id: str = "", aliases: Iterable[tuple[str, str]] = ()
                  ) -> NameRecord:
    """The person as the engine reads them: one value per name part, the other script's
    full chain and the aliases as aliases, the kunya as a weak alias."""
    latin_chain = _join(person.given_lat, person.father_lat, person.grandfather_lat,
                        person.family_lat)
    alias_names = [latin_chain] if latin_chain and person.given_ar else []
    for a_ar, a_lat in aliases:
        alias_names += [a for a in (a_ar, a_lat) if a]
    return NameRecord(
        record_id=str(person.pk),
        site=getattr(person.site, "code", ""),
        given_name=_pick(person.given_ar, person.given_lat),
        father_name=_pick(person.father_ar, person.father_lat),
        grandfather_name=_pick(person.grandfather_ar, person.grandfather_lat),
        family_name=_pick(person.family_ar, person.family_lat),
        mother_name=_join(_pick(person.mother_given_ar, person.mother_given_lat),
                          _pick(person.mother_family_ar, person.mother_family_lat)),
        sex=_SEX.get(person.sex, ""),
        birth_date=_birth(person),
        birth_place=person.place_of_birth,
        nationality=person.nationality,
        military_id=person.service_number,
        national_id=national_id,
        aliases=tuple(alias_names),
        weak_aliases=tuple(k for k in (person.kunya_ar, person.kunya_lat) if k),
    )


def typed_record(data: dict) -> NameRecord:
    """What the officer has typed so far in the registration form, as a record."""

    def v(name: str) -> str:
        return str(data.get(name) or "").strip()

    latin_chain = _join(v("given_lat"), v("father_lat"), v("grandfather_lat"), v("family_lat"))
    return NameRecord(
        record_id="typed",
        given_name=_pick(v("given_ar"), v("given_lat")),
        father_name=_pick(v("father_ar"), v("father_lat")),
        grandfather_name=_pick(v("grandfather_ar"), v("grandfather_lat")),
        family_name=_pick(v("family_ar"), v("family_lat")),
        mother_name=_join(_pick(v("mother_given_ar"), v("mother_given_lat")),
                          _pick(v("mother_family_ar"), v("mother_family_lat"))),
        sex=_SEX.get(v("sex"), ""),
        birth_date=v("birth") if v("birth")[:4].isdigit() else "",
        birth_place=v("place_of_birth"),
        nationality=v("nationality"),
        military_id=v("service_number"),
        aliases=(latin_chain,) if latin_chain and v("given_ar") else (),
        weak_aliases=tuple(k for k in (v("kunya_ar"), v("kunya_lat")) if k),
    )


def record_to_json(record: NameRecord) -> dict:
    out = {k: getattr(record, k) for k in _RECORD_FIELDS}
    out["aliases"], out["weak_aliases"] = list(record.aliases), list(record.weak_aliases)
    return out


def record_from_json(data: dict) -> NameRecord:
    values = {k: data.get(k, "") for k in _RECORD_FIELDS}
    values["aliases"] = tuple(data.get("aliases") or ())
    values["weak_aliases"] = tuple(data.get("weak_aliases") or ())
    return NameRecord(**values)


def name_counts(p: Prepared) -> list[list[str]]:
    """The [pool, key] pairs this record adds to the name frequencies, JSON-ready: the pairs
    of ``NameFrequencies.counts_of``, so frequencies from the database equal the library's."""
    return [[pool, key] for pool, key in NameFrequencies.counts_of(p)]


def frequencies(counts: dict[tuple[str, str], int]) -> NameFrequencies:
    """A ``NameFrequencies`` from counts loaded from ``NameCount`` (totals under key "")."""
    return NameFrequencies.from_counts(
        {(pool, key): n for (pool, key), n in counts.items() if key},
        totals={pool: counts.get((pool, ""), 0) for pool in NameFrequencies.POOLS})


def score(scorer: Scorer, query: Prepared, target: Prepared) -> tuple[float, Match]:
    """Best score of ``query`` against ``target``'s main name and each of its aliases."""
    best = scorer.score(query, target)
    best_p = best.probability
    for alias in target.aliases:
        m = scorer.score(query, alias)
        p = min(m.probability, WEAK_ALIAS_CAP) if alias.weak else m.probability
        if p > best_p:
            best, best_p = m, p
    return best_p, best


def reasons_json(match: Match) -> list[dict]:
    """Reasons, strongest first, JSON-ready (weights rounded: they are for display)."""
    return [{"code": r.code, "text": r.text, "weight": round(r.weight, 2)}
            for r in sorted(match.reasons, key=lambda r: -abs(r.weight))]


__all__ = ["WEAK_ALIAS_CAP", "frequencies", "name_counts", "person_record", "prepare",
           "reasons_json", "record_from_json", "record_to_json", "score", "typed_record"]
