"""Import files that are not what a spreadsheet usually saves (issue 20, item 5): every line
ending, stray CRs, lines of megabytes, binary files, UTF-16, Latin-1, short and long rows,
XLSX bombs, and the uploaded files themselves (0600, purged). Each hole is tried through the
reading itself, the preview page and ``mawa import persons``: a clear refusal or a correct
import, never a 500 nor a traceback, never a partial write."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import threading
import time
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from mawa.accounts.roles import Role
from mawa.reception import imports, views_import
from mawa.reception.models import Person

HEADER = ["given_ar", "given_lat", "family_ar", "family_lat", "sex", "birth",
          "service_number", "document_kind", "document_number"]
ROWS = [["محمد", "Mohammed", "الحلبي", "al-Halabi", "male", "1990-03-15", "A-1", "passport",
         "P1"],
        ["علي", "Ali", "العبيدي", "al-Obaidi", "m", "1985", "A-2", "", ""]]


def csv_bytes(rows=ROWS, *, newline="\n", encoding="utf-8", header=HEADER) -> bytes:
    return (newline.join(",".join(r) for r in [header, *rows]) + newline).encode(encoding)


CR_ONLY = csv_bytes(newline="\r")
STRAY_CR = csv_bytes([[*ROWS[0][:1], "Moh\rammed", *ROWS[0][2:]], ROWS[1]])
LONG_LINE = b"given_ar\n" + b"x" * (10 * 1024 * 1024) + b"\n"
BINARY = bytes(range(256)) * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(32))
# "Muñoz" and "Jürgen" in Latin-1: ñ is Arabic fathatan in Windows-1256, so the old reader
# took the file for Arabic and reported every name as "mixed scripts"
LATIN1 = ("given_lat,family_lat,sex,birth\nJürgen,Muñoz,male,1980\nJosé,Peña,male,1981\n"
          ).encode("latin-1")
SHORT_ROW = csv_bytes([ROWS[0], ["علي", "Ali", "العبيدي"]])  # 3 of 9 cells


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Messages in English here (Arabic is the default); one test below reads the Arabic."""
    monkeypatch.setenv("MAWA_LANGUAGE", "en")
    with translation.override("en"):
        yield


def officer_of(users):
    return users[Role.RECEPTION_OFFICER]


def read(data: bytes, name: str = "gate.csv") -> imports.Table:
    return imports.table_read(data, name)


def refused(data: bytes, name: str = "gate.csv") -> imports.ImportRefused:
    with pytest.raises(imports.ImportRefused) as exc:
        read(data, name)
    return exc.value


def check(users, sites, data: bytes, name: str = "gate.csv"):
    return imports.import_check(user=officer_of(users), site=sites["RHM"],
                                table=read(data, name))


def command(tmp_path, data: bytes, name: str = "gate.csv", **options):
    path = tmp_path / name
    path.write_bytes(data)
    call_command("import", "persons", str(path), user="reception_officer", site="RHM",
                 **options)


def command_refused(tmp_path, data: bytes, name: str = "gate.csv", **options) -> str:
    """The command's refusal: exit code 2 and one line, nothing written."""
    before = Person.objects.count()
    with pytest.raises(CommandError) as exc:
        command(tmp_path, data, name, **options)
    assert exc.value.returncode == 2
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    assert Person.objects.count() == before
    return message


@pytest.fixture
def web(client_for, users, monkeypatch, settings, tmp_path):
    """The officer's browser on the import pages; the import runs inside the request."""
    settings.VAR_DIR = tmp_path

    class Now:
        def __init__(self, target, args, daemon):
            self.target, self.args = target, args

        def start(self):
            self.target(*self.args)

    monkeypatch.setattr(threading, "Thread", Now)
    monkeypatch.setattr(views_import, "close_old_connections", lambda: None)
    client = client_for(officer_of(users))
    client.cookies["django_language"] = "en"
    return client


