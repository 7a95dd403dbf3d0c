"""Digits as people type them: Arabic-Indic (٠١٢…) and Persian (۰۱۲…) become ASCII."""

_TABLE = {}
for _i in range(10):
    _TABLE[0x0660 + _i] = 48 + _i  # ARABIC-INDIC DIGIT
    _TABLE[0x06F0 + _i] = 48 + _i  # EXTENDED ARABIC-INDIC (Persian, Urdu) DIGIT
_TABLE[0x066B] = ord(".")  # ARABIC DECIMAL SEPARATOR
_TABLE[0x066C] = ord(",")  # ARABIC THOUSANDS SEPARATOR


def to_ascii_digits(text: str) -> str:
    """Replace Arabic-Indic and Persian digits (and the Arabic decimal mark) by ASCII ones."""
    if not text:
        return text
    return text.translate(_TABLE)
