import json
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mawa.core import backup
from mawa.core.backup import backup_open, escrow_read
from mawa.core.ledger import checkpoint_all, ledger_append, ledger_verify

pytestmark = pytest.mark.django_db
PASSPHRASE = "operator's own passphrase, 16+ characters"


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_structured_log_lines_are_json():
    import logging

    from mawa.core.logging import JsonFormatter

    record = logging.LogRecord("mawa", logging.INFO, __file__, 1, "saved %s", ("x",), None)
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "saved x" and data["level"] == "INFO"


def test_backup_contains_database_manifest_and_keys(tmp_path, sites, passphrase_file):
    for i in range(3):
        ledger_append(stream="ops", kind="test", payload={"i": i}, site="RHM")
    checkpoint_all()
    archive = tmp_path / "backup.tar.enc"
    call_command("backup", str(archive))
    escrow = tmp_path / "escrow.json"
    call_command("keys", "export-escrow", str(escrow), passphrase_file=str(passphrase_file))
    # the file is encrypted: a tar only once opened with the escrowed backup key
    assert not tarfile.is_tarfile(archive)
    plain = backup_open(archive, tmp_path, escrow=escrow_read(escrow, passphrase=PASSPHRASE))
    with tarfile.open(plain) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    database = "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump"
    assert database in names and "manifest.json" in names
    assert any(n.startswith("keys/") for n in names)
    assert set(manifest["files"]) == set(names) - {"manifest.json"}


def test_corrupt_backup_is_refused_and_nothing_changes(tmp_path, sites):
    ledger_append(stream="ops", kind="test", payload={"i": 1}, site="RHM")
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"this is not an archive")
    with pytest.raises(CommandError) as err:
        call_command("restore", str(bad))
    assert "not a Mawa backup" in str(err.value)
    assert ledger_verify().ok


def test_a_plain_tar_is_not_restored(tmp_path, sites, passphrase_file):
    """Only encrypted backups are restored: a plain tar in the old layout is refused even with
    the escrow, and the database stays as it was."""
    import io

    ledger_append(stream="ops", kind="test", payload={"i": 1}, site="RHM")
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        data = json.dumps({"format": 1, "database": connection.vendor, "files": {}}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    escrow = tmp_path / "escrow.json"
    call_command("keys", "export-escrow", str(escrow), passphrase_file=str(passphrase_file))
    with pytest.raises(CommandError, match="not a Mawa backup"):
        call_command("restore", str(plain), escrow=str(escrow),
                     passphrase_file=str(passphrase_file))
    assert ledger_verify().ok


def test_altered_backup_member_is_refused(tmp_path, sites, passphrase_file):
    """Defence in depth: a member changed inside a validly encrypted archive (only possible
    with the backup key) fails its hash in the manifest; nothing is restored."""
    import io

    ledger_append(stream="ops", kind="test", payload={"i": 1}, site="RHM")
    archive = tmp_path / "b.tar.enc"
    call_command("backup", str(archive))
    escrow = tmp_path / "escrow.json"
    call_command("keys", "export-escrow", str(escrow), passphrase_file=str(passphrase_file))
    keys = escrow_read(escrow, passphrase=PASSPHRASE)
    # rebuild the opened archive with one byte of the database changed, encrypt it again
    altered = tmp_path / "altered.tar"
    plain = backup_open(archive, tmp_path, escrow=keys)
    with tarfile.open(plain) as src, tarfile.open(altered, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("database"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    sealed = tmp_path / "altered.tar.enc"
    backup._encrypt_file(altered, sealed, backup._unarmour(
        keys[backup.BACKUP_KEY_FILE].decode("ascii")))
    with pytest.raises(CommandError) as err:
        call_command("restore", str(sealed), escrow=str(escrow),
                     passphrase_file=str(passphrase_file))
    assert "does not match its hash" in str(err.value)
    assert ledger_verify().ok
