import itertools
import uuid

import pytest

from mawa.core.ids import (
    CHECK_ALPHABET,
    check_character,
    short_code_make,
    short_code_normalise,
    uuid7,
)


def test_uuid7_has_version_7_and_rfc_variant():
    u = uuid7()
    assert u.version == 7
    assert u.variant == uuid.RFC_4122


def test_uuid7_sorts_in_creation_order():
    ids = [uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5000


def test_short_code_format():
    code = short_code_make("QAM", 4217)
    assert code.startswith("QAM-04217-")
    assert code[-1] in CHECK_ALPHABET
    assert short_code_normalise(code) == code


def test_short_code_accepts_sloppy_typing_and_arabic_digits():
    code = short_code_make("RHM", 123)
    sloppy = code.lower().replace("-", " ")
    assert short_code_normalise(sloppy) == code
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert short_code_normalise(arabic) == code


@pytest.mark.parametrize("number", [0, 7, 4217, 99999, 123456])
def test_every_single_substitution_is_caught(number):
    code = short_code_make("QAM", number)
    site, digits, _check = code.split("-")
    body = site + digits
    for i, ch in enumerate(body):
        pool = "0123456789" if ch.isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for other in pool:
            if other == ch:
                continue
            typo = body[:i] + other + body[i + 1:]
            assert check_character(typo) != check_character(body), (body, typo)


@pytest.mark.parametrize("number", [1204, 98765, 10293])
def test_every_swap_of_neighbours_is_caught(number):
    code = short_code_make("QAM", number)
    site, digits, _ = code.split("-")
    body = site + digits
    for i, j in itertools.pairwise(range(len(body))):
        if body[i] == body[j] or body[i].isdigit() != body[j].isdigit():
            continue
        swapped = body[:i] + body[j] + body[i] + body[j + 1:]
        assert check_character(swapped) != check_character(body)


def test_wrong_check_character_is_rejected():
    code = short_code_make("QAM", 4217)
    wrong = next(c for c in CHECK_ALPHABET if c != code[-1])
    assert short_code_normalise(code[:-1] + wrong) is None
