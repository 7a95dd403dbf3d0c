"""Reading record CSV and FollowTheMoney files, reporting bad rows (public via ``mawa.names``)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from ._record import InvalidDate, NameRecord, parse_birth_date

#: The header of the record CSV contract, in order (extra columns are allowed on input).
CSV_COLUMNS = (
    "record_id",
    "site",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
    "sex",
    "birth_date",
    "birth_place",
    "nationality",
    "military_id",
    "national_id",
)


class UnusableInput(Exception):
    """The file cannot be processed at all (missing header columns, not a CSV, empty)."""


@dataclass
class Report:
    """Bad rows and warnings found while reading, each with its line number."""

    source: str
    bad: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    read: int = 0

    def bad_row(self, line: int, message: str) -> None:
        """Record a row that was skipped."""
        self.bad.append((line, message))

    def warn(self, line: int, message: str) -> None:
        """Record a problem in a row that was still processed."""
        self.warnings.append((line, message))

    def write(self, out: IO[str], limit: int = 50) -> None:
        """Write a summary and the first ``limit`` problems of each kind."""
        out.write(
            f"{self.source}: {self.read} rows read, {len(self.bad)} skipped, "
            f"{len(self.warnings)} problems in rows still processed\n"
        )
        for kind, items in (("skipped", self.bad), ("problem", self.warnings)):
            for line, msg in items[:limit]:
                out.write(f"  {self.source}:{line}: {kind}: {msg}\n")
            if len(items) > limit:
                out.write(f"  … and {len(items) - limit} more {kind} rows\n")


def read_records_csv(handle: IO[str], report: Report) -> Iterator[tuple[int, NameRecord]]:
    """Yield records from a CSV with the :data:`CSV_COLUMNS` header; bad rows go to ``report``.

    Raises :class:`UnusableInput` when the header lacks required columns. Extra columns are
    ignored. A row with the wrong number of fields, no ``record_id`` or a repeated
    ``record_id`` is skipped and reported.
    """
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise UnusableInput("the file is empty") from None
    except csv.Error as exc:
        raise UnusableInput(f"not a CSV file: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UnusableInput("missing columns: " + ", ".join(missing))
    pos = {c: header.index(c) for c in CSV_COLUMNS}
    seen: set[str] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.bad_row(reader.line_num, f"unreadable CSV row: {exc}")
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        report.read += 1
        if len(row) != len(header):
            report.bad_row(line, f"expected {len(header)} fields, found {len(row)}")
            continue
        values = {c: row[i].strip() for c, i in pos.items()}
        if "\ufffd" in "".join(row):
            report.warn(line, "bytes that are not UTF-8 were replaced")
        rid = values["record_id"]
        if not rid:
            report.bad_row(line, "empty record_id")
            continue
        if rid in seen:
            report.bad_row(line, f"record_id {rid!r} repeated")
            continue
        seen.add(rid)
        yield (
            line,
            NameRecord(
                record_id=rid,
                site=values["site"],
                given_name=values["given_name"],
                father_name=values["father_name"],
                grandfather_name=values["grandfather_name"],
                family_name=values["family_name"],
                mother_name=values["mother_name"],
                sex=values["sex"],
                birth_date=values["birth_date"],
                birth_place=values["birth_place"],
                nationality=values["nationality"],
                military_id=values["military_id"],
                national_id=values["national_id"],
            ),
        )


_FTM_GENDER = {"male": "M", "female": "F", "m": "M", "f": "F"}


def read_ftm(handle: IO[str], report: Report) -> Iterator[tuple[int, NameRecord]]:
    """Yield Person entities of a FollowTheMoney JSON-lines file as records.

    The structured name parts (``firstName``, ``fatherName``, ``lastName``) make the main
    record when present; otherwise the first ``name`` is read as a full chain. Other names
    and ``alias`` become aliases, ``weakAlias`` weak aliases. Broken JSON, entities without
    ``id`` and schemas other than Person are skipped and reported.
    """
    seen: set[str] = set()
    for line_no, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        report.read += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            report.bad_row(line_no, f"broken JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            report.bad_row(line_no, "not a JSON object")
            continue
        schema = obj.get("schema")
        if schema != "Person":
            report.bad_row(line_no, f"schema {schema!r} is not Person")
            continue
        eid = str(obj.get("id") or "").strip()
        if not eid:
            report.bad_row(line_no, "entity without id")
            continue
        if eid in seen:
            report.bad_row(line_no, f"entity id {eid!r} repeated")
            continue
        props = obj.get("properties") or {}
        if not isinstance(props, dict):
            report.bad_row(line_no, "properties is not an object")
            continue

        def values(name: str, props: dict = props) -> list[str]:  # type: ignore[type-arg]
            v = props.get(name) or []
            if isinstance(v, str):
                v = [v]
            return [str(x).strip() for x in v if str(x).strip()]

        names = values("name")
        first, father, last = values("firstName"), values("fatherName"), values("lastName")
        aliases = names + values("alias")
        given = first[0] if first else ""
        if not (first or last) and names:
            given = names[0]
            aliases = aliases[1:]
        birth = ""
        for d in values("birthDate"):
            try:
                parse_birth_date(d)
                birth = d
                break
            except InvalidDate as exc:
                report.warn(line_no, f"birthDate: {exc}")
        if not (given or last or aliases):
            report.bad_row(line_no, "no name")
            continue
        seen.add(eid)
        gender = values("gender")
        yield (
            line_no,
            NameRecord(
                record_id=eid,
                given_name=given,
                father_name=father[0] if father else "",
                family_name=last[0] if last else "",
                mother_name=(values("motherName") or [""])[0],
                sex=_FTM_GENDER.get(gender[0].lower(), "") if gender else "",
                birth_date=birth,
                birth_place=(values("birthPlace") or [""])[0],
                nationality=(values("nationality") or [""])[0],
                national_id=(values("idNumber") or [""])[0],
                aliases=tuple(aliases),
                weak_aliases=tuple(values("weakAlias")),
            ),
        )
