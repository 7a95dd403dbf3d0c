"""The `mawa` command on a fresh installation directory, as an operator runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MAWA = str(Path(sys.executable).with_name("mawa"))


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    var = tmp_path_factory.mktemp("install") / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE")}
    env["MAWA_VAR_DIR"] = str(var)

    def run(*args, check=True):
        result = subprocess.run([MAWA, *args], env=env, capture_output=True, text=True,
                                timeout=1200)
        if check and result.returncode != 0:
            raise AssertionError(f"mawa {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    # a smaller story than `make run`'s: the command's behaviour, not the demo's size (the
    # full-size demo is tests/reports/test_demo.py's)
    out = run("setup", "--demo-size", "300")
    return {"var": var, "run": run, "setup_output": out.stdout}


def test_setup_loads_the_demo_once_and_shows_the_accounts(installation):
    out = installation["setup_output"]
    for username in ("reception", "custody", "campstaff", "campmanager", "protection",
                     "investigator", "auditor", "admin"):
        assert username in out
    accounts_file = installation["var"] / "demo-accounts.json"
    assert accounts_file.stat().st_mode & 0o777 == 0o600
    accounts = json.loads(accounts_file.read_text())
    again = installation["run"]("demo", "--accounts").stdout
    assert all(a["password"] in again for a in accounts)
    # running setup again keeps the data and the passwords
    installation["run"]("setup")
    assert json.loads(accounts_file.read_text()) == accounts


def test_sqlite_runs_in_wal_mode(installation):
    import sqlite3

    con = sqlite3.connect(installation["var"] / "mawa.sqlite3")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_keys_are_0600_in_a_0700_directory(installation):
    key_dir = installation["var"] / "keys"
    assert key_dir.stat().st_mode & 0o777 == 0o700
    pems = list(key_dir.glob("*.pem"))
    assert pems and all(p.stat().st_mode & 0o777 == 0o600 for p in pems)


def test_verify_backup_restore_verify(installation, tmp_path):
    run = installation["run"]
    assert "ledger verified" in run("verify").stdout
    archive = tmp_path / "b.tar.enc"
    run("backup", str(archive))
    escrow = tmp_path / "escrow.json"
    exported = run("keys", "export-escrow", str(escrow)).stdout
    passphrase = tmp_path / "passphrase"  # the escrow is encrypted with a generated one
    passphrase.write_text(next(ln.split(": ", 1)[1] for ln in exported.splitlines()
                               if ln.startswith("Passphrase")))
    db = installation["var"] / "mawa.sqlite3"
    db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    restored = run("restore", str(archive), "--escrow", str(escrow), "--passphrase-file",
                   str(passphrase))
    assert "ledger verified" in restored.stdout
    assert "reception" in run("demo", "--accounts").stdout


def test_verify_fails_with_exit_1_naming_the_entry_after_tampering(installation, tmp_path):
    import shutil
    import sqlite3

    copy = tmp_path / "copy"
    shutil.copytree(installation["var"], copy)
    con = sqlite3.connect(copy / "mawa.sqlite3")
    con.execute("DROP TRIGGER core_ledgerentry_no_update")
    row = con.execute("SELECT stream, seq FROM core_ledgerentry ORDER BY id LIMIT 1").fetchone()
    con.execute("UPDATE core_ledgerentry SET actor='forged' WHERE stream=? AND seq=?", row)
    con.commit()
    con.close()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE")}
    env["MAWA_VAR_DIR"] = str(copy)
    result = subprocess.run([MAWA, "verify"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert f"{row[0]}#{row[1]}" in result.stderr
