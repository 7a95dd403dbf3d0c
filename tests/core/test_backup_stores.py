"""Backups bring everything back (issue 20, item 3): the database, every file store (the
compartment's evidence, photos and scans under MEDIA_ROOT, the stored reports) and the keys;
restored on a clean machine (a new, empty MAWA_VAR_DIR), `mawa verify` and `mawa
evidence-fixity` hold. A missing evidence file is reported as missing, not as a mismatch."""

from __future__ import annotations

import io
import shutil
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mawa.accountability import crypto
from mawa.accountability import services as evidence_services
from mawa.accountability.models import EvidenceItem
from mawa.accounts.roles import Role
from mawa.core import backup
from mawa.reports.services import reports_dir

PASSPHRASE = "the rehearsal's passphrase, 16+ characters"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x9a\xa0"
       b"\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def _machine(settings, var):
    """Point this process at the installation directory ``var`` (MAWA_VAR_DIR)."""
    settings.VAR_DIR = var
    settings.KEY_DIR = var / "keys"
    settings.MEDIA_ROOT = var / "files"
    crypto.cache_clear()


@pytest.fixture
def old_machine(settings, tmp_path):
    _machine(settings, tmp_path / "old")
    yield tmp_path / "old"
    crypto.cache_clear()


def _evidence(users, sites, texts):
    investigator = users[Role.INVESTIGATOR]
    event = evidence_services.event_create(actor=investigator, site=sites["HQ"],
                                           client_key=uuid.uuid4(), title="Convoy at dawn")
    return [evidence_services.evidence_add(actor=investigator, event=event,
                                           client_key=uuid.uuid4(), name=name, data=data)
            for name, data in texts]


def _store_contents(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_on_a_clean_machine_brings_back_every_file(
        old_machine, settings, tmp_path, users, sites):
    items = _evidence(users, sites, [("statement.txt", b"The convoy left at dawn.\n"),
                                     ("school.png", PNG)])
    photo = settings.MEDIA_ROOT / "reception" / "photos" / "2026" / "11" / "karam.png"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(PNG)
    report = reports_dir() / "sitrep-2026-11-26-ALL-en.pdf"
    report.parent.mkdir(parents=True)
    report.write_bytes(b"%PDF-1.7 the day's report")
    (old_machine / "secret_key").write_text("the installation's Django secret key")
    evidence_before = _store_contents(evidence_services.evidence_dir())
    assert len(evidence_before) == 2

    archive, escrow = tmp_path / "mawa.tar.enc", tmp_path / "escrow.json"
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    call_command("backup", str(archive), stdout=io.StringIO())
    call_command("keys", "export-escrow", str(escrow), passphrase_file=str(passphrase),
                 stdout=io.StringIO())
    assert b"The convoy left at dawn" not in archive.read_bytes()

    # the laptop is gone: a clean machine with nothing but the archive and the escrow
    shutil.rmtree(old_machine)
    _machine(settings, tmp_path / "new")
    out = io.StringIO()
    call_command("restore", str(archive), escrow=str(escrow), passphrase_file=str(passphrase),
                 stdout=out)
    assert "ledger verified" in out.getvalue()

    assert _store_contents(evidence_services.evidence_dir()) == evidence_before
    assert (settings.MEDIA_ROOT / "reception" / "photos" / "2026" / "11"
            / "karam.png").read_bytes() == PNG
    assert (reports_dir() / report.name).read_bytes() == b"%PDF-1.7 the day's report"
    # the recovery codes are keyed with it: without it no one could use theirs
    assert (settings.VAR_DIR / "secret_key").read_text() == "the installation's Django secret key"
    assert (settings.VAR_DIR / "secret_key").stat().st_mode & 0o777 == 0o600
    stored = evidence_services._store_path(items[0].storage_name)
    assert stored.stat().st_mode & 0o777 == 0o400  # the original stays read-only

    fixity = io.StringIO()
    call_command("evidence-fixity", stdout=fixity)
    assert "2 of 2 evidence files hold their intake hash" in fixity.getvalue()
    verified = io.StringIO()
    call_command("verify", stdout=verified)
    assert "ledger verified" in verified.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_store_nested_in_media_is_archived_once(old_machine, tmp_path, users, sites):
    _evidence(users, sites, [("statement.txt", b"one\n")])
    archive = tmp_path / "mawa.tar.enc"
    manifest = backup.backup_create(archive)
    evidence_names = [n for n in manifest["files"] if "/" in n and n.split("/")[1] == "evidence"]
    assert len(evidence_names) == 1
    assert not any(n.startswith("stores/media/evidence/") for n in manifest["files"])
    assert manifest["stores"]["evidence"] == 1


@pytest.mark.django_db
def test_fixity_says_missing_for_a_missing_file_and_mismatch_for_other_bytes(
        old_machine, users, sites):
    gone, altered = _evidence(users, sites, [("a.txt", b"first statement\n"),
                                             ("b.txt", b"second statement\n")])
    evidence_services._store_path(gone.storage_name).unlink()
    path = evidence_services._store_path(altered.storage_name)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    results = {r["code"]: r["result"] for r in evidence_services.evidence_fixity_check()}
    assert results == {gone.short_code: "missing", altered.short_code: "mismatch"}
    assert EvidenceItem.objects.get(pk=gone.pk).fixity_ok is False

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("evidence-fixity", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any(ln.startswith(f"MISSING {gone.short_code}") and "not in the evidence store" in ln
               for ln in lines)
    assert any(ln.startswith(f"MISMATCH {altered.short_code}") for ln in lines)


def test_restore_alone_says_in_one_line_what_it_needs(tmp_path, settings):
    """`mawa restore FILE.tar` on a clean machine: one line naming the escrow option."""
    settings.KEY_DIR = tmp_path / "keys"
    source = tmp_path / "x.tar.enc"
    key = backup.backup_key(create=True)
    plain = tmp_path / "x.tar"
    plain.write_bytes(b"\0" * 1024)
    backup._encrypt_file(plain, source, key)
    with pytest.raises(CommandError) as err:
        call_command("restore", str(source))
    message = str(err.value)
    assert "\n" not in message and "--escrow" in message and "passphrase" in message
