"""Protected statistics: no released table, alone or differenced with the previous release,
reveals a cell under the threshold (protection.md R18).

The attacker here is written independently of ``disclosure.protect``: they hold the released
table and the previous one, know that published values are rounded to 5 (so the truth is
within ±2) and that counts are never negative, and bound every withheld cell from every line
(row, column and margins), and every change of a cell published twice.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from mawa.reports.disclosure import (
    ROUNDING,
    THRESHOLD,
    TOTAL,
    ReleasedTable,
    protect,
    round_to,
)

SLACK = ROUNDING // 2  # a published value is within ±2 of the truth


def lines(table: ReleasedTable):
    for r in table.rows:
        yield (r, TOTAL), [(r, c) for c in table.columns]
    for c in table.columns:
        yield (TOTAL, c), [(r, c) for r in table.rows]
    yield (TOTAL, TOTAL), [(TOTAL, c) for c in table.columns]
    yield (TOTAL, TOTAL), [(r, TOTAL) for r in table.rows]


def attacker_upper_bounds(table: ReleasedTable) -> dict:
    """The best upper bound on each withheld cell from any single line with a published
    total: total + 2 − Σ (published member − 2), the other withheld members being ≥ 0."""
    bounds = {cell: float("inf") for cell, v in table.cells.items() if v is None}
    for total, members in lines(table):
        t = table.cells[total]
        if t is None:
            continue
        known = sum(max(table.cells[m] - SLACK, 0) for m in members
                    if table.cells[m] is not None)
        for m in members:
            if table.cells[m] is None:
                bounds[m] = min(bounds[m], t + SLACK - known)
    return bounds


def reveals_small(lo: float, hi: float) -> bool:
    """An interval that holds only values from 1 to threshold − 1, or from −(threshold − 1)
    to −1, tells of a group of fewer than ``threshold`` people."""
    return (lo >= 1 and hi < THRESHOLD) or (hi <= -1 and lo > -THRESHOLD)


ROWS = ["NUR", "SAL", "AMN"]
COLS = ["m_adults", "f_adults", "m_children", "f_children", "unknown"]

counts_strategy = st.fixed_dictionaries({
    (r, c): st.one_of(st.integers(0, 12), st.integers(0, 400))
    for r in ROWS for c in COLS})


def true_table(counts):
    true = dict(counts)
    for r in ROWS:
        true[(r, TOTAL)] = sum(counts[(r, c)] for c in COLS)
    for c in COLS:
        true[(TOTAL, c)] = sum(counts[(r, c)] for r in ROWS)
    true[(TOTAL, TOTAL)] = sum(counts.values())
    return true


def check_alone(table: ReleasedTable, true: dict) -> None:
    for cell, value in table.cells.items():
        if value is not None:
            assert true[cell] >= THRESHOLD, (cell, true[cell])
            assert value % ROUNDING == 0 and abs(value - true[cell]) <= SLACK
    for cell, hi in attacker_upper_bounds(table).items():
        assert hi >= THRESHOLD, f"withheld {cell} (true {true[cell]}) bounded by {hi}"


@settings(max_examples=300, deadline=None)
@given(counts=counts_strategy)
def test_no_released_table_reveals_a_small_cell(counts):
    table = protect(counts, ROWS, COLS)
    check_alone(table, true_table(counts))


@settings(max_examples=300, deadline=None)
@given(before=counts_strategy,
       change=st.fixed_dictionaries({(r, c): st.integers(-12, 12) for r in ROWS for c in COLS}))
def test_two_releases_cannot_be_differenced_to_a_small_cell(before, change):
    after = {k: max(0, v + change[k]) for k, v in before.items()}
    first = protect(before, ROWS, COLS)
    second = protect(after, ROWS, COLS, previous=first)
    check_alone(second, true_table(after))
    for cell, new in second.cells.items():
        old = first.cells.get(cell)
        if new is None or old is None:
            continue
        # the attacker's interval for the true change of this cell
        lo, hi = new - old - 2 * SLACK, new - old + 2 * SLACK
        assert not reveals_small(lo, hi), (cell, old, new)


def test_rounding_is_half_up_to_five():
    assert [round_to(n) for n in (10, 12, 13, 17, 18)] == [10, 10, 15, 15, 20]


def test_a_lone_small_cell_takes_a_neighbour_with_it():
    counts = {("NUR", "m_adults"): 120, ("NUR", "f_adults"): 3, ("SAL", "m_adults"): 80,
              ("SAL", "f_adults"): 40}
    table = protect(counts, ["NUR", "SAL"], ["m_adults", "f_adults"])
    assert table.value("NUR", "f_adults") is None
    # the NUR row total is published, so a second NUR cell must be withheld, and the
    # f_adults column total is published, so SAL f_adults goes too
    assert table.value("NUR", "m_adults") is None
    assert table.value("SAL", "f_adults") is None
    assert table.value(TOTAL, TOTAL) == 245


def test_released_table_round_trips_through_json():
    table = protect({("NUR", "m_adults"): 50}, ["NUR"], ["m_adults"])
    assert ReleasedTable.from_json(table.as_json()) == table