def upload(client, data: bytes, name: str = "gate.csv") -> str:
    response = client.post(reverse("reception:import_upload"),
                           {"file": _named(data, name)}, format="multipart")
    assert response.status_code == 302
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def _named(data: bytes, name: str):
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def preview(client, data: bytes, name: str = "gate.csv"):
    token = upload(client, data, name)
    return client.get(reverse("reception:import_preview", args=[token])), token


def page_refused(client, data: bytes, name: str = "gate.csv") -> str:
    response, _token = preview(client, data, name)
    assert response.status_code == 400
    return response.content.decode()


# --- line endings ------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_is_read(newline):
    table = read(csv_bytes(newline=newline))
    assert table.headers == HEADER and table.rows == ROWS and table.lines == [2, 3]


def test_cr_only_file_excel_for_mac_previews_and_imports(users, sites, web, tmp_path):
    result = check(users, sites, CR_ONLY)
    assert result.ok, result.problems
    response, _token = preview(web, CR_ONLY)
    assert response.status_code == 200 and "Mohammed" in response.content.decode()
    command(tmp_path, CR_ONLY)
    assert Person.objects.count() == 2


def test_cr_only_file_with_a_line_break_inside_a_quoted_cell():
    data = b'given_lat,notes\r"Ali","first line\nsecond line"\r'
    assert read(data).rows == [["Ali", "first line\nsecond line"]]


def test_a_stray_cr_inside_a_cell_is_refused_with_its_line(web, tmp_path):
    exc = refused(STRAY_CR)
    assert exc.code == "import_stray_cr" and "Line 2" in str(exc.message)
    assert "carriage return" in page_refused(web, STRAY_CR)
    assert "Line 2" in command_refused(tmp_path, STRAY_CR)


# --- long lines, binary files ------------------------------------------------------------

def test_a_10_mb_line_is_refused_with_its_line(web, tmp_path):
    exc = refused(LONG_LINE)
    assert exc.code == "import_line_too_long" and "Line 2" in str(exc.message)
    assert "Line 2 is longer than" in page_refused(web, LONG_LINE)
    assert "Line 2 is longer than" in command_refused(tmp_path, LONG_LINE)


def test_a_cell_longer_than_the_limit_is_refused_with_its_line():
    data = ('given_lat,notes\nAli,ok\nOmar,"' + "x\n" * 6000 + '"\n').encode()
    exc = refused(data)
    assert exc.code == "import_cell_too_long" and "line 3" in str(exc.message)


@pytest.mark.parametrize("data", [BINARY, PDF, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + BINARY],
                         ids=["bytes", "pdf", "xls"])
def test_a_binary_file_is_refused_as_not_a_table(data, web, tmp_path):
    exc = refused(data)
    assert exc.code == "import_binary"
    assert "not a CSV or XLSX file" in str(exc.message) or ".xls" in str(exc.message)
    assert page_refused(web, data)
    command_refused(tmp_path, data, "gate.bin")


def test_binary_refusal_text_on_the_page_and_the_command(web, tmp_path, monkeypatch):
    assert "This is not a CSV or XLSX file" in page_refused(web, BINARY)
    assert "This is not a CSV or XLSX file" in command_refused(tmp_path, BINARY)
    web.cookies["django_language"] = "ar"
    assert "هذا ليس ملف CSV ولا XLSX" in page_refused(web, BINARY)
    monkeypatch.setenv("MAWA_LANGUAGE", "ar")
    with translation.override("ar"):
        assert "هذا ليس ملف CSV ولا XLSX" in command_refused(tmp_path, BINARY)


# --- encodings ---------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_utf8_and_utf16_are_read(encoding):
    data = csv_bytes(encoding=encoding)
    if encoding == "utf-16-le":  # written with its mark, as Excel's "Unicode text" does
        data = b"\xff\xfe" + data
    elif encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    table = read(data)
    assert table.headers == HEADER and table.rows == ROWS
    assert table.encoding == ("utf-8" if encoding.startswith("utf-8") else "utf-16")


