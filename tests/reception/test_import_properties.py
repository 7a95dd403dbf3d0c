"""Property-based: whatever bytes arrive as an import file — random bytes, or CSV written in
any dialect (separator, quoting, line ending, encoding) — the reading refuses them with
``ImportRefused`` or reads them back exactly; the preview answers a page (never a 500); the
command ends with its message and exit code 2 (never a traceback), and a refused file writes
nothing."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mawa.accounts.roles import Role
from mawa.reception import imports, views_import
from mawa.reception.models import Person

SMALL = settings(max_examples=50, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
HEADER = ["given_ar", "given_lat", "family_ar", "sex", "birth", "service_number"]
# cells that exercise the dialects: separators, quotes, spaces inside, both scripts, empty
CELLS = ["محمد", "علي", "الحلبي", "Mohammed", "Ali", "al-Halabi", "Ali, Jr.", 'say "hi"',
         "a;b", "tab\there", "male", "m", "1990-03-15", "1985", "A-1", "B-7", ""]
DIALECT = st.fixed_dictionaries({
    "delimiter": st.sampled_from([",", ";", "\t"]),
    "quoting": st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    "lineterminator": st.sampled_from(["\n", "\r\n", "\r"]),
})
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1256"])
ROWS = st.lists(st.lists(st.sampled_from(CELLS), min_size=len(HEADER), max_size=len(HEADER)),
                min_size=1, max_size=6)
# a few bytes that matter, often: line ends, quotes, separators, NUL, marks, high bytes
BYTES = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b'"', b",", b";", b"\t", b"\x00", b"a",
                              b"\xef\xbb\xbf", b"\xff\xfe", b"\xd9\x85", b"\xe3", b"\xc7",
                              b"\xf1", b"PK\x03\x04", b"given_ar,family_ar\n", b" "]),
             max_size=120).map(b"".join))


def written(rows, dialect, encoding) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, **dialect).writerows([HEADER, *rows])
    return buf.getvalue().encode(encoding)


def read_or_refuse(data: bytes, name: str = "gate.csv"):
    try:
        return imports.table_read(data, name)
    except imports.ImportRefused as exc:
        assert str(exc.message) and "\n" not in str(exc.message)
        return None


@SMALL
@given(data=BYTES, name=st.sampled_from(["gate.csv", "gate.xlsx", "gate.txt"]))
def test_random_bytes_are_read_or_refused(data, name):
    table = read_or_refuse(data, name)
    if table is not None:
        assert all(isinstance(c, str) for r in [table.headers, *table.rows] for c in r)


@SMALL
@given(rows=ROWS, dialect=DIALECT, encoding=ENCODINGS)
def test_any_dialect_reads_back_what_was_written(rows, dialect, encoding):
    try:
        data = written(rows, dialect, encoding)
    except UnicodeEncodeError:
        return
    table = imports.table_read(data, "gate.csv")
    assert table.headers == HEADER
    assert table.rows == [r for r in rows if any(r)]


@pytest.fixture
def web(client_for, users, monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path

    class Now:
        def __init__(self, target, args, daemon):
            self.target, self.args = target, args

        def start(self):
            self.target(*self.args)

    monkeypatch.setattr(threading, "Thread", Now)
    monkeypatch.setattr(views_import, "close_old_connections", lambda: None)
    return client_for(users[Role.RECEPTION_OFFICER])


def _file(data: bytes, name: str):
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def files():
    return st.one_of(
        st.tuples(BYTES, st.sampled_from(["gate.csv", "gate.xlsx"])),
        st.tuples(st.builds(lambda r, d, e: _encode_or_utf8(r, d, e), ROWS, DIALECT, ENCODINGS),
                  st.just("gate.csv")))


def _encode_or_utf8(rows, dialect, encoding) -> bytes:
    try:
        return written(rows, dialect, encoding)
    except UnicodeEncodeError:
        return written(rows, dialect, "utf-8")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(upload=files())
def test_the_preview_and_import_never_answer_500_nor_write_part(web, upload):
    data, name = upload
    before = Person.objects.count()
    response = web.post(reverse("reception:import_upload"), {"file": _file(data, name)},
                        format="multipart")
    if response.status_code != 302:  # refused at the upload (empty file)
        assert response.status_code == 200
        return
    url = response["Location"]
    assert web.get(url).status_code in (200, 400)
    committed = web.post(url, {"commit": "1"})
    assert committed.status_code in (200, 302, 400)
    if committed.status_code != 302:
        assert Person.objects.count() == before


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(upload=files(), check=st.booleans())
def test_the_command_ends_with_a_message_never_a_traceback_nor_part(users, tmp_path, upload,
                                                                      check):
    data, name = upload
    path = tmp_path / name
    path.write_bytes(data)
    before = Person.objects.count()
    out = io.StringIO()
    try:
        call_command("import", "persons", str(path), user="reception_officer", site="RHM",
                     check=check, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        assert exc.returncode == 2 and "\n" not in str(exc)
        assert Person.objects.count() == before
    else:  # a valid file: written whole (every row it has), or nothing under --check
        rows = int(out.getvalue().split(" rows,", 1)[0])
        assert Person.objects.count() == before + (0 if check else rows)
