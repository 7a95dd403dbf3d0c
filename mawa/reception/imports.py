"""Bulk import of persons from CSV and XLSX (e.g. KoboToolbox or ODK exports collected offline
at the gate).

Steps, shared by the page and ``mawa import persons FILE``:

1. ``table_read``: decode the file — UTF-8 (with or without BOM) or Windows-1256, the usual
   encoding of Arabic spreadsheets saved as CSV on Windows — or open the XLSX and refuse merged
   header cells with the exact range;
2. ``mapping_guess``: map each column to a field (English names, Arabic labels, Kobo-style
   names), overridable;
3. ``import_check``: check EVERY row with the registration's own rules
   (``services.person_input_clean``), refuse markup in any cell, and flag duplicates inside
   the file and against the register before anything is written (numbers in bulk; names,
   for files of up to ``NAME_MATCH_MAX_ROWS`` rows, in batches: ``person_candidates_many``);
   the result lists every bad row, column and reason;
4. ``import_commit``: all-or-nothing by default — one transaction, through
   ``services.persons_register`` (the registration writer ``person_register`` runs too).
   Client keys derive from the file's hash and row number, so importing the same file twice
   is refused as "already imported" instead of creating copies (SORMAS users' complaint:
   re-imports flagged as duplicates of themselves).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit
from mawa.core.db.rows import sqlite_cache
from mawa.core.errors import MawaError, ValidationFailed
from mawa.names import search_keys
from mawa.reception import selectors, services
from mawa.reception.models import ArrivalGroup, IdentityDocument, Person
from mawa.reception.services import DocumentInput, PersonInput

MAX_BYTES = 40 * 1024 * 1024
MAX_ROWS = 200_000
CHUNK = 5000
# Registry look-ups by name are only affordable per row for small files; larger files are
# checked against the register by service and document number (exact, in bulk).
NAME_MATCH_MAX_ROWS = 2000
# rows whose names are looked up together (a few queries per batch, whatever its size)
NAME_MATCH_BATCH = 1000
_NS = uuid.UUID("6f1c1d3e-6a1b-4bb0-9a57-4f3a2c1d0e99")

FIELDS = [*services.NAME_FIELDS, *services.TEXT_FIELDS, "sex", "nationality", "languages",
          "service_number", "branch", "vulnerabilities", "category", "birth",
          "approximate_age", "document_kind", "document_number", "document_issuer"]

ALIASES = {
    "given_ar": ["given name (arabic)", "الاسم", "الاسم الأول", "first_name_ar", "name_ar"],
    "given_lat": ["given name (latin)", "given", "first name", "first_name", "name_en"],
    "father_ar": ["اسم الأب", "father_name_ar"], "father_lat": ["father", "father_name"],
    "grandfather_ar": ["اسم الجد"], "grandfather_lat": ["grandfather"],
    "family_ar": ["الكنية", "اسم العائلة", "family_name_ar", "last_name_ar"],
    "family_lat": ["family name", "family", "surname", "last name", "last_name"],
    "mother_given_ar": ["اسم الأم"], "mother_given_lat": ["mother", "mother_name"],
    "sex": ["gender", "الجنس"], "birth": ["date of birth", "dob", "birth_date", "تاريخ الولادة",
                                         "تاريخ الميلاد"],
    "approximate_age": ["age", "العمر"], "nationality": ["الجنسية", "country"],
    "service_number": ["الرقم العسكري", "military number", "service no"],
    "rank": ["الرتبة"], "unit": ["الوحدة"], "place_of_birth": ["مكان الولادة", "pob"],
    "document_kind": ["document type", "id type", "نوع الوثيقة"],
    "document_number": ["document no", "id number", "رقم الوثيقة"],
    "category": ["الفئة"], "notes": ["ملاحظات", "comments"],
}
_SEX = {"m": "male", "male": "male", "ذكر": "male", "f": "female", "female": "female",
        "أنثى": "female", "انثى": "female"}
_MARKUP = re.compile(r"<\s*[a-zA-Z/!]|javascript:|on\w+\s*=", re.IGNORECASE)


class ImportRefused(ValidationFailed):
    """The file cannot be read at all (encoding, format, merged headers, size)."""

    code = "import_unreadable"


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    encoding: str = ""
    sha256: str = ""


@dataclass
class Problem:
    row: int  # 1-based data row as in the file (header is row 1, first data row is 2)
    column: str
    reason: str


@dataclass
class CheckResult:
    table: Table
    mapping: dict[str, str]
    people: list[services.CleanPerson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report_csv(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["row", "column", "reason"])
        for p in self.problems:
            w.writerow([p.row, p.column, p.reason])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- reading -----------------------------------------------------------------------------

def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        raise ImportRefused(_("The file is neither UTF-8 nor Windows-1256 (Arabic) text. "
                              "Save it as “CSV UTF-8” and try again."))
    if not _has_arabic(text) and any(b > 0x7F for b in data):
        raise ImportRefused(_("The file's encoding could not be recognised. Save it as "
                              "“CSV UTF-8” and try again."))
    return text, "windows-1256"


def table_read(data: bytes, filename: str) -> Table:
    """Read a CSV or XLSX file into a table of strings, or refuse it with a clear reason."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(n)s MB.")
                            % {"n": MAX_BYTES // 1024 // 1024})
    if not data.strip():
        raise ImportRefused(_("The file is empty."))
    digest = hashlib.sha256(data).hexdigest()
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        table = _xlsx_read(data)
    else:
        text, encoding = _decode(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        all_rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), dialect)]
        all_rows = [r for r in all_rows if any(r)]
        if not all_rows:
            raise ImportRefused(_("The file is empty."))
        table = Table(all_rows[0], all_rows[1:], encoding)
    table.sha256 = digest
    if len(table.rows) > MAX_ROWS:
        raise ImportRefused(_("The file has %(n)s rows; at most %(max)s can be imported at "
                              "once.") % {"n": len(table.rows), "max": MAX_ROWS})
    blanks = [i + 1 for i, h in enumerate(table.headers) if not h.strip()]
    if blanks:
        raise ImportRefused(_("Column(s) %(cols)s have no header. Give every column a name in "
                              "the first row.") % {"cols": ", ".join(map(str, blanks))})
    return table


