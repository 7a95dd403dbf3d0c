"""Nationality to an ISO 3166-1 alpha-2 code, from a code, a country name or an adjective.

Registration forms, watch lists and imported files write a nationality as ``SY``, ``SYR``,
``Syria``, ``Syrian``, ``syrienne``, ``سوريا``, ``سوري`` or ``السورية``; they must compare
equal. Countries of the region and of the people who cross it are known; anything else is
kept as its normalised text, so two identical unknown spellings still agree.
"""

from __future__ import annotations

from functools import lru_cache

from ._text import detect_script, normalize_arabic, normalize_latin

# code: Latin spellings (codes, names, adjectives; English and French) | Arabic forms.
_TABLE = """
SY: sy syr syria syrian syrie syrien syrienne syrian_arab_republic | سوريا سوريه سوري سورية
IQ: iq irq iraq iraqi irak irakien irakienne | العراق عراق عراقي
LB: lb lbn lebanon lebanese liban libanais libanaise | لبنان لبناني
JO: jo jor jordan jordanian jordanie jordanien jordanienne | الاردن اردن اردني
PS: ps pse palestine palestinian palestinien palestinienne state_of_palestine | فلسطين فلسطيني
EG: eg egy egypt egyptian egypte egyptien egyptienne | مصر مصري
TR: tr tur turkey turkish turkiye turquie turc turque | تركيا تركي
IR: ir irn iran iranian iranien iranienne | ايران ايراني
SA: sa sau saudi_arabia saudi saudi_arabian arabie_saoudite saoudien saoudienne | السعوديه سعودي
YE: ye yem yemen yemeni yemenite | اليمن يمن يمني
LY: ly lby libya libyan libye libyen libyenne | ليبيا ليبي
SD: sd sdn sudan sudanese soudan soudanais | السودان سودان سوداني
KW: kw kwt kuwait kuwaiti koweit | الكويت كويت كويتي
AF: af afg afghanistan afghan afghane | افغانستان افغاني
SO: so som somalia somali somalie | الصومال صومالي
ER: er eri eritrea eritrean erythree | ارتريا اريتريا ارتري اريتري
DZ: dz dza algeria algerian algerie algerien algerienne | الجزائر جزائري
MA: ma mar morocco moroccan maroc marocain marocaine | المغرب مغربي
TN: tn tun tunisia tunisian tunisie tunisien tunisienne | تونس تونسي
AE: ae are uae emirati emirates united_arab_emirates | الامارات اماراتي
PK: pk pak pakistan pakistani | باكستان باكستاني
"""


def _load() -> tuple[dict[str, str], dict[str, str]]:
    latin: dict[str, str] = {}
    arabic: dict[str, str] = {}
    for line in _TABLE.strip().splitlines():
        code, rest = line.split(":", 1)
        la, ar = rest.split("|")
        # A multi-word name is written with "_" and matched with its spaces removed.
        for word in la.split():
            latin.setdefault(word.replace("_", ""), code)
        for word in ar.split():
            arabic.setdefault(normalize_arabic(word), code)
    return latin, arabic


_LATIN, _ARABIC = _load()


def _arabic_code(norm: str) -> str:
    candidates = [norm, norm.replace(" ", "")]
    for token in norm.split():
        candidates.append(token)
    out: list[str] = []
    for c in candidates:
        out.append(c)
        if c.startswith("ال") and len(c) > 4:
            out.append(c[2:])
        # Adjectives: سوري, سورية/سوريه (feminine), سوريون/سوريين (plural).
        for suffix in ("يون", "يين", "يه", "ه"):
            if c.endswith(suffix) and len(c) > len(suffix) + 2:
                out.append(c[: -len(suffix)] + ("ي" if suffix != "ه" else ""))
    for c in out:
        for form in (c, c[2:] if c.startswith("ال") else c):
            code = _ARABIC.get(form)
            if code:
                return code
    return ""


@lru_cache(maxsize=10_000)
def nationality_code(text: str) -> str:
    """ISO alpha-2 code of a nationality written as a code, a country or an adjective.

    ``nationality_code("Syrian") == nationality_code("SYR") == nationality_code("سوري")
    == "SY"``. Unknown text gives its normalised form in upper case (``"Atlantis"`` →
    ``"ATLANTIS"``), empty text ``""``.
    """
    if not text or not text.strip():
        return ""
    script = detect_script(text)
    if script == "arabic":
        norm = normalize_arabic(text)
        return _arabic_code(norm) or norm
    norm = normalize_latin(text)
    if not norm:
        return text.strip().upper()
    code = _LATIN.get(norm) or _LATIN.get(norm.replace(" ", ""))
    if code:
        return code
    for token in norm.split():
        code = _LATIN.get(token)
        if code and len(token) > 3:
            return code
    if script == "mixed":
        code = _arabic_code(normalize_arabic(text))
        if code:
            return code
    return norm.upper().replace(" ", "")
