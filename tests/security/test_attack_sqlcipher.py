"""The SQLite database encrypted with SQLCipher when a key is configured (protection.md R10,
attacks 15, 16 and 23), run as an operator would: `mawa` in a fresh installation directory.
`mawa keys create-db-key` for a new installation, `mawa db-encrypt` to convert a plain one."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

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
    made = run(var, "keys", "create-db-key")
    key_file = var / "keys" / "database.key"
    assert str(key_file) in made.stdout
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
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
    exported = run(var, "keys", "export-escrow", str(escrow)).stdout
    (tmp / "passphrase").write_text(next(ln.split(": ", 1)[1] for ln in exported.splitlines()
                                         if ln.startswith("Passphrase")))
    assert MARKER.encode() not in archive.read_bytes()
    assert encrypted_install["key"].encode() not in escrow.read_bytes()
    clean = tmp / "clean"
    refused = run(clean, "restore", str(archive), check=False)
    assert refused.returncode != 0
    # the restoring process started without the database key; it verifies the restored
    # database with the escrowed key, and so does a new process, which finds it in KEY_DIR
    restored = run(clean, "restore", str(archive), "--escrow", str(escrow),
                   "--passphrase-file", str(tmp / "passphrase"))
    assert "ledger verified" in restored.stdout
    assert (clean / "keys" / "database.key").read_text().strip() == encrypted_install["key"]
    assert "ledger verified" in run(clean, "verify").stdout
    assert not (clean / "mawa.sqlite3").read_bytes().startswith(b"SQLite format 3")


def test_a_database_key_is_never_replaced(encrypted_install):
    """Attack 16: `mawa keys create-db-key` on an installation that has a key refuses and
    leaves the key as it was."""
    run, var = encrypted_install["run"], encrypted_install["var"]
    refused = run(var, "keys", "create-db-key", check=False)
    assert refused.returncode == 2 and "never replaced" in refused.stderr
    assert (var / "keys" / "database.key").read_text().strip() == encrypted_install["key"]


# --- converting a plain installation ------------------------------------------------------

@pytest.fixture(scope="module")
def plain_install(tmp_path_factory):
    """A plain SQLite installation with a known value, a ledger and a signed checkpoint."""
    tmp_path = tmp_path_factory.mktemp("plain")
    run = _runner(tmp_path)
    var = tmp_path / "var"
    run(var, "migrate", "--noinput")
    run(var, "shell", "-c", (
        "from mawa.accounts.models import User\n"
        "from mawa.core.ledger import ledger_append, checkpoint_all\n"
        f"User.objects.create(username='op', role='auditor', first_name='{MARKER}')\n"
        "[ledger_append(stream='ops', kind='t', payload={'i': i}, site='HQ') for i in range(3)]\n"
        "checkpoint_all()\n"))
    assert MARKER.encode() in (var / "mawa.sqlite3").read_bytes()
    return {"tmp": tmp_path, "var": var, "run": run}


def _copy(plain_install, name) -> Path:
    var = plain_install["tmp"] / name / "var"
    shutil.copytree(plain_install["var"], var)
    return var


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_plain_database_is_converted_and_mawa_runs_on_it(plain_install):
    """R10, attack 15: `mawa db-encrypt` makes the key and replaces the plain database with an
    encrypted copy that holds none of a known value (nor does anything left beside it); the
    application reads and writes on it and the ledger verifies; a second conversion and a
    new key are refused."""
    run, var = plain_install["run"], _copy(plain_install, "convert")
    refused = run(var, "keys", "create-db-key", check=False)
    assert refused.returncode == 2 and "db-encrypt" in refused.stderr
    assert not (var / "keys" / "database.key").exists()

    converted = run(var, "db-encrypt")
    assert "database encrypted" in converted.stdout
    key_file = var / "keys" / "database.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    db = var / "mawa.sqlite3"
    assert sorted(p.name for p in var.iterdir()) == ["keys", "mawa.sqlite3", "secret_key"]
    content = db.read_bytes()
    assert MARKER.encode() not in content and not content.startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master").fetchone()

    used = run(var, "shell", "-c", (
        "from django.test import Client\n"
        "from mawa.accounts.models import User\n"
        "from mawa.core.ledger import ledger_append, checkpoint_all\n"
        "print(User.objects.get(username='op').first_name)\n"
        "ledger_append(stream='ops', kind='t', payload={'i': 3}, site='HQ')\n"
        "checkpoint_all()\n"
        "r = Client().get('/healthz', HTTP_HOST='localhost')\n"
        "print(r.status_code, r.json()['database'])\n"))
    assert used.stdout.strip().splitlines()[-2:] == [MARKER, "200 sqlite"]
    verified = run(var, "verify").stdout
    assert "4 entries" in verified and "ledger verified" in verified
    for path in var.glob("mawa.sqlite3*"):
        assert MARKER.encode() not in path.read_bytes(), path

    before = _digest(db)
    again = run(var, "db-encrypt", check=False)
    assert again.returncode == 2 and "already encrypted" in again.stderr
    assert _digest(db) == before and key_file.read_text().strip() == key


def test_conversion_is_refused_when_the_new_file_exists(plain_install):
    """`mawa db-encrypt` never overwrites: with mawa.sqlite3.encrypted present (a conversion
    running or interrupted) it refuses; the database, the file and the key directory stay
    as they were."""
    run, var = plain_install["run"], _copy(plain_install, "target-exists")
    target = var / "mawa.sqlite3.encrypted"
    target.write_bytes(b"another conversion")
    before = _digest(var / "mawa.sqlite3")
    refused = run(var, "db-encrypt", check=False)
    assert refused.returncode == 2 and "exists already" in refused.stderr
    assert target.read_bytes() == b"another conversion"
    assert _digest(var / "mawa.sqlite3") == before
    assert not (var / "keys" / "database.key").exists()


def test_a_conversion_whose_ledger_does_not_verify_changes_nothing(plain_install):
    """The converted copy is checked with the verifier before the swap: a ledger entry altered
    in the plain database stops the conversion; the plain database stays, and neither the
    copy nor a key is left behind (the service would otherwise not open the database)."""
    run, var = plain_install["run"], _copy(plain_install, "tampered")
    db = var / "mawa.sqlite3"
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER core_ledgerentry_no_update")
    con.execute("UPDATE core_ledgerentry SET actor='forged' WHERE stream='ops' AND seq=2")
    con.commit()
    con.close()
    before = _digest(db)
    refused = run(var, "db-encrypt", check=False)
    assert refused.returncode == 2 and "does not verify" in refused.stderr
    assert "ops#2" in refused.stderr
    assert _digest(db) == before
    assert sorted(p.name for p in var.iterdir()) == ["keys", "mawa.sqlite3", "secret_key"]
    assert not (var / "keys" / "database.key").exists()


def test_the_database_key_commands_refuse_what_they_cannot_do(db, settings, tmp_path):
    """On PostgreSQL both commands refuse (SQLCipher is for the embedded SQLite database);
    on SQLite a key is not made for a plain database that exists. No key file either way."""
    settings.KEY_DIR = tmp_path / "keys"
    if connection.vendor == "postgresql":
        for command in (("keys", "create-db-key"), ("db-encrypt",)):
            with pytest.raises(CommandError, match="PostgreSQL"):
                call_command(*command)
    else:
        with pytest.raises(CommandError, match="not encrypted"):
            call_command("keys", "create-db-key")
    assert not (tmp_path / "keys" / "database.key").exists()
