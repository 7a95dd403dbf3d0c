"""A damaged database (issue 20, item 4): bytes flipped in the middle of an SQLite file.

`mawa backup` refuses it (exit 3, nothing written), `mawa verify` says so in one line in the
operator's language and exits 3 (1 stays "the ledger does not hold"), `/healthz` answers 503
with a JSON status, and pages (sign-in) answer the translated database page, not a bare 500.

SQLite only: the damage is done to the database file, which PostgreSQL keeps to itself.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from mawa.core import health

MAWA = str(Path(sys.executable).with_name("mawa"))

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="flips bytes in an SQLite database file; PostgreSQL keeps its files to itself")


def _damaged_copy(source: str, target: Path) -> Path:
    """A standalone copy of the SQLite database ``source`` with the middle half of its bytes
    flipped (compacted first, so that the middle holds live pages, not free ones)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    dst.create_function("REGEXP", 2, lambda pattern, value: value is not None
                        and re.search(pattern, str(value)) is not None)
    with dst:
        src.backup(dst)
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.execute("VACUUM")
    src.close()
    dst.close()
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    for i in range(middle - len(data) // 4, middle + len(data) // 4):
        data[i] ^= 0xA5
    target.write_bytes(bytes(data))
    return target


@pytest.fixture
def damaged(transactional_db, users, tmp_path):
    """Django's connection on a damaged copy of the test database (with the cast's rows)."""
    source = str(connection.settings_dict["NAME"])
    copy = _damaged_copy(source, tmp_path / "mawa.sqlite3")
    connection.close()
    connection.settings_dict["NAME"] = str(copy)
    health.database_health_forget()
    try:
        yield copy
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source
        health.database_health_forget()


def test_the_quick_check_finds_the_damage(damaged):
    problem = health.database_check()
    assert problem is not None and problem.kind == "damaged"


def test_backup_of_a_damaged_database_is_refused_and_nothing_is_written(damaged, tmp_path,
                                                                         settings):
    settings.KEY_DIR = tmp_path / "keys"
    archive = tmp_path / "b.tar.enc"
    with pytest.raises(CommandError) as err:
        call_command("backup", str(archive), stdout=io.StringIO())
    assert err.value.returncode == 3
    assert "damaged" in str(err.value) and "no backup was written" in str(err.value)
    assert not archive.exists() and not list(tmp_path.glob("b.tar.enc*"))


def test_healthz_answers_503_with_a_json_status(damaged):
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "damaged"}


def test_sign_in_answers_the_translated_database_page(damaged):
    client = Client(raise_request_exception=False)
    for language, words, direction in (("ar", "قاعدة البيانات", 'dir="rtl"'),
                                       ("en", "cannot read its database", 'dir="ltr"')):
        client.cookies["django_language"] = language
        response = client.post("/accounts/login/", {"username": "reception",
                                                    "password": "correct horse battery"})
        body = response.content.decode()
        assert response.status_code == 503, body[:300]
        assert words in body and direction in body
        assert 'data-error-code="database_unavailable"' in body
        assert "Traceback" not in body


def _verify(var: Path, language: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "LANG")}
    env.update(MAWA_VAR_DIR=str(var), MAWA_LANGUAGE=language)
    return subprocess.run([MAWA, "verify"], env=env, capture_output=True, text=True,
                          timeout=300)


def test_verify_on_a_damaged_database_exits_3_with_one_line(damaged, tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    damaged.replace(var / "mawa.sqlite3")
    for language, words in (("en", "The database is damaged"), ("ar", "قاعدة البيانات")):
        result = _verify(var, language)
        assert result.returncode == 3, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], result.stderr
        assert "Traceback" not in result.stderr + result.stdout
