"""Script-level normalisation: Arabic letters, Latin letters, digits, script detection.

Everything here is a pure function of one string, cached where names repeat, because the
same few thousand names make up millions of records.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Arabic-Indic (U+0660..0669) and Persian/Urdu (U+06F0..06F9) digits are typed in dates and
# document numbers; they must compare equal to ASCII digits.
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

# Letter folding for Arabic script. Hamza carriers and alef forms collapse to bare alef/waw/
# yaa because typists choose them inconsistently; ة→ه and ى→ي for the same reason. Persian
# and Kurdish letters map to the nearest Arabic letter (ک→ك, ی→ي, گ→ك, پ→ب, چ→ج, ژ→ز, ڤ→ف).
_ARABIC_FOLD = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ؤ": "و",
    "ئ": "ي",
    "ى": "ي",
    "ی": "ي",
    "ې": "ي",
    "ێ": "ي",
    "ے": "ي",
    "ة": "ه",
    "ۀ": "ه",
    "ہ": "ه",
    "ھ": "ه",
    "ە": "ه",
    "ک": "ك",
    "گ": "ك",
    "ڭ": "ك",
    "پ": "ب",
    "چ": "ج",
    "ژ": "ز",
    "ڤ": "ف",
    "ڨ": "ق",
    "ۆ": "و",
    "ۇ": "و",
    "ۈ": "و",
    "ۋ": "و",
    "ڕ": "ر",
    "ڵ": "ل",
}
_ARABIC_TABLE = str.maketrans(_ARABIC_FOLD)
# Tashkeel (harakat, shadda, sukun, tanwin), Quranic marks, superscript alef and tatweel carry
# no identity: they are optional in writing.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_NON_ARABIC_LETTER = re.compile(r"[^\u0621-\u064a\s]")
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[\-‐‑‒–—_.,;:/\\()\[\]{}\"“”«»!?*+&|،؛؟]")
_APOSTROPHES = re.compile(r"['`´ʿʾʻʼ‘’ʹ′]")


def normalize_digits(text: str) -> str:
    """Return ``text`` with Arabic-Indic and Persian digits replaced by ASCII digits.

    Dates and service numbers are typed on Arabic keyboards as often as on Latin ones; both
    spellings of ``١٩٩٠`` must be the same year.
    """
    return text.translate(_DIGITS)


@lru_cache(maxsize=1_000_000)
def normalize_arabic(text: str) -> str:
    """Normalise Arabic-script text so that spelling choices that do not change a name vanish.

    Applies NFKC (presentation forms to base letters), removes tashkeel and tatweel, folds
    hamza/alef forms to ا, ة to ه, ى/ئ to ي, ؤ to و, Persian and Kurdish letters to their
    Arabic neighbours, turns punctuation into spaces and collapses whitespace. Non-Arabic
    characters are dropped. ``normalize_arabic("أُسامة")`` and ``normalize_arabic("اسامه")``
    are both ``"اسامه"``.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _ARABIC_MARKS.sub("", text)
    text = text.translate(_ARABIC_TABLE)
    text = _PUNCT.sub(" ", text)
    text = _NON_ARABIC_LETTER.sub("", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1_000_000)
def normalize_latin(text: str) -> str:
    """Normalise Latin-script text: lower case, diacritics removed, apostrophes dropped.

    Hyphens and punctuation become spaces (``al-Halabi`` → ``al halabi``); the ʿayn and hamza
    signs (ʿ ʾ ' ’) are dropped because most spellings omit them. Characters that are not
    basic Latin letters after this are removed.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("ß", "ss").replace("ø", "o").replace("ı", "i")
    text = text.replace("æ", "ae").replace("œ", "oe").replace("ð", "d").replace("þ", "th")
    text = _APOSTROPHES.sub("", text)
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"[^a-z\s]", "", text)
    return _SPACES.sub(" ", text).strip()


def _char_script(ch: str) -> str:
    code = ord(ch)
    if 0x02B0 <= code <= 0x02FF:
        # Modifier letters: ʿayn and hamza signs of BGN/PCGN and scholarly romanisation
        # (ʿ ʾ ʻ ʼ), primes. They are apostrophes, not letters of another script.
        return ""
    if (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    ):
        return "arabic"
    if ch.isalpha():
        if code < 0x0250 or 0x1E00 <= code <= 0x1EFF:
            return "latin"
        return "other"
    return ""


@lru_cache(maxsize=1_000_000)
def detect_script(text: str) -> str:
    """Classify a name as ``"arabic"``, ``"latin"``, ``"mixed"``, ``"other"`` or ``"empty"``.

    ``"other"`` means letters of a third script (Cyrillic, Hebrew, CJK, …) that the engine
    cannot compare; callers report such rows instead of silently matching nothing. Digits,
    spaces and punctuation are ignored. Arabic-script letters from Persian and Kurdish count
    as Arabic.
    """
    seen = {s for s in (_char_script(c) for c in text) if s}
    if not seen:
        return "empty"
    if "other" in seen:
        return "other"
    if seen == {"arabic"}:
        return "arabic"
    if seen == {"latin"}:
        return "latin"
    return "mixed"
