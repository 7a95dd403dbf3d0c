"""A known sentence of an evidence file, and of its description, is nowhere in clear: not in
the database file, its WAL, a ``mawa backup`` archive or the evidence file store
(protection.md R10, attack test 15)."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from mawa.accountability import crypto, services

from .conftest import SENTENCE

pytestmark = pytest.mark.django_db(transaction=True)


def _files_under(path: Path):
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_a_known_sentence_is_not_found_anywhere_on_disk(event, investigator, tmp_path,
                                                        settings):
    pdf = (b"%PDF-1.4\n1 0 obj<<>>stream\nBT (" + SENTENCE.encode() + b") Tj ET\nendstream\n"
           b"endobj\n%%EOF\n")
    item = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                 name="statement.pdf", data=pdf, description=SENTENCE,
                                 original_location=SENTENCE)
    services.evidence_read(actor=investigator, item=item)
    needles = [SENTENCE.encode(), SENTENCE.encode("utf-16-le"), b"44th Brigade left the school"]

    candidates = _files_under(services.evidence_dir())
    if connection.vendor == "sqlite":
        db = Path(settings.DATABASES["default"]["NAME"])
        wal = Path(f"{db}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # the rows are in the WAL now
        for path in (db, wal):
            for needle in needles:
                assert needle not in path.read_bytes(), f"plaintext found in {path}"
        connection.close()  # SQLite checkpoints the WAL into the file: look again
        candidates += [p for p in (db, wal) if p.exists()]
    from mawa.core.backup import backup_create

    archive = tmp_path / "backup.tar"
    backup_create(archive)
    candidates.append(archive)
    assert len(candidates) >= 2
    for path in candidates:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"plaintext found in {path}"
    # the key travels in the backup as a .pem with the signing keys (core.backup picks *.pem)
    import tarfile

    from mawa.core.backup import BACKUP_KEY_FILE, backup_open

    escrow = {BACKUP_KEY_FILE: (Path(settings.KEY_DIR) / BACKUP_KEY_FILE).read_bytes()}
    with tarfile.open(backup_open(archive, tmp_path, escrow=escrow)) as tar:
        assert f"keys/{crypto.KEK_FILE}" in tar.getnames()
    # and the plaintext is still there for the investigator
    assert services.evidence_read(actor=investigator, item=item) == pdf


def test_the_key_file_is_private(event, investigator):
    services.event_create(actor=investigator, site=event.site, client_key=uuid.uuid4(),
                          title="t")
    path = Path(settings.KEY_DIR) / crypto.KEK_FILE
    assert path.stat().st_mode & 0o777 == 0o600
