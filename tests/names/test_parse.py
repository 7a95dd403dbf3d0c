import pytest

from mawa.names import NameRecord, parse_name, prepare


@pytest.mark.parametrize(
    "text",
    [
        "Abdulrahman",
        "Abdel Rahman",
        "Abd al-Rahman",
        "Abderrahmane",
        "Abdul-Rahman",
        "عبد الرحمن",
        "عبدالرحمن",
        "Abd Errahmane",
    ],
)
def test_abd_compounds_in_one_to_three_tokens_are_one_name(text):
    units = parse_name(text)
    assert len(units) == 1
    assert units[0].kind == "abd"
    assert units[0].ids == {"abd|rahman"}


def test_abdullah_and_abdulilah_are_different_names():
    assert parse_name("Abdullah")[0].ids == parse_name("عبد الله")[0].ids == {"abd|allah"}
    assert parse_name("Abdelilah")[0].ids == parse_name("عبد الإله")[0].ids == {"abd|ilah"}


def test_kunya_is_not_abd():
    abu = parse_name("Abu Ahmad")[0]
    assert abu.kind == "abu"
    assert abu.ids == {"abu|ahmad"}
    assert parse_name("ابو احمد")[0].ids == abu.ids
    assert parse_name("Abd Ahmad")[0].kind == "abd"


def test_abu_bakr_is_a_given_name_not_a_kunya():
    assert parse_name("Abu Bakr")[0].kind == "simple"
    assert parse_name("أبو بكر")[0].ids == parse_name("Abubakr")[0].ids


@pytest.mark.parametrize("text", ["Nour el-Din", "Noureddine", "Nur al-Din", "نور الدين"])
def test_al_din_compounds(text):
    units = parse_name(text)
    assert [u.kind for u in units] == ["din"]
    assert units[0].ids == {"din|nur"}


def test_articles_are_stripped_from_family_names():
    keys = {
        parse_name(x, family=True)[0].key
        for x in ("Al-Halabi", "al Halabi", "El-Halabi", "Halabi", "Alhalabi", "الحلبي", "حلبي")
    }
    assert len(keys) == 1


def test_bin_chain_is_split_into_given_father_grandfather_family():
    p = prepare(NameRecord("1", given_name="Mohammed bin Ahmed bin Hasan al-Halabi"))
    assert [u.ids for u in (p.given + p.father + p.grandfather)] == [
        {"muhammad"},
        {"ahmad"},
        {"hasan"},
    ]
    assert p.family[0].key == parse_name("Halabi", family=True)[0].key


def test_three_part_chain_is_given_father_family():
    p = prepare(NameRecord("1", given_name="محمد أحمد الحلبي"))
    assert p.given[0].ids == {"muhammad"} and p.father[0].ids == {"ahmad"}
    assert not p.grandfather
    assert p.family


def test_kunya_in_a_given_field_moves_out_of_the_chain():
    p = prepare(NameRecord("1", given_name="Khaled Abu Omar", family_name="Halabi"))
    assert p.kunya[0].ids == {"abu|omar"}
    assert [u.ids for u in p.given] == [{"khalid"}]


def test_abu_in_the_family_field_is_a_family_name():
    p = prepare(NameRecord("1", given_name="Samir", family_name="Abu Risha"))
    assert not p.kunya
    assert p.family[0].kind == "abu"


def test_third_script_name_is_reported_not_matched():
    p = prepare(NameRecord("1", given_name="Иван", family_name="Halabi"))
    assert not p.given
    assert any("script" in problem for problem in p.problems)
