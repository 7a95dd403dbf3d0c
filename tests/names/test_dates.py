import pytest

from mawa.names import InvalidDate, parse_birth_date
from mawa.names._compare import dob_level


@pytest.mark.parametrize(
    ("text", "precision"),
    [("1990", "year"), ("1990-03", "month"), ("1990-03-05", "day"), ("١٩٩٠-٠٣-٠٥", "day")],
)
def test_contract_date_formats_parse_with_their_precision(text, precision):
    d = parse_birth_date(text)
    assert d is not None and d.precision == precision and d.year == 1990


@pytest.mark.parametrize("text", ["00/00/1990", "1990-13-45", "1990-02-30", "1990-00-00", "abc"])
def test_placeholders_and_impossible_dates_are_rejected(text):
    with pytest.raises(InvalidDate):
        parse_birth_date(text)


def test_empty_date_is_none():
    assert parse_birth_date("  ") is None


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("1990-03-05", "1990-03-05", "exact"),
        ("1990-03-05", "1990-05-03", "swap"),
        ("1990-03-05", "1990-01-01", "jan1"),
        ("1990-03-05", "1990", "year"),
        ("1990-03-05", "1991-03-05", "year1"),
        ("1990", "1993", "year3"),
        ("1990", "1960", "far"),
        ("1990-03-05", "1990-03-20", "month"),
    ],
)
def test_date_levels_know_typical_errors(a, b, level):
    assert dob_level(parse_birth_date(a), parse_birth_date(b)) == level
