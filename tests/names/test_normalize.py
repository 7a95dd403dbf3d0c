from mawa.names import (
    detect_script,
    latin_key,
    normalize_arabic,
    normalize_digits,
    normalize_latin,
)


def test_hamza_alef_forms_fold_to_bare_alef():
    assert normalize_arabic("أحمد") == normalize_arabic("احمد") == "احمد"
    assert normalize_arabic("إبراهيم") == "ابراهيم"
    assert normalize_arabic("آدم") == "ادم"


def test_ta_marbuta_alef_maqsura_and_hamza_on_carriers():
    assert normalize_arabic("أسامة") == normalize_arabic("اسامه")
    assert normalize_arabic("يحيى") == normalize_arabic("يحيي")
    assert normalize_arabic("فؤاد") == "فواد"
    assert normalize_arabic("عائشة") == "عايشه"


def test_tashkeel_and_tatweel_are_removed():
    assert normalize_arabic("مُحَمَّد") == "محمد"
    assert normalize_arabic("محـــمد") == "محمد"


def test_persian_letters_fold_to_arabic():
    assert normalize_arabic("کریم") == normalize_arabic("كريم")


def test_arabic_indic_and_persian_digits_become_ascii():
    assert normalize_digits("١٩٩٠-٠٣-٠٥") == "1990-03-05"
    assert normalize_digits("۱۹۸۵") == "1985"


def test_latin_normalisation_drops_diacritics_apostrophes_and_hyphens():
    assert normalize_latin("Al-Ḥusayn") == "al husayn"
    assert normalize_latin("Ma'moun") == "mamoun"
    assert normalize_latin("ʿAbd al-Rahman") == "abd al rahman"


def test_script_detection_reports_third_scripts():
    assert detect_script("محمد") == "arabic"
    assert detect_script("Mohammed") == "latin"
    assert detect_script("Иван") == "other"
    assert detect_script("") == "empty"
    assert detect_script("Mohammed محمد") == "mixed"


def test_cross_script_key_is_shared_by_spellings_of_mohammed():
    keys = {latin_key(x) for x in ("محمد", "Mohammed", "Muhammad", "Mohamad", "Mhd", "Mohamed")}
    assert len(keys) == 1
