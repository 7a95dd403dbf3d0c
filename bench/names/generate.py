"""Seeded generator of Syrian and Iraqi people rendered as records across sites.

Each person (an *entity*) is rendered as 1–4 records at different sites, each in Arabic or
Latin script, with labelled perturbations. Families are generated on purpose so that the
data holds the hard negatives that break naive matching: brothers (same father, grandfather,
family and mother), fathers and sons (chains shifted by a generation), Omar/Amr-type
look-alikes inside one family, and very common names.

Name spellings come from the ``arabic-name-romanizer`` package data (attested Arabic→Latin
spellings with counts, CC0/MIT) when it is installed, and otherwise from a small built-in
table (enough for the unit tests). Nothing is downloaded at run time.

    python bench/names/generate.py --people 5000 --seed 1 --out /tmp/names-data

writes ``records.csv`` (the CLI input contract), ``truth.csv`` (record → entity, script,
perturbations, family relations), ``watchlist.jsonl`` (FollowTheMoney) and
``watch_truth.csv``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script from any directory: the record columns are the library's CSV contract.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mawa.names import CSV_COLUMNS  # noqa: E402

COUNTRIES = ("SY", "IQ", "LB", "JO", "PS")
SITES = ("crossing-north", "crossing-east", "camp-a", "camp-b", "hospital")

FEMALE = (  # noqa: SIM905 - rows of names read better as text
    "فاطمه خديجه زينب مريم امينه ليلي هدي رنا رانيا هاله حنان ايمان سميره سلمي سعاد ناديه "
    "نجوي وفاء غاده لينا ديما رشا ريم ساره هبه اسماء زهراء سهي منال مني نوال امل سوسن "
    "بسمه بشري رقيه سميه خوله هاجر حليمه جميله كريمه نسرين عائشه صفيه"
).split()

PLACES = {
    "حلب": ["Aleppo", "Halab"],
    "دمشق": ["Damascus", "Dimashq"],
    "حمص": ["Homs"],
    "حماه": ["Hama", "Hamah"],
    "ادلب": ["Idlib", "Idleb"],
    "الرقه": ["Raqqa", "Al-Raqqah"],
    "دير الزور": ["Deir ez-Zor", "Deir Ezzor"],
    "اللاذقيه": ["Latakia", "Lattakia"],
    "درعا": ["Daraa", "Deraa"],
    "بغداد": ["Baghdad"],
    "الموصل": ["Mosul"],
    "البصره": ["Basra", "Basrah"],
    "كركوك": ["Kirkuk"],
    "الفلوجه": ["Fallujah", "Falluja"],
    "تكريت": ["Tikrit"],
    "الرمادي": ["Ramadi", "Al-Ramadi"],
}

NATIONALITY_TEXT = {
    "SY": ["SY", "SYR", "Syrian", "Syria", "syrienne", "Syrien", "سوري", "سورية", "سوريا"],
    "IQ": ["IQ", "IRQ", "Iraqi", "Iraq", "irakien", "Irak", "عراقي", "عراقية", "العراق"],
}


@dataclass(frozen=True)
class Config:
    """Mix and error rates of one generated population.

    ``A`` is the configuration the engine is tuned and trained on (on its tuning seeds only);
    ``B`` is a second configuration never tuned on: more Latin, more French-influenced
    spellings, more OCR noise and missing names, other date errors, more namesakes.
    ``plain`` is the generator as it was before issue 19 (no OCR, no scholarly
    romanisation, no French habit, no namesakes), kept to compare with earlier figures.
    """

    arabic_share: float = 0.45
    french_habit: float = 0.25  # share of sites whose clerks spell the French way
    scholarly: float = 0.06  # ʿAlī al-Tamīmī: ʿ/ʾ signs and macrons
    ocr: float = 0.06  # records read from a scanned form
    typo: float = 0.12
    drop_grandfather: float = 0.3
    drop_father: float = 0.05
    nationality_text: float = 0.5  # nationality written as a name or adjective, not a code
    dob_jan1: float = 0.08
    dob_swap: float = 0.05
    dob_year_off: float = 0.07
    dob_year_only: float = 0.12
    no_dob: float = 0.05
    sex_slip: float = 0.01  # sex recorded wrongly
    namesakes: float = 0.06  # share of people who get an unrelated namesake
    namesake_same_place: float = 0.3  # of namesakes: same birth place (harder)


CONFIGS = {
    "A": Config(),
    "B": Config(
        arabic_share=0.3,
        french_habit=0.5,
        scholarly=0.1,
        ocr=0.12,
        typo=0.18,
        drop_grandfather=0.45,
        drop_father=0.1,
        nationality_text=0.8,
        dob_jan1=0.12,
        dob_swap=0.08,
        dob_year_off=0.12,
        dob_year_only=0.08,
        no_dob=0.08,
        sex_slip=0.02,
        namesakes=0.1,
        namesake_same_place=0.5,
    ),
    "plain": Config(
        french_habit=0.0,
        scholarly=0.0,
        ocr=0.0,
        drop_father=0.0,
        nationality_text=0.0,
        sex_slip=0.0,
        namesakes=0.0,
    ),
}

# Built-in fallback: (Arabic, [(Latin spelling, weight)]). Deliberately small and not the
# engine's lexicon; used only when arabic-name-romanizer is not installed (unit tests).
_BUILTIN_GIVEN = """
محمد Mohammed:40 Muhammad:30 Mohamed:20 Mohamad:10 Mohammad:15
احمد Ahmed:40 Ahmad:35
علي Ali:50
عمر Omar:40 Umar:5
عمرو Amr:10 Amro:3
حسن Hassan:30 Hasan:10
حسين Hussein:30 Hussain:10 Hocine:2
خالد Khaled:30 Khalid:20
يوسف Youssef:20 Yusuf:10 Yousef:10
ابراهيم Ibrahim:30 Ebrahim:3
محمود Mahmoud:30 Mahmood:5
عبد الرحمن Abdulrahman:20 Abdel Rahman:10 Abd al-Rahman:5 Abderrahmane:5
عبد الله Abdullah:30 Abdallah:10
قاسم Qasim:10 Kassem:8 Qassem:5
شادي Shadi:10 Chadi:3
سامر Samer:10
سمير Samir:10
وسام Wissam:8 Wisam:4
فراس Firas:6 Feras:4
ماهر Maher:6
بشار Bashar:8
غسان Ghassan:6
زياد Ziad:8 Ziyad:3
رامي Rami:8 Ramy:2
طارق Tarek:8 Tariq:6
"""
_BUILTIN_FEMALE = """
فاطمه Fatima:30 Fatma:10
خديجه Khadija:10
زينب Zainab:10 Zeinab:5
مريم Maryam:10 Mariam:8
ليلي Layla:8 Leila:6
هدي Huda:6 Houda:3
"""
_BUILTIN_FAMILY = """
الحلبي Al-Halabi:10 Halabi:8 Alhalabi:3
الحمصي Al-Homsi:8 Homsi:6
الحموي Al-Hamawi:6 Hamawi:5
الجبوري Al-Jubouri:10 Jubouri:6 Al-Juburi:3
الدليمي Al-Dulaimi:8 Dulaimi:5
العبيدي Al-Obaidi:8 Obaidi:4
الخطيب Al-Khatib:8 Khatib:6
النجار Al-Najjar:6 Najjar:6
الحداد Haddad:8 Al-Haddad:4
الشامي Al-Shami:6 Shami:4
التميمي Al-Tamimi:8 Tamimi:4
الزعبي Al-Zoubi:6 Zoubi:4 Al-Zu'bi:2
"""


@dataclass
class NameTable:
    """Arabic names with attested Latin spellings and a frequency weight."""

    arabic: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    spellings: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)

    def add(self, arabic: str, spellings: list[tuple[str, float]]) -> None:
        if not spellings or arabic in self.spellings:
            return
        self.arabic.append(arabic)
        self.weights.append(sum(w for _, w in spellings))
        self.spellings[arabic] = ([s for s, _ in spellings], [w for _, w in spellings])


def _parse_builtin(text: str) -> NameTable:
    table = NameTable()
    for line in text.strip().splitlines():
        parts = line.split()
        arabic_words = [p for p in parts if ":" not in p and not p.isascii()]
        rest = line[len(" ".join(arabic_words)) :].strip()
        # Spellings may contain spaces ("Abdel Rahman:10"): split on ":<digits>".
        spellings = []
        for m in re.finditer(r"([^:]+?):(\d+)\s*", rest):
            spellings.append((m.group(1).strip(), float(m.group(2))))
        table.add(" ".join(arabic_words), spellings)
    return table


def _anr_db() -> Path | None:
    try:
        import importlib.resources as resources

        root = resources.files("arabic_name_romanizer") / "resources" / "names.sqlite3"
        path = Path(str(root))
        return path if path.exists() else None
    except ModuleNotFoundError:
        return None


def load_tables(
    db: Path | None = None, builtin: bool = False
) -> tuple[NameTable, NameTable, NameTable, str]:
    """Return (male given, female given, family) tables and the source's name.

    ``builtin`` forces the small built-in table (unit tests must not depend on whether
    arabic-name-romanizer happens to be installed).
    """
    db = None if builtin else (db or _anr_db())
    if db is None:
        return (
            _parse_builtin(_BUILTIN_GIVEN),
            _parse_builtin(_BUILTIN_FEMALE),
            _parse_builtin(_BUILTIN_FAMILY),
            "builtin",
        )
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    marks = ",".join("?" * len(COUNTRIES))
    rows = con.execute(
        f"SELECT arabic_key, latin, role, SUM(count) FROM units "  # noqa: S608 - constants
        f"WHERE country IN ({marks}) AND role IN ('given', 'surname') "
        "GROUP BY arabic_key, latin, role",
        COUNTRIES,
    ).fetchall()
    by_key: dict[tuple[str, str], list[tuple[str, float]]] = {}

    latin_ok = re.compile(r"^[A-Za-z][A-Za-z'\- ]*[A-Za-z]$")
    arabic_ok = re.compile(r"^[\u0621-\u064a ]+$")
    for arabic, latin, role, count in rows:
        if not arabic_ok.match(arabic) or not latin_ok.match(latin):
            continue
        by_key.setdefault((arabic, role), []).append((latin, float(count)))
    male, female, family = NameTable(), NameTable(), NameTable()
    female_set = set(FEMALE)
    for (arabic, role), spellings in sorted(by_key.items()):
        merged: dict[str, float] = {}
        for latin, count in spellings:
            # Case variants of one spelling are one spelling.
            key = latin[0].upper() + latin[1:]
            merged[key] = merged.get(key, 0) + count
        total = sum(merged.values())
        kept = [(s, c) for s, c in merged.items() if c >= 2 and c / total >= 0.03]
        if total < 3 or not kept:
            continue
        if role == "surname":
            family.add(arabic, kept)
        elif arabic in female_set:
            female.add(arabic, kept)
        else:
            male.add(arabic, kept)
    return male, female, family, f"arabic-name-romanizer ({db.name})"


# --- People ---------------------------------------------------------------------------


@dataclass
class Person:
    entity_id: str
    given: str
    father: str
    grandfather: str
    family: str
    mother: str  # "given family" of the mother
    sex: str
    dob: tuple[int, int, int]
    place: str
    nationality: str
    military_id: str
    national_id: str
    family_id: str
    relation: str = ""  # "brother", "son_of:<entity>", "lookalike_of:<entity>"


class Generator:
    """Makes people and renders them; every random choice comes from one seeded RNG."""

    def __init__(
        self, seed: int, db: Path | None = None, builtin: bool = False, config: str = "A"
    ) -> None:
        self.rng = random.Random(seed)
        self.cfg = CONFIGS[config]
        self.male, self.female, self.family, self.source = load_tables(db, builtin)
        self.n = 0
        self._cum: dict[tuple[int, float], list[float]] = {}

    def _pick(self, table: NameTable, skew: float = 1.0) -> str:
        key = (id(table), skew)
        cum = self._cum.get(key)
        if cum is None:
            cum = list(itertools.accumulate(w**skew for w in table.weights))
            self._cum[key] = cum
        return self.rng.choices(table.arabic, cum_weights=cum)[0]

    def _id(self) -> str:
        self.n += 1
        return f"E{self.n:07d}"

    def _dob(self, lo: int = 1965, hi: int = 2005) -> tuple[int, int, int]:
        return (self.rng.randint(lo, hi), self.rng.randint(1, 12), self.rng.randint(1, 28))

    def _ids(self) -> tuple[str, str]:
        mil = f"{self.rng.randint(100000, 999999)}" if self.rng.random() < 0.5 else ""
        nat = f"{self.rng.randint(10**9, 10**10 - 1)}" if self.rng.random() < 0.35 else ""
        return mil, nat

    def families(self, people: int) -> list[Person]:
        """Generate about ``people`` persons grouped in families with hard negatives."""
        out: list[Person] = []
        fam_no = 0
        while len(out) < people:
            fam_no += 1
            family_id = f"F{fam_no:07d}"
            family = self._pick(self.family, 0.7)
            father = self._pick(self.male, 0.8)
            grandfather = self._pick(self.male, 0.8)
            great = self._pick(self.male, 0.8)
            mother = f"{self._pick(self.female)} {self._pick(self.family, 0.7)}"
            place = self.rng.choice(list(PLACES))
            nat = "SY" if self.rng.random() < 0.6 else "IQ"
            r = self.rng.random()
            n_sons = 1 if r < 0.55 else 2 if r < 0.85 else 3
            base_year = self.rng.randint(1966, 2000)
            used: set[str] = set()
            sons = []
            for k in range(n_sons):
                given = self._pick(self.male, 0.8)
                tries = 0
                while given in used and tries < 20:
                    given = self._pick(self.male, 0.8)
                    tries += 1
                used.add(given)
                mil, nat_id = self._ids()
                y = min(base_year + k * self.rng.randint(1, 4), 2006)
                sons.append(
                    Person(
                        self._id(),
                        given,
                        father,
                        grandfather,
                        family,
                        mother,
                        "M",
                        (y, self.rng.randint(1, 12), self.rng.randint(1, 28)),
                        place,
                        nat,
                        mil,
                        nat_id,
                        family_id,
                        "brother" if n_sons > 1 else "",
                    )
                )
            # Omar/Amr look-alike brother: same family, given names differ by one letter.
            if (
                self.rng.random() < 0.04
                and "عمر" in self.male.spellings
                and "عمرو" in self.male.spellings
            ):
                a, b = sons[0], None
                a.given = "عمر"
                mil, nat_id = self._ids()
                b = Person(
                    self._id(),
                    "عمرو",
                    father,
                    grandfather,
                    family,
                    mother,
                    "M",
                    self._dob(a.dob[0] - 3, a.dob[0] + 3),
                    place,
                    nat,
                    mil,
                    nat_id,
                    family_id,
                    f"lookalike_of:{a.entity_id}",
                )
                sons.append(b)
            out.extend(sons)
            # Namesakes: two unrelated men with a very common given, father's and family
            # name (skewed toward the commonest names); they differ in birth place (not
            # always), date, mother and service number — or in nothing the records hold.
            if self.rng.random() < self.cfg.namesakes:
                out.extend(self._namesakes())
            # The father himself, sometimes also crossing: chain shifted by a generation.
            if self.rng.random() < 0.12:
                mil, nat_id = self._ids()
                older = min(s.dob[0] for s in sons) - self.rng.randint(20, 32)
                out.append(
                    Person(
                        self._id(),
                        father,
                        grandfather,
                        great,
                        family,
                        f"{self._pick(self.female)} {self._pick(self.family, 0.7)}",
                        "M",
                        (older, self.rng.randint(1, 12), self.rng.randint(1, 28)),
                        place,
                        nat,
                        mil,
                        nat_id,
                        family_id,
                        f"father_of:{sons[0].entity_id}",
                    )
                )
            # A few women (medical staff, family members separated at the crossing).
            if self.rng.random() < 0.03:
                mil, nat_id = self._ids()
                out.append(
                    Person(
                        self._id(),
                        self._pick(self.female),
                        father,
                        grandfather,
                        family,
                        mother,
                        "F",
                        self._dob(),
                        place,
                        nat,
                        "",
                        nat_id,
                        family_id,
                        "sister",
                    )
                )
        return out[:people]

    def _namesakes(self) -> list[Person]:
        given = self._pick(self.male, 1.6)
        father = self._pick(self.male, 1.6)
        family = self._pick(self.family, 1.3)
        place = self.rng.choice(list(PLACES))
        year = self.rng.randint(1966, 2000)
        nat = "SY" if self.rng.random() < 0.6 else "IQ"
        out: list[Person] = []
        for k in range(2):
            mil, nat_id = self._ids()
            same_place = k == 0 or self.rng.random() < self.cfg.namesake_same_place
            out.append(
                Person(
                    self._id(),
                    given,
                    father,
                    self._pick(self.male, 0.8),
                    family,
                    f"{self._pick(self.female)} {self._pick(self.family, 0.7)}",
                    "M",
                    (
                        year + (k and self.rng.randint(-4, 4)),
                        self.rng.randint(1, 12),
                        self.rng.randint(1, 28),
                    ),
                    place if same_place else self.rng.choice(list(PLACES)),
                    nat,
                    mil,
                    nat_id,
                    f"N{self.n:07d}",
                    f"namesake_of:{out[0].entity_id}" if out else "",
                )
            )
        return out

    # --- rendering ----------------------------------------------------------------------

    def latin(self, arabic: str, table: NameTable) -> str:
        spellings, weights = (
            table.spellings.get(arabic)
            or self.male.spellings.get(arabic)
            or self.female.spellings.get(arabic)
            or self.family.spellings[arabic]
        )
        return self.rng.choices(spellings, weights=weights)[0]

    def _table_for(self, arabic: str, family: bool) -> NameTable:
        if family and arabic in self.family.spellings:
            return self.family
        if arabic in self.male.spellings:
            return self.male
        if arabic in self.female.spellings:
            return self.female
        return self.family

    def arabic_variant(self, text: str, labels: set[str]) -> str:
        """Spell Arabic as people type it: ة for final ه, hamza on alef, ى, tashkeel."""
        rng = self.rng
        out = text
        if out.endswith("ه") and out != "الله" and rng.random() < 0.6:
            out = out[:-1] + "ة"
        if out.startswith("ا") and rng.random() < 0.5 and not out.startswith("ال"):
            out = rng.choice(("أ", "إ")) + out[1:]
        if out.endswith("ي") and rng.random() < 0.15:
            out = out[:-1] + "ى"
            labels.add("arabic_variant")
        if rng.random() < 0.04:
            out = out[0] + "\u064e" + out[1:]  # a fatha
            labels.add("arabic_variant")
        if rng.random() < 0.02 and len(out) > 2:
            out = out[:2] + "\u0640" + out[2:]  # tatweel
            labels.add("arabic_variant")
        if rng.random() < 0.03:
            out = out.replace("ي", "ی").replace("ك", "ک")  # Persian keyboard
            labels.add("arabic_variant")
        return out

    def typo(self, text: str, script: str) -> str:
        rng = self.rng
        if len(text) < 4:
            return text
        i = rng.randint(1, len(text) - 2)
        op = rng.random()
        if script == "ar":
            similar = {
                "ب": "ت",
                "ت": "ث",
                "ن": "ت",
                "ح": "خ",
                "د": "ذ",
                "ر": "ز",
                "س": "ش",
                "ص": "ض",
                "ع": "غ",
                "ف": "ق",
            }
            if op < 0.4 and text[i] in similar:
                return text[:i] + similar[text[i]] + text[i + 1 :]
            if op < 0.7:
                return text[:i] + text[i + 1 :]
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        letters = "abdehiklmnorstuy"
        if op < 0.35:
            return text[:i] + rng.choice(letters) + text[i + 1 :]
        if op < 0.6:
            return text[:i] + text[i + 1 :]
        if op < 0.8:
            return text[:i] + text[i] + text[i:]
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def french(self, latin: str) -> str:
        """Respell an (English-style) Latin spelling the way French-trained clerks write it.

        sh → ch, u/oo → ou, initial j → dj, q → k, al- → el-, Abdul → Abdel, ee → i,
        initial w → ou, a single s between vowels → ss, final -ah → -a.
        """
        t = latin
        t = re.sub(r"(?i)^al-", lambda m: "El-" if m.group(0)[0] == "A" else "el-", t)
        t = t.replace("Abdul", "Abdel").replace("Abd al-", "Abd el-")
        t = t.replace("sh", "ch").replace("Sh", "Ch").replace("oo", "ou").replace("ee", "i")
        t = re.sub(r"(?<![oO])u", "ou", t)
        t = re.sub(r"\bJ", "Dj", t).replace("q", "k").replace("Q", "K")
        t = re.sub(r"\bW(?=[aeiou])", "Ou", t)
        t = re.sub(r"(?<=[aeiou])s(?=[aeiou])", "ss", t)
        t = re.sub(r"ah\b", "a", t)
        return t

    def scholarly(self, latin: str, arabic: str) -> str:
        """BGN/PCGN or scholarly spelling: ʿ for ع, ʾ for hamza, ḥ for ح, macrons."""
        rng = self.rng
        t = latin
        if arabic.startswith("ع") and t[:1] in "AaEeOoUuIi":
            t = "ʿ" + t
        elif arabic[:1] in "أإ" and rng.random() < 0.5:
            t = "ʾ" + t
        elif "ع" in arabic[1:]:
            t = re.sub(r"(?<=[a-z])'(?=[a-z])", "ʿ", t, count=1)
            if "ʿ" not in t and "aa" in t:
                t = t.replace("aa", "aʿa", 1)
        if "ح" in arabic:
            t = re.sub(r"(?<![sckgtdzSCKGTDZ])h(?!h)", "ḥ", t, count=1)
        if "ي" in arabic[1:]:
            t = re.sub(r"ee|i(?=[a-z]+$)", "ī", t, count=1)
        if "و" in arabic[1:]:
            t = re.sub(r"oo|ou|u(?=[a-z]+$)", "ū", t, count=1)
        return t

    def ocr(self, text: str, script: str) -> str:
        """A misread letter of a scanned form (dots lost or added, rn/m, l/1, e/c)."""
        rng = self.rng
        if len(text) < 3:
            return text
        if script == "ar":
            groups = ("بتثني", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق")
            spots = [i for i, c in enumerate(text) if any(c in g for g in groups)]
            if not spots:
                return text
            i = rng.choice(spots)
            group = next(g for g in groups if text[i] in g)
            return text[:i] + rng.choice([c for c in group if c != text[i]]) + text[i + 1 :]
        pairs = (
            ("m", "rn"),
            ("rn", "m"),
            ("l", "1"),
            ("i", "l"),
            ("e", "c"),
            ("o", "0"),
            ("h", "b"),
            ("d", "cl"),
            ("u", "ii"),
            ("a", "o"),
        )
        options = [(a, b) for a, b in pairs if a in text[1:]]
        if not options:
            return text
        a, b = rng.choice(options)
        i = text.index(a, 1)
        return text[:i] + b + text[i + len(a) :]

    def id_typo(self, ident: str) -> str:
        """A service or document number with one digit wrong or two digits swapped."""
        if len(ident) < 4:
            return ident
        i = self.rng.randint(0, len(ident) - 2)
        if self.rng.random() < 0.5:
            return ident[:i] + ident[i + 1] + ident[i] + ident[i + 2 :]
        return ident[:i] + str((int(ident[i]) + self.rng.randint(1, 9)) % 10) + ident[i + 1 :]

    def render(self, p: Person, site: str, rid: str) -> tuple[dict[str, str], str, set[str]]:
        """Render one record of ``p``; return (row, script, perturbation labels)."""
        rng = self.rng
        cfg = self.cfg
        labels: set[str] = set()
        script = "ar" if rng.random() < cfg.arabic_share else "la"
        french = script == "la" and rng.random() < cfg.french_habit
        scholarly = script == "la" and not french and rng.random() < cfg.scholarly
        if french:
            labels.add("habit_fr")
        if scholarly:
            labels.add("scholarly")

        def name(arabic: str, family: bool = False) -> str:
            if not arabic:
                return ""
            parts = arabic.split(" ") if not family else [arabic]
            if script == "ar":
                return " ".join(self.arabic_variant(x, labels) for x in parts)
            latin = self.latin(arabic, self._table_for(arabic, family))
            if arabic == "محمد" and rng.random() < 0.08:
                latin = rng.choice(("Mhd", "Mohd", "M."))
                labels.add("abbreviation")
            elif french:
                latin = self.french(latin)
            elif scholarly:
                latin = self.scholarly(latin, arabic)
            return latin

        given, father, grand = name(p.given), name(p.father), name(p.grandfather)
        family = name(p.family, family=True)
        mother_given, _, mother_family = p.mother.partition(" ")
        mother = " ".join(x for x in (name(mother_given), name(mother_family, True)) if x)
        if rng.random() < cfg.drop_grandfather:
            grand = ""
            labels.add("dropped_grandfather")
        if rng.random() < cfg.drop_father:
            father = ""
            labels.add("dropped_father")
        if rng.random() < 0.3:
            mother = ""
            labels.add("no_mother")
        if rng.random() < cfg.ocr:
            given, father, family = (
                self.ocr(x, script) if rng.random() < 0.5 else x for x in (given, father, family)
            )
            labels.add("ocr")
        if rng.random() < cfg.typo:
            field_ = rng.choice(("given", "father", "family"))
            if field_ == "given":
                given = self.typo(given, script)
            elif field_ == "father":
                father = self.typo(father, script)
            else:
                family = self.typo(family, script)
            labels.add("typo")
        if rng.random() < 0.05:
            given, family = family, given
            labels.add("swapped_order")
        elif rng.random() < 0.06:
            sep = " بن " if script == "ar" and rng.random() < 0.3 else " "
            if script == "la" and rng.random() < 0.3:
                sep = " bin "
            given = sep.join(x for x in (given, father, grand) if x) + " " + family
            father = grand = family = ""
            labels.add("full_name_in_one_field")
        y, m, d = p.dob
        r = rng.random()
        c1 = cfg.dob_jan1
        c2 = c1 + cfg.dob_swap
        c3 = c2 + cfg.dob_year_off
        c4 = c3 + cfg.dob_year_only
        c5 = c4 + cfg.no_dob
        if r < c1:
            dob = f"{y}-01-01"
            labels.add("dob_jan1")
        elif r < c2 and d <= 12 and d != m:
            dob = f"{y}-{d:02d}-{m:02d}"
            labels.add("dob_swap")
        elif r < c3:
            dob = f"{y + rng.choice((-1, 1))}-{m:02d}-{d:02d}"
            labels.add("dob_year_off")
        elif r < c4:
            dob = f"{y}"
            labels.add("dob_year_only")
        elif r < c5:
            dob = ""
            labels.add("no_dob")
        else:
            dob = f"{y}-{m:02d}-{d:02d}"
        if script == "ar" and rng.random() < 0.15:
            dob = dob.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
            labels.add("arabic_digits")
        place = p.place if script == "ar" else rng.choice(PLACES[p.place])
        if rng.random() < 0.3:
            place = ""
        sex = p.sex if rng.random() < 0.9 else ""
        if sex and rng.random() < cfg.sex_slip:
            sex = "F" if sex == "M" else "M"
            labels.add("sex_slip")
        nationality = p.nationality if rng.random() < 0.7 else ""
        if nationality and rng.random() < cfg.nationality_text:
            nationality = rng.choice(NATIONALITY_TEXT[nationality])
            labels.add("nationality_text")
        military_id = p.military_id if rng.random() < 0.5 else ""
        national_id = p.national_id if rng.random() < 0.5 else ""
        if (military_id or national_id) and rng.random() < cfg.typo / 3:
            military_id, national_id = self.id_typo(military_id), self.id_typo(national_id)
            labels.add("id_typo")
        row = {
            "record_id": rid,
            "site": site,
            "given_name": given,
            "father_name": father,
            "grandfather_name": grand,
            "family_name": family,
            "mother_name": mother,
            "sex": sex,
            "birth_date": dob,
            "birth_place": place,
            "nationality": nationality,
            "military_id": military_id,
            "national_id": national_id,
        }
        return row, script, labels

    def records(self, people: list[Person]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Render every person as 1–4 records; return (rows, truth rows)."""
        rows: list[dict[str, str]] = []
        truth: list[dict[str, str]] = []
        n = 0
        for p in people:
            r = self.rng.random()
            copies = 1 if r < 0.35 else 2 if r < 0.75 else 3 if r < 0.92 else 4
            sites = self.rng.sample(SITES, copies)
            for site in sites:
                n += 1
                rid = f"R{n:07d}"
                row, script, labels = self.render(p, site, rid)
                rows.append(row)
                truth.append(
                    {
                        "record_id": rid,
                        "entity_id": p.entity_id,
                        "family_id": p.family_id,
                        "relation": p.relation,
                        "script": script,
                        "perturbations": ";".join(sorted(labels)),
                        "given_arabic": p.given,
                    }
                )
        order = list(range(len(rows)))
        self.rng.shuffle(order)
        return [rows[i] for i in order], [truth[i] for i in order]

    def ftm(self, p: Person) -> dict[str, object]:
        """A FollowTheMoney Person for ``p``: names in Latin, sometimes Arabic, aliases."""
        rng = self.rng
        given = self.latin(p.given, self._table_for(p.given, False))
        father = self.latin(p.father, self._table_for(p.father, False))
        family = self.latin(p.family, self._table_for(p.family, True))
        props: dict[str, list[str]] = {
            "name": [f"{given} {father} {family}"],
            "firstName": [given],
            "fatherName": [father],
            "lastName": [family],
        }
        if rng.random() < 0.5:
            props["alias"] = [f"{p.given} {p.father} {p.family}"]
        if rng.random() < 0.3:
            props["weakAlias"] = [f"Abu {self.latin(p.father, self._table_for(p.father, False))}"]
        if rng.random() < 0.7:
            y, m, d = p.dob
            props["birthDate"] = [f"{y}-{m:02d}-{d:02d}" if rng.random() < 0.5 else f"{y}"]
        if rng.random() < 0.5:
            props["birthPlace"] = [rng.choice(PLACES[p.place])]
        props["nationality"] = [p.nationality.lower()]
        props["gender"] = ["male" if p.sex == "M" else "female"]
        return {"id": f"W-{p.entity_id}", "schema": "Person", "properties": props}


