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

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import os
import re
import secrets
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit
from mawa.core.db.rows import sqlite_cache
from mawa.core.errors import MawaError, ValidationFailed
from mawa.core.uploads import UploadRefused, zip_check
from mawa.names import search_keys
from mawa.reception import selectors, services
from mawa.reception.models import ArrivalGroup, IdentityDocument, Person
from mawa.reception.services import DocumentInput, PersonInput

MAX_BYTES = 40 * 1024 * 1024
MAX_ROWS = 200_000
MAX_LINE_CHARS = 100_000  # one line of a CSV file (below the csv module's own field limit)
MAX_CELL_CHARS = 10_000  # one cell (a quoted cell may span lines)
# XLSX: checked from the zip before the workbook is opened (see ``_xlsx_read``)
XLSX_MAX_MEMBERS = 500
XLSX_MAX_UNCOMPRESSED = 256 * 1024 * 1024
XLSX_MAX_RATIO = 100  # the kernel's limit for archives; real workbooks inflate 5-20 times
XLSX_MAX_CELLS = 5_000_000  # cells in the sheet's XML, and rows x columns of its data
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
    # the file's line (CSV) or sheet row (XLSX) of each row, for the problems; empty for a
    # table made in code (then row i is reported as i + 2)
    lines: list[int] = field(default_factory=list)


@dataclass
class Problem:
    row: int  # the row's line in the CSV file / row in the sheet (the header is 1)
    column: str
    reason: str
    # a row that may be a person already registered (by name and birth): not an error but a
    # decision for the officer (import it and queue the pair for review, or leave it out);
    # (person id, score, reasons) of each registered person it may be
    candidates: tuple = ()

    @property
    def is_decision(self) -> bool:
        return bool(self.candidates)


#: the officer's answers for a row that may be a person already registered
DECIDE_IMPORT = "import"  # import it, and queue it with its look-alikes for duplicate review
DECIDE_SKIP = "skip"  # leave it out of this import
DECISIONS = (DECIDE_IMPORT, DECIDE_SKIP)