def test_utf16_without_its_mark_is_read():
    assert read(csv_bytes(encoding="utf-16-le")).rows == ROWS
    assert read(csv_bytes(encoding="utf-16-be")).rows == ROWS


def test_a_utf16_tab_separated_file_previews_and_imports(users, sites, web, tmp_path):
    data = "\r\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode("utf-16")
    result = check(users, sites, data, "gate.txt")
    assert result.ok and result.mapping  # not "no column mapped"
    response, _token = preview(web, data, "gate.txt")
    assert response.status_code == 200 and "Mohammed" in response.content.decode()
    command(tmp_path, data, "gate.txt")
    assert Person.objects.count() == 2


def test_windows_1256_arabic_is_still_detected():
    table = read(csv_bytes(encoding="cp1256"))
    assert table.encoding == "windows-1256" and table.rows == ROWS


def test_latin1_is_refused_with_an_encoding_message(users, sites, web, tmp_path):
    exc = refused(LATIN1)
    assert exc.code == "import_encoding"
    assert "encoding" in str(exc.message) and "line 2" in str(exc.message)
    assert "encoding" in page_refused(web, LATIN1)
    assert "encoding" in command_refused(tmp_path, LATIN1, check=True)


def test_damaged_utf8_is_refused_as_damaged_utf8():
    data = csv_bytes().replace("العبيدي".encode(), "العبيدي".encode()[:-1] + b"\xff")
    exc = refused(data)
    assert exc.code == "import_encoding" and "UTF-8" in str(exc.message)
    assert "line 3" in str(exc.message)


# --- short and long rows -----------------------------------------------------------------

def test_a_row_with_3_of_9_cells_is_a_problem_with_its_line(users, sites, web, tmp_path):
    result = check(users, sites, SHORT_ROW)
    assert not result.ok
    [problem] = result.problems
    assert problem.row == 3 and "3 cells" in problem.reason and "has 9" in problem.reason
    message = command_refused(tmp_path, SHORT_ROW, check=True)
    assert "1 problem" in message
    response, _token = preview(web, SHORT_ROW)
    assert response.status_code == 200 and "3 cells" in response.content.decode()


def test_a_long_row_is_a_problem_and_empty_trailing_cells_are_not(users, sites):
    long_row = csv_bytes([[*ROWS[0], "stray"], [*ROWS[1], "", ""]])
    problems = check(users, sites, long_row).problems
    assert [(p.row, "10 cells" in p.reason) for p in problems] == [(2, True)]


def test_problems_name_the_line_of_the_file_past_blank_lines(users, sites):
    data = csv_bytes([ROWS[0], [], [], ["علي", "Ali"]])
    [problem] = check(users, sites, data).problems
    assert problem.row == 5


# --- XLSX --------------------------------------------------------------------------------

def xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook whose first sheet's XML is replaced."""
    wb = Workbook()
    wb.active.append(["given_lat"])
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


SHEET = (b'<?xml version="1.0" encoding="UTF-8"?>'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b"<sheetData>%s</sheetData>%s</worksheet>")


def sheet(rows: bytes, tail: bytes = b"") -> bytes:
    return SHEET % (rows, tail)


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(web, tmp_path):
    bomb = xlsx_with_sheet(sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>given_lat</t></is>'
                                 b"</c></row>" + b" " * (20 << 20)))
    assert len(bomb) < 100_000
    exc = refused(bomb, "gate.xlsx")
    assert exc.code == "import_zip_bomb"
    assert "expands far beyond its size" in page_refused(web, bomb, "gate.xlsx")
    assert "expands far beyond its size" in command_refused(tmp_path, bomb, "gate.xlsx")


def test_an_xlsx_whose_cells_reach_far_is_refused_before_they_are_built(monkeypatch):
    monkeypatch.setattr(imports, "XLSX_MAX_CELLS", 1000, raising=False)
    far = xlsx_with_sheet(sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>given_lat</t></is>'
                                b'</c></row><row r="100"><c r="AZ100"><v>1</v></c></row>'))
    exc = refused(far, "gate.xlsx")
    assert exc.code == "import_too_many_cells" and "row 100" in str(exc.message)