def _xlsx_read(data: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportRefused(_("This is not a readable XLSX workbook (%(e)s).")
                            % {"e": type(exc).__name__})
    ws = wb.worksheets[0]
    merged = [str(r) for r in ws.merged_cells.ranges if r.min_row <= 1]
    if merged:
        raise ImportRefused(_("Header cells %(ranges)s are merged. Unmerge them so that each "
                              "column has its own header in row 1.")
                            % {"ranges": ", ".join(sorted(merged))})
    rows = []
    for r in ws.iter_rows(values_only=True):
        cells = ["" if v is None else (v.date().isoformat() if hasattr(v, "date")
                                       and callable(v.date) else str(v)).strip() for v in r]
        if any(cells):
            rows.append(cells)
    if not rows:
        raise ImportRefused(_("The workbook's first sheet is empty."))
    width = len(rows[0])
    while width and not rows[0][width - 1]:
        width -= 1
    return Table(rows[0][:width], [r[:width] + [""] * (width - len(r)) for r in rows[1:]],
                 "xlsx")


# --- mapping -----------------------------------------------------------------------------

def _norm(h: str) -> str:
    return " ".join(h.strip().lower().replace("_", " ").split())


def mapping_guess(headers: list[str]) -> dict[str, str]:
    """header → field, for the headers that name a field (by its name or a known alias)."""
    lookup = {_norm(f): f for f in FIELDS}
    for f, names in ALIASES.items():
        for n in names:
            lookup.setdefault(_norm(n), f)
    out, used = {}, set()
    for h in headers:
        f = lookup.get(_norm(h))
        if f and f not in used:
            out[h] = f
            used.add(f)
    return out


# --- checking ----------------------------------------------------------------------------

_AS_TYPED = frozenset((*services.NAME_FIELDS, *services.TEXT_FIELDS, "nationality",
                       "service_number", "branch", "category"))


def _row_input(cells: dict[str, str]) -> tuple[PersonInput, list[Problem], dict]:
    values, problems = {}, []
    for f, value in cells.items():  # the mapped columns, not every field a file may have
        if value and f in _AS_TYPED:
            values[f] = value
    if cells.get("sex"):
        values["sex"] = _SEX.get(cells["sex"].strip().lower(), cells["sex"].strip().lower())
    for f in ("languages", "vulnerabilities"):
        if cells.get(f):
            values[f] = [x for x in re.split(r"[;,\s]+", cells[f]) if x]
    age = None
    if cells.get("approximate_age"):
        from mawa.core.digits import to_ascii_digits

        try:
            age = int(to_ascii_digits(cells["approximate_age"]).strip())
        except ValueError:
            problems.append(("approximate_age", _("Enter the age as a whole number.")))
    docs = []
    if cells.get("document_number") or cells.get("document_kind"):
        docs.append(DocumentInput(kind=(cells.get("document_kind") or "").strip().lower(),
                                  number=cells.get("document_number") or "",
                                  issuer=cells.get("document_issuer") or ""))
    return PersonInput(values=values, birth=cells.get("birth", ""), approximate_age=age,
                       documents=docs), problems, values


def _field_to_column(mapping: dict[str, str]) -> dict[str, str]:
    return {f: h for h, f in mapping.items()}


def import_check(*, user, site, table: Table, mapping: dict[str, str] | None = None,
                 group: ArrivalGroup | None = None,
                 progress: Callable[[int, int], None] | None = None) -> CheckResult:
    """Check every row; nothing is written. Requires ``Perm.PERSON_IMPORT`` at ``site``."""
    access.require(user, Perm.PERSON_IMPORT, site)
    access.require(user, Perm.PERSON_REGISTER, site)
    mapping = dict(mapping if mapping is not None else mapping_guess(table.headers))
    result = CheckResult(table, mapping)
    unknown = sorted(set(mapping.values()) - set(FIELDS))
    if unknown:
        raise ImportRefused(_("Unknown target field(s): %(f)s") % {"f": ", ".join(unknown)})
    col_of = _field_to_column(mapping)
    if not ({"given_ar", "given_lat", "family_ar", "family_lat"} & set(col_of)):
        raise ImportRefused(_("No column is mapped to a name. Map at least a given or family "
                              "name column."))
    index = {h: i for i, h in enumerate(table.headers)}
    arrived_at = group.arrived_at if group else None
    if arrived_at is None:
        from django.utils import timezone

        arrived_at = timezone.now()
    seen_names: dict[tuple, int] = {}
    seen_numbers: dict[str, int] = {}
    numbers_by_row: dict[int, list[tuple[str, str, str]]] = {}
    columns = [(f, index[h]) for h, f in mapping.items()]
    group_id = group.id if group else None
    for n, raw in enumerate(table.rows, start=2):
        if progress and n % 1000 == 0:
            progress(n - 1, len(table.rows))
        width = len(raw)
        cells = {f: (raw[i] if i < width else "") for f, i in columns}
        before = len(result.problems)
        # one search over the whole row first: a match inside a cell is a match in the row,
        # and none can span two cells (the separator is not a space, a word character or a
        # letter), so rows without markup — nearly all — skip the search per cell
        if _MARKUP.search("\x00".join(cells.values())):
            for f, value in cells.items():
                if value and _MARKUP.search(value):
                    result.problems.append(Problem(n, col_of[f], str(_(
                        "Markup or script is not allowed in a field."))))
        data, early, _values = _row_input(cells)
        for f, msg in early:
            result.problems.append(Problem(n, col_of.get(f, f), str(msg)))
        try:
            values, aliases, documents, hashes = services.person_input_clean(
                data, arrived_at=arrived_at)
        except MawaError as exc:
            for fname, msgs in (exc.fields or {"": [exc.message]}).items():
                col = _column_for_error(fname, col_of)
                for m in msgs:
                    result.problems.append(Problem(n, col, str(m)))
            continue
        if len(result.problems) > before:
            continue
        key = _identity_key(values)
        if key in seen_names:
            result.problems.append(Problem(n, col_of.get("given_ar") or col_of.get(
                "given_lat", ""), str(_("Same person as row %(r)s of this file (same names and "
                                        "date of birth).") % {"r": seen_names[key]})))
        else:
            seen_names[key] = n
        numbers = [("service_number", values["service_number"], col_of.get("service_number", ""))]
        numbers += [("document_number", d["number_key"], col_of.get("document_number", ""))
                    for d in documents]
        for kind, number, col in numbers:
            if not number:
                continue
            if (kind, number) in seen_numbers:
                result.problems.append(Problem(n, col, str(_(
                    "The same number is on row %(r)s of this file.")
                    % {"r": seen_numbers[(kind, number)]})))
            else:
                seen_numbers[(kind, number)] = n
        numbers_by_row[n] = [x for x in numbers if x[1]]
        client_key = uuid.uuid5(_NS, f"{table.sha256}:{n}")
        result.people.append(services.CleanPerson(
            client_key=client_key, values=values, aliases=aliases, documents=documents,
            content_hash=services.person_content_hash(values, aliases, documents, hashes,
                                                      group_id, site),
            arrived_at=arrived_at, group=group))
    _registry_duplicates(user, result, numbers_by_row, col_of)
    result.problems.sort(key=lambda p: (p.row, p.column))
    return result


def _column_for_error(fname: str, col_of: dict[str, str]) -> str:
    if fname.startswith("documents."):
        fname = "document_" + fname.rsplit(".", 1)[-1]
    if fname == "photo":
        return fname
    return col_of.get(fname, fname)


def _identity_key(values: dict) -> tuple:
    g = values.get
    return (_part_keys(g("given_ar", ""), g("given_lat", "")),
            _part_keys(g("father_ar", ""), g("father_lat", "")),
            _part_keys(g("family_ar", ""), g("family_lat", "")),
            g("birth_year"), g("birth_month"), g("birth_day"))


@lru_cache(maxsize=100_000)
def _part_keys(ar: str, lat: str) -> tuple[str, ...]:
    """The sorted keys of one name part in both scripts (pairs repeat row after row)."""
    return tuple(sorted({*search_keys(ar), *search_keys(lat)}))


def _registry_duplicates(user, result: CheckResult, numbers_by_row, col_of) -> None:
    """Flag rows that match a person already in the register: same service or document number
    (exact, in bulk); for small files also the registration's match suggestions by name."""
    services_n = {num for rows in numbers_by_row.values() for k, num, _c in rows
                  if k == "service_number"}
    docs_n = {num for rows in numbers_by_row.values() for k, num, _c in rows
              if k == "document_number"}
    known_service, known_docs = set(), set()
    s_list, d_list = sorted(services_n), sorted(docs_n)
    for i in range(0, len(s_list), 900):
        known_service.update(Person.objects.filter(service_number__in=s_list[i:i + 900])
                             .values_list("service_number", flat=True))
    for i in range(0, len(d_list), 900):
        known_docs.update(IdentityDocument.objects.filter(number_key__in=d_list[i:i + 900])
                          .values_list("number_key", flat=True))
    for n, rows in numbers_by_row.items():
        for kind, number, col in rows:
            if (kind == "service_number" and number in known_service) or (
                    kind == "document_number" and number in known_docs):
                result.problems.append(Problem(n, col, str(_(
                    "A person with this number is already in the register."))))
    if len(result.table.rows) > NAME_MATCH_MAX_ROWS:
        return
    people_by_row = dict(zip(sorted(numbers_by_row), result.people, strict=False))
    rows = sorted(people_by_row)
    for start in range(0, len(rows), NAME_MATCH_BATCH):
        batch = rows[start:start + NAME_MATCH_BATCH]
        queries = [{f"{p}_{s}": people_by_row[n].values.get(f"{p}_{s}", "")
                    for p in ("given", "father", "grandfather", "family")
                    for s in ("ar", "lat")} for n in batch]
        for n, found in zip(batch, selectors.person_candidates_many(user=user,
                                                                    queries=queries),
                            strict=True):
            v = people_by_row[n].values
            candidates = [c for c in found if any(r.startswith("name.") for r in c.reasons)
                          and _same_birth(c.person, v)]
            if candidates:
                result.problems.append(Problem(n, col_of.get("given_ar") or col_of.get(
                    "given_lat", ""), str(_("Possibly already registered as %(codes)s.")
                                          % {"codes": ", ".join(c.person.short_code
                                                               for c in candidates)})))


def _same_birth(p: Person, v: dict) -> bool:
    if p.birth_year is None or v.get("birth_year") is None:
        return True
    return p.birth_year == v.get("birth_year")


# --- writing -----------------------------------------------------------------------------

class WrittenPersons(Sequence):
    """The persons an import wrote, in the file's order, read from the register when asked
    for (by index, slice or iteration, a thousand at a time): an import of 100,000 rows keeps
    their ids, not 100,000 model instances, once each chunk is written."""

    def __init__(self, ids: list):
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._load(self.ids[i])
        return self._load([self.ids[i]])[0]

    def __iter__(self):
        for start in range(0, len(self.ids), 1000):
            yield from self._load(self.ids[start:start + 1000])

    @staticmethod
    def _load(ids: list) -> list[Person]:
        found = Person.objects.select_related("site", "current_site", "group").in_bulk(ids)
        return [found[i] for i in ids]


def import_commit(*, user, site, result: CheckResult,
                  progress: Callable[[int, int], None] | None = None) -> WrittenPersons:
    """Write every checked person, or nothing: refused while any problem remains. One
    transaction; the import itself is on the audit stream with the file's hash. Returns the
    persons written (``WrittenPersons``: loaded when read)."""
    access.require(user, Perm.PERSON_IMPORT, site)
    access.require(user, Perm.PERSON_REGISTER, site)
    if not result.ok:
        raise ValidationFailed(_("The file has %(n)s problem(s); nothing was imported. "
                                 "Download the report, correct the file and try again.")
                               % {"n": len(result.problems)}, code="import_invalid")
    if Person.objects.filter(client_key=result.people[0].client_key).exists() \
            if result.people else False:
        raise ValidationFailed(_("This file was already imported."), code="already_imported")
    written: list = []
    total = len(result.people)
    with sqlite_cache(), transaction.atomic():
        for start in range(0, total, CHUNK):
            written += [p.pk for p in services.persons_register(
                actor=user, site=site, people=result.people[start:start + CHUNK])]
            if progress:
                progress(len(written), total)
        audit(actor=user, action="import", model="reception.person", site=site,
              detail={"rows": total, "sha256": result.table.sha256,
                      "encoding": result.table.encoding})
    return WrittenPersons(written)


__all__ = ["CheckResult", "ImportRefused", "Problem", "Table", "WrittenPersons", "import_check",
           "import_commit", "mapping_guess", "table_read"]