@dataclass
class CheckResult:
    table: Table
    mapping: dict[str, str]
    people: list[services.CleanPerson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # the file row of each of ``people``
    rows: list[int] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that must be corrected in the file."""
        return [p for p in self.problems if not p.is_decision]

    @property
    def decisions(self) -> list[Problem]:
        """Rows the officer decides (possibly already registered), in the file's order."""
        return [p for p in self.problems if p.is_decision]

    @property
    def ok(self) -> bool:
        """Nothing to correct in the file (rows to decide may remain: ``decisions``)."""
        return not self.errors

    def report_csv(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["row", "column", "reason"])
        for p in self.problems:
            w.writerow([p.row, p.column, p.reason])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- reading -----------------------------------------------------------------------------
#
# A file is read in full before anything is checked, so every way a file can be wrong ends in
# ``ImportRefused`` with a message that names the line and the problem — never in an error of
# the csv module or the XLSX reader. Lines may end in LF, CR+LF or CR alone (Excel for Mac);
# the text may be UTF-8 (with or without its mark), UTF-16 (with its mark, or plainly so
# without) or Windows-1256 when it reads as Arabic; anything else is refused by name.

_BOMS = ((b"\xef\xbb\xbf", "utf-8", "UTF-8"), (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
         (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"), (b"\xff\xfe", "utf-16-le", "UTF-16"),
         (b"\xfe\xff", "utf-16-be", "UTF-16"))
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
# an Arabic character glued to a Latin letter: what Latin-1 (ñ, Ä, ö …) read as Windows-1256
# looks like; real Arabic text has it only in a rare typo
_GLUED = re.compile("[A-Za-z][\u0600-\u06ff]|[\u0600-\u06ff][A-Za-z]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_BYTES = bytes(range(128))


def _line_of(data: bytes | str, pos: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, pos) + 1  # type: ignore[arg-type]


def _not_a_table() -> ImportRefused:
    return ImportRefused(_("This is not a CSV or XLSX file (it holds binary data). Save the "
                           "sheet as “CSV UTF-8” or XLSX and try again."), code="import_binary")


def _encoding_refused(data: bytes, exc: UnicodeDecodeError) -> ImportRefused:
    return ImportRefused(
        _("The file's encoding is not one Mawa reads (UTF-8, UTF-16, or Windows-1256 for "
          "Arabic): byte %(byte)s on line %(line)s is not UTF-8, and the text does not read "
          "as Arabic either (Latin-1 or another Western encoding?). Save it as “CSV UTF-8” "
          "and try again.") % {"byte": f"0x{data[exc.start]:02X}",
                               "line": _line_of(data, exc.start)},
        code="import_encoding")


def _utf16_unmarked(data: bytes) -> str | None:
    """UTF-16 without its byte-order mark: the zero high bytes of ASCII characters (digits,
    separators, line ends) all fall on one side."""
    sample = data[:4096]
    sample = sample[:len(sample) - len(sample) % 2]
    half = max(len(sample) // 2, 1)
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= half // 10 and even == 0:
        return "utf-16-le"
    if even >= half // 10 and odd == 0:
        return "utf-16-be"
    return None


def _decode(data: bytes) -> tuple[str, str]:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), codec[:6]
            except UnicodeDecodeError as exc:
                raise ImportRefused(
                    _("The file is marked as %(encoding)s text but byte %(pos)s is not "
                      "%(encoding)s. Save it as “CSV UTF-8” and try again.")
                    % {"encoding": name, "pos": exc.start + len(bom)}, code="import_encoding")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(_("This is an old Excel workbook (.xls). Save it as XLSX or as "
                              "“CSV UTF-8” and try again."), code="import_binary")
    if b"\x00" in data:
        codec16 = _utf16_unmarked(data)
        if codec16 is None:
            raise _not_a_table()
        try:
            return data.decode(codec16), "utf-16"
        except UnicodeDecodeError:
            raise _not_a_table()
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_error = exc
    # UTF-8 with a few damaged bytes is still UTF-8 (and would read as Arabic gibberish in
    # Windows-1256): refuse it as such when most of its non-ASCII bytes form UTF-8 sequences
    high = len(data.translate(None, _ASCII_BYTES))
    utf8_high = len(data.decode("utf-8", "ignore").encode("utf-8")) - (len(data) - high)
    if 2 * utf8_high >= high:
        raise ImportRefused(_("The file is UTF-8 text, but byte %(byte)s on line %(line)s is "
                              "not: the file is damaged. Save it again as “CSV UTF-8” and "
                              "try again.") % {"byte": f"0x{data[first_error.start]:02X}",
                                               "line": _line_of(data, first_error.start)},
                            code="import_encoding")
    # judged on a megabyte from the first byte that is not UTF-8: enough to tell, and cheap
    start = max(first_error.start - 4096, 0)
    sample = data[start:start + (1 << 20)].decode("cp1256", "replace")
    letters = len(sample) - len(_ARABIC_LETTER.sub("", sample))  # counted without a list
    if not letters or 20 * _GLUED.subn("", sample)[1] > letters:
        raise _encoding_refused(data, first_error)
    return data.decode("cp1256", "replace"), "windows-1256"


def _newlines_normalise(text: str) -> str:
    """Every line ending as LF: CR+LF (Windows) and CR alone (Excel for Mac) become LF. In a
    file whose lines end in LF or CR+LF, a CR alone is a stray character inside a cell: refused
    with its line, rather than read as a line break that would shift every cell after it."""
    crlf = text.count("\r\n")
    lone_cr = text.count("\r") - crlf
    if not lone_cr:
        return text.replace("\r\n", "\n") if crlf else text
    lone_lf = text.count("\n") - crlf
    if not crlf and lone_cr > lone_lf:  # CR alone ends the lines; an LF is inside a cell
        return text.replace("\r", "\n")
    stray = re.search("\r(?!\n)", text)
    raise ImportRefused(_("Line %(line)s holds a stray carriage return (CR) inside a cell, in "
                          "a file whose lines end otherwise. Remove it (a line break inside "
                          "that cell) and try again.")
                        % {"line": _line_of(text, stray.start() if stray else 0)},
                        code="import_stray_cr")


_LONG_LINE = re.compile(f"^[^\n]{{{MAX_LINE_CHARS + 1}}}", re.MULTILINE)


def _text_check(text: str) -> str:
    text = text.rstrip("\x1a")  # the end-of-file mark of old DOS tools
    control = _CONTROL.search(text)
    if control:
        sample = text[:65536]
        if "\x00" in text or len(_CONTROL.findall(sample)) * 100 > len(sample):
            raise _not_a_table()
        raise ImportRefused(_("Line %(line)s holds a control character (%(char)s) that has no "
                              "place in a table. Remove it and try again.")
                            % {"line": _line_of(text, control.start()),
                               "char": f"U+{ord(control.group()):04X}"}, code="import_binary")
    long_line = _LONG_LINE.search(text)
    if long_line:
        raise ImportRefused(_("Line %(line)s is longer than %(max)s characters: this is not a "
                              "table of persons, or a separator is missing.")
                            % {"line": _line_of(text, long_line.start()),
                               "max": MAX_LINE_CHARS}, code="import_line_too_long")
    return text


def _delimiter(text: str) -> str:
    """The separator that splits the header line into the most cells (comma on a tie)."""
    first = re.search(r"\S", text)
    if first is None:
        return ","
    end = text.find("\n", first.start())
    header = text[text.rfind("\n", 0, first.start()) + 1:len(text) if end < 0 else end]
    best, most = ",", 0
    for d in ",;\t":
        n = len(next(csv.reader([header], delimiter=d), []))
        if n > most:
            best, most = d, n
    return best


def _cell_too_long(line: int) -> ImportRefused:
    return ImportRefused(_("A cell on line %(line)s is longer than %(max)s characters (a quote "
                           "opened and never closed?). Correct it and try again.")
                         % {"line": line, "max": MAX_CELL_CHARS}, code="import_cell_too_long")


def _csv_read(data: bytes) -> Table:
    text, encoding = _decode(data)
    text = _text_check(_newlines_normalise(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text),
                        quotechar='"', skipinitialspace=True, strict=False)
    rows, lines, last = [], [], 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            cells = [c.strip() for c in record]
            if any(cells):
                if max(map(len, cells)) > MAX_CELL_CHARS:
                    raise _cell_too_long(start)
                rows.append(cells)
                lines.append(start)
                if len(rows) > MAX_ROWS + 1:
                    break
    except csv.Error:
        # the only one left with these settings: a quoted cell past the csv module's limit
        raise _cell_too_long(last + 1)
    if not rows:
        raise ImportRefused(_("The file is empty."))
    return Table(rows[0], rows[1:], encoding, lines=lines[1:])


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
        table = _csv_read(data)
    table.sha256 = digest
    if len(table.rows) > MAX_ROWS:
        raise ImportRefused(_("The file has %(n)s rows; at most %(max)s can be imported at "
                              "once.") % {"n": len(table.rows), "max": MAX_ROWS})
    blanks = [i + 1 for i, h in enumerate(table.headers) if not h.strip()]
    if blanks:
        raise ImportRefused(_("Column(s) %(cols)s have no header. Give every column a name in "
                              "the first row.") % {"cols": ", ".join(map(str, blanks))})
    return table


# An XLSX file is a zip of XML. Before the workbook is opened, the zip is checked by the
# kernel's archive check with limits for a workbook (``core.uploads.zip_check``: declared and
# actual sizes, expansion ratio), and the sheets' XML is scanned as it inflates — cells
# counted, the extent of the cells that hold something found, merged ranges collected —
# so that a small file claiming millions of cells is refused before any cell is built.

_XML_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|mergeCell)\b([^>]*?)(/?)>")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([A-Z]{0,3})([0-9]{0,7})["']""")
_ATTR_REF = re.compile(rb"""\sref\s*=\s*["']([A-Z]{1,3}[0-9]{1,7}:[A-Z]{1,3}[0-9]{1,7})["']""")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


@dataclass
class _SheetScan:
    cells: int = 0
    rows: int = 0  # rows that hold something
    max_row: int = 0  # of the cells that hold something
    max_col: int = 0
    merged: list[str] = field(default_factory=list)
    _row: int = 0
    _col: int = 0
    _counted: int = -1  # the last row counted in ``rows``
    _tail: bytes = b""

    def feed(self, piece: bytes) -> None:
        buf = self._tail + piece
        cut = buf.rfind(b"<")
        if cut < 0 or len(buf) - cut > 1 << 20:
            cut = len(buf)
        self._tail = buf[cut:]
        for m in _XML_TAG.finditer(buf, 0, cut):
            tag, attrs, empty = m.groups()
            if tag == b"mergeCell":
                ref = _ATTR_REF.search(attrs)
                if ref:
                    self.merged.append(ref.group(1).decode())
                continue
            r = _ATTR_R.search(attrs)
            if tag == b"row":
                self._row = int(r.group(2)) if r and r.group(2) else self._row + 1
                self._col = 0
                continue
            self.cells += 1
            if r and r.group(1):
                self._col = _column_number(r.group(1))
                if r.group(2):
                    self._row = int(r.group(2))
            else:
                self._col += 1
            if not empty:
                self.max_row = max(self.max_row, self._row)
                self.max_col = max(self.max_col, self._col)
                if self._counted != self._row:
                    self._counted = self._row
                    self.rows += 1


class _WorkbookScan:
    def __init__(self):
        self.sheets: dict[str, _SheetScan] = {}

    def __call__(self, member: zipfile.ZipInfo, piece: bytes) -> None:
        name = member.filename
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            sheet = self.sheets.setdefault(name, _SheetScan())
            sheet.feed(piece)
            if sheet.cells > XLSX_MAX_CELLS:
                raise _too_many_cells(sheet.cells)


def _too_many_cells(n: int) -> ImportRefused:
    return ImportRefused(_("The workbook's sheet has more than %(n)s cells; at most %(max)s "
                           "can be read. Delete unused rows and columns or split the file.")
                         % {"n": n, "max": XLSX_MAX_CELLS}, code="import_too_many_cells")


def _xlsx_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _xlsx_read(data: bytes) -> Table:
    scan = _WorkbookScan()
    try:
        zip_check(data, max_members=XLSX_MAX_MEMBERS, max_total=XLSX_MAX_UNCOMPRESSED,
                  max_ratio=XLSX_MAX_RATIO, scan=scan)
    except UploadRefused as exc:
        if exc.code == "zip_bomb":
            raise ImportRefused(_("This XLSX workbook expands far beyond its size (at most "
                                  "%(ratio)s times its size and %(mb)s MB are read): it was "
                                  "not opened.") % {"ratio": XLSX_MAX_RATIO,
                                                   "mb": XLSX_MAX_UNCOMPRESSED >> 20},
                                code="import_zip_bomb")
        raise ImportRefused(_("This is not a readable XLSX workbook."), code="import_binary")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            sheet = scan.sheets.get(getattr(ws, "_worksheet_path", ""))
            if sheet is None:  # not where the scan looked: take the largest sheet's extent
                sheet = _SheetScan(
                    max_row=max((s.max_row for s in scan.sheets.values()), default=0),
                    max_col=max((s.max_col for s in scan.sheets.values()), default=0))
            if sheet.rows - 1 > MAX_ROWS:
                raise ImportRefused(_("The file has %(n)s rows; at most %(max)s can be "
                                      "imported at once.") % {"n": sheet.rows - 1,
                                                             "max": MAX_ROWS})
            extent = sheet.max_row * sheet.max_col
            if extent > XLSX_MAX_CELLS:
                raise ImportRefused(_("The sheet's data reaches row %(rows)s and column "
                                      "%(cols)s (%(n)s cells); at most %(max)s cells can be "
                                      "read. Delete unused rows and columns or split the "
                                      "file.") % {"rows": sheet.max_row, "cols": sheet.max_col,
                                                  "n": extent, "max": XLSX_MAX_CELLS},
                                    code="import_too_many_cells")
            merged = [r for r in sheet.merged
                      if min(int(n) for n in re.findall(r"[0-9]+", r)) <= 1]
            if merged:
                raise ImportRefused(_("Header cells %(ranges)s are merged. Unmerge them so "
                                      "that each column has its own header in row 1.")
                                    % {"ranges": ", ".join(sorted(merged))})
            rows, lines = [], []
            if extent:
                for n, r in enumerate(ws.iter_rows(min_row=1, max_row=sheet.max_row,
                                                   min_col=1, max_col=sheet.max_col,
                                                   values_only=True), start=1):
                    cells = [_xlsx_value(v) for v in r]
                    if any(cells):
                        if any(len(c) > MAX_CELL_CHARS for c in cells):
                            raise _cell_too_long(n)
                        rows.append(cells)
                        lines.append(n)
        finally:
            wb.close()
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001 — any failure of the XLSX reader on a hostile file
        raise ImportRefused(_("This is not a readable XLSX workbook."), code="import_binary")
    if not rows:
        raise ImportRefused(_("The workbook's first sheet is empty."))
    width = len(rows[0])
    while width and not rows[0][width - 1]:
        width -= 1
    return Table(rows[0][:width], [r + [""] * (width - len(r)) for r in rows[1:]],
                 "xlsx", lines=lines[1:])


# --- uploaded files ----------------------------------------------------------------------
#
# The page keeps an uploaded file under ``var/imports/<token>.bin`` (with ``<token>.json``,
# the page's state) between the upload, the preview and the import: readable by Mawa's user
# alone, deleted once imported, and removed by ``mawa purge`` once older than
# ``settings.MAWA_IMPORT_FILE_SECONDS`` whatever became of it.

def uploads_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def upload_write(path: Path, data: bytes) -> None:
    """Write a file of the upload store, 0600 from the first byte (never 0644 for a moment),
    replacing any earlier version atomically."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def upload_store(data: bytes) -> str:
    """Keep an uploaded file; returns its token (random, 32 hex digits)."""
    token = secrets.token_hex(16)
    upload_write(uploads_dir() / f"{token}.bin", data)
    return token


def uploads_purge(*, now: float | None = None) -> int:
    """Remove the upload store's files older than ``MAWA_IMPORT_FILE_SECONDS`` (by their last
    change: a running import touches its state file). Returns the number of uploads removed."""
    now = time.time() if now is None else now
    path = Path(settings.VAR_DIR) / "imports"
    if not path.is_dir():
        return 0
    removed = 0
    for item in path.iterdir():
        try:
            old = now - item.stat().st_mtime > settings.MAWA_IMPORT_FILE_SECONDS
        except FileNotFoundError:
            continue
        if old and item.is_file():
            item.unlink(missing_ok=True)
            removed += item.suffix == ".bin"
    return removed


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

@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off for a bulk step, with one young-generation pass per chunk
    (``step``) and a full one at the end. An import keeps every checked row alive (hundreds of
    thousands of dicts and lists) while it allocates millions of short-lived ones, so the
    collector's automatic full passes re-traverse the same live rows again and again: about
    40 % of an import's CPU at 20,000 rows, growing with the file. Nothing is left to
    accumulate: the garbage cycles of each chunk are collected by ``step``."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1) if was_enabled else 0
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(1)


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
    header_width = len(table.headers)
    lines = table.lines if len(table.lines) == len(table.rows) else \
        range(2, len(table.rows) + 2)
    with _collector_paused() as collect:
        for pos, (n, raw) in enumerate(zip(lines, table.rows, strict=True)):
            if pos % CHUNK == CHUNK - 1:
                collect()
            if progress and pos % 1000 == 999:
                progress(pos + 1, len(table.rows))
            width = len(raw)
            if width != header_width:
                filled = width
                while filled > header_width and not raw[filled - 1]:
                    filled -= 1
                if filled != header_width:
                    # the cells cannot be put in their columns: a separator, a quote or a line
                    # break out of place; nothing else is checked on this row
                    result.problems.append(Problem(n, "", str(_(
                        "This row has %(cells)s cells but the header has %(columns)s: a separator, "
                        "a quote or a line break inside a cell is out of place.")
                        % {"cells": filled, "columns": header_width})))
                    continue
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
            numbers = [("service_number", values["service_number"],
                        col_of.get("service_number", ""))]
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
            client_key = uuid.uuid5(_NS, f"{table.sha256}:{pos + 2}")  # by position, as ever
            result.rows.append(n)
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
    people_by_row = dict(zip(result.rows, result.people, strict=True))
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
                                                               for c in candidates)}),
                    candidates=tuple((c.person.pk, c.score, tuple(c.reasons))
                                     for c in candidates)))


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
                  progress: Callable[[int, int], None] | None = None,
                  decisions: Mapping[int, str] | None = None) -> WrittenPersons:
    """Write the checked persons in one transaction, or nothing: refused while any problem of
    the file remains (``result.errors``). A row that may be a person already registered
    (``result.decisions``) needs the officer's answer in ``decisions`` (file row →
    ``DECIDE_IMPORT`` or ``DECIDE_SKIP``): imported, it is queued with its look-alikes for
    duplicate review (``person.review_requested``); left out, it is not written. The rest of
    the file is imported either way. The import itself is on the audit stream with the file's
    hash and the rows left out. Returns the persons written (``WrittenPersons``: loaded when
    read)."""
    access.require(user, Perm.PERSON_IMPORT, site)
    access.require(user, Perm.PERSON_REGISTER, site)
    if not result.ok:
        raise ValidationFailed(_("The file has %(n)s problem(s); nothing was imported. "
                                 "Download the report, correct the file and try again.")
                               % {"n": len(result.errors)}, code="import_invalid")
    decisions = dict(decisions or {})
    pending = [p.row for p in result.decisions if decisions.get(p.row) not in DECISIONS]
    if pending:
        raise ValidationFailed(_("Decide for each row possibly already registered whether to "
                                 "import it (it is then queued for duplicate review) or to "
                                 "leave it out; rows %(rows)s are undecided. Nothing was "
                                 "imported.") % {"rows": ", ".join(map(str, pending[:20]))},
                               code="import_decisions_needed")
    skipped = {p.row for p in result.decisions if decisions[p.row] == DECIDE_SKIP}
    review = {p.row: p.candidates for p in result.decisions
              if decisions[p.row] == DECIDE_IMPORT}
    rows = result.rows if len(result.rows) == len(result.people) else \
        list(range(2, len(result.people) + 2))
    people = [(n, c) for n, c in zip(rows, result.people, strict=True) if n not in skipped]
    if people and Person.objects.filter(client_key=people[0][1].client_key).exists():
        raise ValidationFailed(_("This file was already imported."), code="already_imported")
    written: list = []
    total = len(people)
    pairs: list[tuple] = []
    # SQLite: a 256 MB page cache while the rows go in (the default 64 MB of ``sqlite_cache``
    # evicts the matching and name keys' index pages from 50,000 rows on: 9 % more CPU)
    with sqlite_cache(mb=256), transaction.atomic(), _collector_paused() as collect:
        for start in range(0, total, CHUNK):
            if start:
                collect()
            chunk = people[start:start + CHUNK]
            done = services.persons_register(actor=user, site=site,
                                             people=[c for _n, c in chunk])
            for (n, _c), person in zip(chunk, done, strict=True):
                pairs += [(person.pk, *candidate) for candidate in review.get(n, ())]
            written += [p.pk for p in done]
            if progress:
                progress(len(written), total)
        if pairs:
            services.persons_review_request(actor=user, pairs=pairs)
        audit(actor=user, action="import", model="reception.person", site=site,
              detail={"rows": total, "sha256": result.table.sha256,
                      "encoding": result.table.encoding, "left_out": sorted(skipped),
                      "queued_for_review": sorted(review)})
    return WrittenPersons(written)


__all__ = ["DECIDE_IMPORT", "DECIDE_SKIP", "DECISIONS", "CheckResult", "ImportRefused",
           "Problem", "Table", "WrittenPersons", "import_check", "import_commit",
           "mapping_guess", "table_read", "upload_store", "upload_write", "uploads_dir",
           "uploads_purge"]
