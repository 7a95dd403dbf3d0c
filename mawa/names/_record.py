"""Records as given (``NameRecord``) and as prepared for comparison (``Prepared``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._nationality import nationality_code
from ._text import detect_script, normalize_digits
from ._units import Unit, place_key, split_units

NAME_FIELDS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_name")


@dataclass(frozen=True, slots=True)
class NameRecord:
    """One registration or watch-list entry, fields as typed, any name in Arabic or Latin.

    Every field is optional (empty string). ``birth_date`` is ``YYYY``, ``YYYY-MM`` or
    ``YYYY-MM-DD`` (Arabic-Indic digits accepted). ``aliases`` are other full names of the
    same person (FollowTheMoney ``alias``); ``weak_aliases`` are nicknames and kunyas, which
    count as weak evidence only.
    """

    record_id: str
    given_name: str = ""
    father_name: str = ""
    grandfather_name: str = ""
    family_name: str = ""
    mother_name: str = ""
    sex: str = ""
    birth_date: str = ""
    birth_place: str = ""
    nationality: str = ""
    military_id: str = ""
    national_id: str = ""
    site: str = ""
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth with its precision: year only, year-month, or full date."""

    year: int
    month: int = 0
    day: int = 0

    @property
    def precision(self) -> str:
        """``"year"``, ``"month"`` or ``"day"``."""
        return "day" if self.day else "month" if self.month else "year"


class InvalidDate(ValueError):
    """A birth date that is not YYYY, YYYY-MM or YYYY-MM-DD, or not a real date."""