def write_dataset(
    out: Path,
    people: int,
    seed: int,
    watch_extra: int = 0,
    db: Path | None = None,
    builtin: bool = False,
    config: str = "A",
) -> dict[str, object]:
    """Generate and write records, truth and a watch list; return a summary.

    ``config`` is a key of :data:`CONFIGS`.
    """
    gen = Generator(seed, db, builtin, config)
    persons = gen.families(people)
    rows, truth = gen.records(persons)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "records.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with (out / "truth.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(truth[0]))
        w.writeheader()
        w.writerows(truth)
    # Watch list: 10 % of the people are listed, plus extra listed people who never cross.
    listed = [p for p in persons if gen.rng.random() < 0.10]
    extra = Generator(seed + 7919, db, builtin, config)
    extra.n = 5_000_000
    others = extra.families(watch_extra) if watch_extra else []
    with (out / "watchlist.jsonl").open("w", encoding="utf-8") as f:
        for p in listed + others:
            f.write(json.dumps(gen.ftm(p), ensure_ascii=False) + "\n")
    with (out / "watch_truth.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entity_id", "watch_id"])
        for p in listed:
            w.writerow([p.entity_id, f"W-{p.entity_id}"])
    return {
        "people": len(persons),
        "records": len(rows),
        "listed": len(listed),
        "watchlist": len(listed) + len(others),
        "source": gen.source,
        "config": config,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--watch-extra", type=int, default=0, help="listed people who do not appear in the records"
    )
    parser.add_argument("--names-db", type=Path, default=None)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="A")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    summary = write_dataset(
        args.out, args.people, args.seed, args.watch_extra, args.names_db, config=args.config
    )
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
