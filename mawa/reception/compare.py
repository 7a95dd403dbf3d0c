"""The registration page's duplicate panel: what was typed and a registered record, part by
part, each part marked same, close or different (``mawa.names.names_match``, which compares
across scripts: محمد and Mohamad are the same name, خليل and بلال are not). Presentation only:
which records are suggested is decided by the matching app (``selectors.person_match_candidates``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mawa.names import names_match

# The parts a reception officer compares at the queue, in the order they are spoken.
COMPARED_PARTS = ("given", "father", "grandfather", "family", "mother_given", "mother_family")

SAME, CLOSE, DIFFERS, MISSING = "same", "close", "differs", ""


@dataclass(frozen=True)
class PartRow:
    part: str
    typed_ar: str
    typed_lat: str
    record_ar: str
    record_lat: str
    state: str  # same | close | differs | "" (one side empty)


def _level(typed: list[str], record: list[str]) -> str:
    """The best agreement between any typed spelling and any recorded spelling."""
    if not typed or not record:
        return MISSING
    levels = {names_match(a, b) for a in typed for b in record}
    if levels & {"exact", "variant"}:
        return SAME
    if "typo" in levels:
        return CLOSE
    return DIFFERS


def compare_parts(typed: Mapping[str, str], person) -> list[PartRow]:
    """One row per name part either side has, typed against ``person``'s stored parts."""
    rows = []
    for part in COMPARED_PARTS:
        t_ar, t_lat = (typed.get(f"{part}_ar") or "").strip(), (typed.get(f"{part}_lat")
                                                               or "").strip()
        r_ar = getattr(person, f"{part}_ar", "") or ""
        r_lat = getattr(person, f"{part}_lat", "") or ""
        if not (t_ar or t_lat or r_ar or r_lat):
            continue
        rows.append(PartRow(part, t_ar, t_lat, r_ar, r_lat,
                            _level([v for v in (t_ar, t_lat) if v],
                                   [v for v in (r_ar, r_lat) if v])))
    return rows