def test_an_xlsx_with_too_many_cells_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "XLSX_MAX_CELLS", 1000, raising=False)
    cells = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n)
                     for n in range(1, 1200))
    exc = refused(xlsx_with_sheet(sheet(cells)), "gate.xlsx")
    assert exc.code == "import_too_many_cells"


def test_an_xlsx_with_too_many_rows_is_refused_before_it_is_opened(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    opened = []  # the sheet's XML is never parsed
    monkeypatch.setattr("openpyxl.worksheet._reader.WorkSheetParser.parse",
                        lambda *a, **k: opened.append(1) or iter(()))
    cells = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, 9))
    exc = refused(xlsx_with_sheet(sheet(cells)), "gate.xlsx")
    assert "7 rows" in str(exc.message) and not opened


def test_styled_empty_cells_far_away_do_not_count_as_data():
    table = read(xlsx_with_sheet(sheet(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>given_lat</t></is></c>'
        b'<c r="XFD1" s="0"/></row><row r="2"><c r="A2" t="inlineStr"><is><t>Ali</t></is></c>'
        b'</row><row r="1048576"><c r="A1048576" s="0"/></row>')), "gate.xlsx")
    assert table.headers == ["given_lat"] and table.rows == [["Ali"]]


def test_an_xlsx_with_content_past_the_last_header_is_a_problem(users, sites):
    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append([*ROWS[0], "stray"])
    buf = io.BytesIO()
    wb.save(buf)
    [problem] = check(users, sites, buf.getvalue(), "gate.xlsx").problems
    assert problem.row == 2 and "10 cells" in problem.reason


def test_a_damaged_xlsx_is_refused_not_a_500(web):
    wb = Workbook()
    wb.active.append(HEADER)
    buf = io.BytesIO()
    wb.save(buf)
    damaged = buf.getvalue()[: len(buf.getvalue()) // 2]
    assert refused(damaged, "gate.xlsx").code == "import_binary"
    assert "not a readable XLSX" in page_refused(web, damaged, "gate.xlsx")


# --- the uploaded files ------------------------------------------------------------------

def test_uploaded_files_are_readable_by_mawa_alone(web, settings):
    token = upload(web, csv_bytes())
    for suffix in (".bin", ".json"):
        mode = stat.S_IMODE((settings.VAR_DIR / "imports" / f"{token}{suffix}").stat().st_mode)
        assert mode == 0o600, oct(mode)


def test_purge_removes_uploads_after_their_retention(web, settings):
    from mawa.protection.retention import purge_run

    old = upload(web, csv_bytes())
    fresh = upload(web, csv_bytes(newline="\r\n"))
    store = settings.VAR_DIR / "imports"
    past = time.time() - settings.MAWA_IMPORT_FILE_SECONDS - 60
    for suffix in (".bin", ".json"):
        os.utime(store / f"{old}{suffix}", (past, past))
    counts = purge_run(now=timezone.now())
    assert counts["files"]["import_files"] == 1
    assert not (store / f"{old}.bin").exists() and not (store / f"{old}.json").exists()
    assert (store / f"{fresh}.bin").exists() and (store / f"{fresh}.json").exists()
    later = purge_run(now=timezone.now() + dt.timedelta(
        seconds=settings.MAWA_IMPORT_FILE_SECONDS + 60))
    assert later["files"]["import_files"] == 1 and not (store / f"{fresh}.bin").exists()


def test_the_preview_of_a_purged_or_imported_upload_is_a_page_not_a_500(web, settings):
    response, token = preview(web, csv_bytes())
    (settings.VAR_DIR / "imports" / f"{token}.bin").unlink()
    again = web.get(reverse("reception:import_preview", args=[token]))
    assert again.status_code == 400 and "no longer kept" in again.content.decode()