_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_birth_date(text: str) -> BirthDate | None:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; ``None`` for empty; raise InvalidDate.

    Unknown parts must be omitted, not zeroed: ``1990-00-00`` and ``00/00/1990`` are
    rejected so that a placeholder is never read as a real date.
    """
    text = normalize_digits(text).strip()
    if not text:
        return None
    m = _DATE.match(text)
    if not m:
        raise InvalidDate(f"not YYYY, YYYY-MM or YYYY-MM-DD: {text!r}")
    year = int(m.group(1))
    month = int(m.group(2) or 0)
    day = int(m.group(3) or 0)
    if not 1850 <= year <= 2100:
        raise InvalidDate(f"year out of range: {text!r}")
    if m.group(2) is not None and not 1 <= month <= 12:
        raise InvalidDate(f"no such month: {text!r}")
    if m.group(3) is not None and not 1 <= day <= _DAYS[month - 1]:
        raise InvalidDate(f"no such day: {text!r}")
    return BirthDate(year, month, day)


@dataclass(slots=True)
class Prepared:
    """A record reduced to what comparison needs; built once per record by :func:`prepare`."""

    record_id: str
    given: tuple[Unit, ...]
    father: tuple[Unit, ...]
    grandfather: tuple[Unit, ...]
    family: tuple[Unit, ...]
    mother: tuple[Unit, ...]
    kunya: tuple[Unit, ...]
    sex: str
    dob: BirthDate | None
    place: str
    nationality: str
    military_id: str
    national_id: str
    aliases: tuple[Prepared, ...] = ()
    weak: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def has_name(self) -> bool:
        """True if any name slot is filled."""
        return bool(self.given or self.father or self.family or self.grandfather or self.kunya)


def _ident(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", normalize_digits(text)).upper()


def _sex(text: str) -> str:
    t = text.strip().upper()
    if t in ("M", "MALE", "ذكر", "H"):
        return "M"
    if t in ("F", "FEMALE", "أنثى", "انثى", "W"):
        return "F"
    return ""


def _field_units(text: str, family: bool, name: str, problems: list[str]) -> tuple[Unit, ...]:
    if not text.strip():
        return ()
    script = detect_script(text)
    if script == "other":
        problems.append(f"{name}: letters of a script other than Arabic or Latin: {text!r}")
        return ()
    return split_units(text, family)


def prepare(record: NameRecord) -> Prepared:
    """Parse a record's fields into name units, a birth date, and normalised identifiers.

    Problems that do not stop matching (a bad date, a third-script name) are collected in
    ``Prepared.problems`` rather than raised, so one bad field never loses a whole record.
    A whole chain typed into ``given_name`` with the other name fields empty is split into
    given–father–grandfather–family; kunyas (Abu X) are moved to their own slot because a
    kunya is a nickname, not part of the chain.
    """
    problems: list[str] = []
    given = _field_units(record.given_name, False, "given_name", problems)
    father = _field_units(record.father_name, False, "father_name", problems)
    grand = _field_units(record.grandfather_name, False, "grandfather_name", problems)
    family = _field_units(record.family_name, True, "family_name", problems)
    mother = _field_units(record.mother_name, False, "mother_name", problems)
    # Abu X in a given or father field is a kunya (a nickname); in the family field it is
    # usually a family name (Abu Risha, Abu Ghazaleh) and stays there.
    kunya = tuple(u for u in given + father if u.kind == "abu")
    if kunya:
        given = tuple(u for u in given if u.kind != "abu")
        father = tuple(u for u in father if u.kind != "abu")
    if len(given) >= 2 and not (father or grand or family):
        chain = record.given_name
        given, father, grand, family = split_chain(_chain_units(chain), chain)
    try:
        dob = parse_birth_date(record.birth_date)
    except InvalidDate as exc:
        problems.append(f"birth_date: {exc}")
        dob = None
    prepared = Prepared(
        record_id=record.record_id,
        given=given,
        father=father,
        grandfather=grand,
        family=family,
        mother=mother,
        kunya=kunya,
        sex=_sex(record.sex),
        dob=dob,
        place=place_key(record.birth_place) if record.birth_place.strip() else "",
        nationality=nationality_code(record.nationality),
        military_id=_ident(record.military_id),
        national_id=_ident(record.national_id),
        problems=problems,
    )
    aliases = []
    for alias, weak in [(a, False) for a in record.aliases] + [
        (a, True) for a in record.weak_aliases
    ]:
        alias_units = _field_units(alias, False, "alias", problems)
        if not alias_units:
            continue
        ak: tuple[Unit, ...]
        rest: tuple[Unit, ...]
        if len(alias_units) == 1 and alias_units[0].kind == "abu":
            ak, rest = alias_units, ()
        else:
            ak, rest = (), _chain_units(alias)
        g, f, gf, fam = split_chain(rest, alias) if rest else ((), (), (), ())
        aliases.append(
            Prepared(
                record_id=record.record_id,
                given=g,
                father=f,
                grandfather=gf,
                family=fam,
                mother=(),
                kunya=ak,
                sex=prepared.sex,
                dob=dob,
                place=prepared.place,
                nationality=prepared.nationality,
                military_id=prepared.military_id,
                national_id=prepared.national_id,
                weak=weak or (bool(ak) and not rest),
            )
        )
    prepared.aliases = tuple(aliases)
    return prepared


def _chain_units(text: str) -> tuple[Unit, ...]:
    """Units of a full-name chain; the last one is parsed as a family name."""
    units = split_units(text, False)
    if len(units) >= 2:
        last = split_units(units[-1].text, True)
        if len(last) == 1:
            units = units[:-1] + last
    return units


def split_chain(
    units: tuple[Unit, ...], text: str = ""
) -> tuple[tuple[Unit, ...], tuple[Unit, ...], tuple[Unit, ...], tuple[Unit, ...]]:
    """Split a full-name chain into (given, father, grandfather, family).

    Two units are read as given + family (how a name is usually written on a list); three as
    given–father–family; four or more as given–father–grandfather–family, with any further
    middle names dropped (great-grandfathers do not help to tell people apart).
    """
    n = len(units)
    if n == 0:
        return (), (), (), ()
    if n == 1:
        return units, (), (), ()
    if n == 2:
        return units[:1], (), (), units[1:]
    if n == 3:
        return units[:1], units[1:2], (), units[2:]
    return units[:1], units[1:2], units[2:3], units[-1:]
