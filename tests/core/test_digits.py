from mawa.core.digits import to_ascii_digits


def test_arabic_indic_and_persian_digits_become_ascii():
    assert to_ascii_digits("١٩٩٠-٠٣-١٥") == "1990-03-15"
    assert to_ascii_digits("۱۳۷۹") == "1379"
    assert to_ascii_digits("٣٫٥") == "3.5"


def test_letters_are_untouched():
    assert to_ascii_digits("محمد 12") == "محمد 12"
