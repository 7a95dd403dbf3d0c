"""Statistical disclosure control for tables published outside Mawa (protection.md R18).

Pure Python, no Django: a table of true counts goes in, a releasable table comes out.

The published table has interior cells (row × column), a total per row, a total per column
and a grand total. The rules (OCHA note on statistical disclosure control; UNHCR practice):

1. *Primary suppression*: every cell under ``threshold`` (10) is withheld — interior cells and
   totals alike, zero included.
2. *Differencing*: a cell published in the previous release and again now whose rounded value
   moved by exactly one rounding step (5) would show a change of 1–9 people; it is withheld.
3. *Secondary suppression*: in every line (a row with its total, a column with its total, the
   row of column totals with the grand total, the column of row totals with the grand total)
   whose total is published, the withheld cells must be at least two and together hold at least
   ``threshold`` people, so that "total minus the published cells" never pins down a small
   cell. Until that holds, the smallest published interior cell of the line is withheld too.
4. *Rounding*: what is published is rounded to the nearest 5 (half up), so a published value
   is within ±2 of the truth and differences of releases are blurred as well.

The attacker model the tests check (``tests/reports/test_disclosure.py``, Hypothesis): someone
holding this release and the previous one, knowing the rounding rule, who bounds each withheld
cell from each line and each change between releases; no bound may show a cell, or a change,
of 1–9 people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 10
ROUNDING = 5
TOTAL = "total"


def round_to(value: int, base: int = ROUNDING) -> int:
    """Round half up to a multiple of ``base`` (12 → 10, 13 → 15): at most ``base // 2`` off."""
    return ((value + base // 2) // base) * base


@dataclass
class ReleasedTable:
    """A table ready to publish. ``cells`` maps ``(row, column)`` to the rounded value or
    ``None`` when withheld; totals are ``(row, TOTAL)``, ``(TOTAL, column)`` and
    ``(TOTAL, TOTAL)``."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int | None] = field(default_factory=dict)

    def value(self, row: str, column: str) -> int | None:
        return self.cells.get((row, column))

    def as_json(self) -> dict:
        return {"rows": self.rows, "columns": self.columns,
                "cells": [[r, c, v] for (r, c), v in sorted(self.cells.items())]}

    @classmethod
    def from_json(cls, data: dict) -> ReleasedTable:
        return cls(rows=list(data["rows"]), columns=list(data["columns"]),
                   cells={(r, c): v for r, c, v in data["cells"]})


def _lines(rows: list[str], columns: list[str]) -> list[tuple[tuple[str, str], list]]:
    """Each line as (its total cell, its member cells)."""
    lines = []
    for r in rows:
        lines.append(((r, TOTAL), [(r, c) for c in columns]))
    for c in columns:
        lines.append(((TOTAL, c), [(r, c) for r in rows]))
    lines.append(((TOTAL, TOTAL), [(TOTAL, c) for c in columns]))
    lines.append(((TOTAL, TOTAL), [(r, TOTAL) for r in rows]))
    return lines


def protect(counts: dict[tuple[str, str], int], rows: list[str], columns: list[str], *,
            previous: ReleasedTable | None = None, threshold: int = THRESHOLD,
            rounding: int = ROUNDING) -> ReleasedTable:
    """Turn true interior counts into a releasable table (the four rules above)."""
    true: dict[tuple[str, str], int] = {}
    for r in rows:
        for c in columns:
            true[(r, c)] = int(counts.get((r, c), 0))
        true[(r, TOTAL)] = sum(true[(r, c)] for c in columns)
    for c in columns:
        true[(TOTAL, c)] = sum(true[(r, c)] for r in rows)
    true[(TOTAL, TOTAL)] = sum(true[(r, TOTAL)] for r in rows)

    withheld = {cell for cell, n in true.items() if n < threshold}
    if previous is not None:
        for cell, n in true.items():
            before = previous.cells.get(cell)
            if cell in withheld or before is None:
                continue
            if abs(round_to(n, rounding) - before) == rounding:
                withheld.add(cell)

    lines = _lines(rows, columns)
    changed = True
    while changed:
        changed = False
        for total, members in lines:
            if total in withheld:
                continue
            hidden = [m for m in members if m in withheld]
            if not hidden:
                continue
            if len(hidden) >= 2 and sum(true[m] for m in hidden) >= threshold:
                continue
            candidates = sorted((m for m in members if m not in withheld),
                                key=lambda m: (true[m], m))
            if candidates:
                withheld.add(candidates[0])
            else:  # every member withheld and still too few: withhold the total as well
                withheld.add(total)
            changed = True

    cells = {cell: (None if cell in withheld else round_to(n, rounding))
             for cell, n in true.items()}
    return ReleasedTable(rows=list(rows), columns=list(columns), cells=cells)
