"""The SQLite database encrypted with SQLCipher when a key is configured (protection.md R10,
attacks 15, 16 and 23), run as an operator would: `mawa` in a fresh installation directory."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MAWA = str(Path(sys.executable).with_name("mawa"))
MARKER = "Zebulon-Marker-4711"


def _runner(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE",
                                                              "MAWA_DB_KEY_FILE")}

    def run(var, *args, check=True):
        result = subprocess.run([MAWA, *args], env={**env, "MAWA_VAR_DIR": str(var)},
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"mawa {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result

    return run


@pytest.fixture(scope="module")
def encrypted_install(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("sqlcipher")
    run = _runner(tmp_path)
    var = tmp_path / "var"
    (var / "keys").mkdir(parents=True, mode=0o700)
    key = secrets.token_hex(32)
    (var / "keys" / "database.key").write_text(key + "\n")
    run(var, "migrate", "--noinput")
    run(var, "shell", "-c", (
        "from mawa.accounts.models import User\n"
        "from mawa.core.ledger import ledger_append, checkpoint_all\n"
        f"User.objects.create(username='op', role='auditor', first_name='{MARKER}')\n"
        "[ledger_append(stream='ops', kind='t', payload={'i': i}, site='HQ') for i in range(3)]\n"
        "checkpoint_all()\n"))
    return {"tmp": tmp_path, "var": var, "key": key, "run": run}


def test_the_database_file_and_wal_hold_no_plaintext(encrypted_install):
    """Attack 15 / R10: with a key configured, neither the database file nor its WAL shows
    the SQLite header or a known value."""
    var = encrypted_install["var"]
    db = var / "mawa.sqlite3"
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            content = path.read_bytes()
            assert MARKER.encode() not in content, path
            assert not content.startswith(b"SQLite format 3"), path


def test_without_or_with_a_wrong_key_the_database_does_not_open(encrypted_install):
    """Attack 16: plain SQLite and SQLCipher with a wrong key both fail cleanly."""
    from sqlcipher3 import dbapi2

    db = encrypted_install["var"] / "mawa.sqlite3"
    plain = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError):
        plain.execute("SELECT count(*) FROM sqlite_master").fetchone()
    plain.close()
    wrong = dbapi2.connect(str(db))
    wrong.execute(f"PRAGMA key = \"x'{secrets.token_hex(32)}'\"")
    with pytest.raises(dbapi2.DatabaseError):
        wrong.execute("SELECT count(*) FROM sqlite_master").fetchone()
    wrong.close()
    right = dbapi2.connect(str(db))
    right.execute(f"PRAGMA key = \"x'{encrypted_install['key']}'\"")
    assert right.execute("SELECT first_name FROM accounts_user").fetchone()[0] == MARKER
    right.close()


def test_mawa_works_and_verifies_on_the_encrypted_database(encrypted_install):
    """R10: the application runs on the encrypted database; the ledger verifies."""
    run, var = encrypted_install["run"], encrypted_install["var"]
    assert "ledger verified" in run(var, "verify").stdout


def test_an_encrypted_database_is_restored_on_a_clean_machine_with_the_escrow(
        encrypted_install):
    """Attack 23: backup of the encrypted database, restore on a clean installation with the
    escrow (which carries the database key); then `mawa verify` holds there."""
    run, var, tmp = encrypted_install["run"], encrypted_install["var"], encrypted_install["tmp"]
    archive, escrow = tmp / "b.tar.enc", tmp / "escrow.json"
    run(var, "backup", str(archive))
    run(var, "keys", "export-escrow", str(escrow))
    assert MARKER.encode() not in archive.read_bytes()
    clean = tmp / "clean"
    refused = run(clean, "restore", str(archive), check=False)
    assert refused.returncode != 0
    # the restoring process started without the database key: verify in a new process,
    # which finds the escrowed key in KEY_DIR and opens the database with SQLCipher
    run(clean, "restore", str(archive), "--escrow", str(escrow), "--no-verify")
    assert (clean / "keys" / "database.key").read_text().strip() == encrypted_install["key"]
    assert "ledger verified" in run(clean, "verify").stdout
    assert not (clean / "mawa.sqlite3").read_bytes().startswith(b"SQLite format 3")
