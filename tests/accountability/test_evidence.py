import hashlib
import uuid

import pytest

from mawa.accountability import crypto, services
from mawa.accountability.models import EvidenceItem
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.models import LedgerEntry

from .conftest import SENTENCE, png_bytes


def kinds(stream):
    return list(LedgerEntry.objects.filter(stream=stream).order_by("seq")
                .values_list("kind", flat=True))


def test_intake_hashes_the_file_and_opens_its_chain_of_custody(evidence):
    assert evidence.sha256 == hashlib.sha256((SENTENCE + "\n").encode()).hexdigest()
    assert kinds(evidence.stream) == ["evidence.received"]
    entry = LedgerEntry.objects.get(stream=evidence.stream)
    assert evidence.sha256 in entry.payload and SENTENCE not in entry.payload


def test_the_stored_file_is_encrypted_and_read_only(evidence):
    path = services._store_path(evidence.storage_name)
    stored = path.read_bytes()
    assert SENTENCE.encode() not in stored and stored.startswith(crypto.FILE_MAGIC)
    assert path.stat().st_mode & 0o777 == 0o400


def test_a_download_is_on_the_chain_of_custody(evidence, investigator):
    data = services.evidence_read(actor=investigator, item=evidence, purpose="download")
    assert data == (SENTENCE + "\n").encode()
    assert kinds(evidence.stream)[-1] == "evidence.download"


def test_other_roles_cannot_read_evidence(evidence, users):
    from mawa.accounts.roles import Role

    for role in Role:
        if role == Role.INVESTIGATOR:
            continue
        with pytest.raises(NotFound):
            services.evidence_read(actor=users[role], item=evidence)


def test_a_working_copy_keeps_its_lineage(evidence, investigator, event):
    copy = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                 name="redacted.png", data=png_bytes(), derived_from=evidence,
                                 derivation="redacted")
    assert copy.derived_from == evidence
    assert kinds(evidence.stream)[-1] == "evidence.copied"
    original = EvidenceItem.objects.get(pk=evidence.pk)
    assert original.sha256 == evidence.sha256


def test_a_retried_upload_returns_the_first_item(event, investigator):
    key = uuid.uuid4()
    a = services.evidence_add(actor=investigator, event=event, client_key=key, name="a.png",
                              data=png_bytes())
    b = services.evidence_add(actor=investigator, event=event, client_key=key, name="a.png",
                              data=png_bytes())
    assert a.pk == b.pk and EvidenceItem.objects.count() == 1


@pytest.mark.parametrize(("name", "data", "code"), [
    ("photo.png", b"%PDF-1.7 not a png", "evidence_type_mismatch"),
    ("report.pdf", b"\x89PNG\r\n\x1a\n", "evidence_type_mismatch"),
    ("../../etc/passwd.txt", b"hello", "evidence_path_traversal"),
    ("..\\evil.txt", b"hello", "evidence_path_traversal"),
    ("script.svg", b"<svg onload=alert(1)>", "evidence_type_not_allowed"),
    ("empty.txt", b"", "evidence_empty"),
    ("binary.txt", b"\x00\x01\x02", "evidence_type_mismatch"),
])
def test_bad_files_are_refused_precisely_and_the_attempt_recorded(event, investigator, name,
                                                                   data, code):
    with pytest.raises(ValidationFailed) as exc:
        services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                              name=name, data=data)
    assert exc.value.code == code
    assert not EvidenceItem.objects.exists()
    refusal = LedgerEntry.objects.filter(stream="audit", kind="audit.evidence.refused").get()
    assert code.removeprefix("evidence_") in refusal.payload


def _zip(members, compression=None):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression or zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused(event, investigator):
    bomb = _zip([("zeros.bin", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed) as exc:
        services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                              name="photos.zip", data=bomb)
    assert exc.value.code == "evidence_zip_bomb"


def test_a_zip_with_a_traversal_member_is_refused(event, investigator):
    evil = _zip([("../../outside.txt", b"x")])
    with pytest.raises(ValidationFailed) as exc:
        services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                              name="photos.zip", data=evil)
    assert exc.value.code == "evidence_path_traversal"


def test_an_ordinary_zip_is_accepted(event, investigator):
    ok = _zip([("a.txt", b"hello " * 100), ("b.png", png_bytes())])
    item = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                 name="photos.zip", data=ok)
    assert item.kind == "archive"


def test_fixity_holds_then_reports_an_altered_file_and_keeps_it(evidence, investigator):
    assert [r["ok"] for r in services.evidence_fixity_check()] == [True]
    path = services._store_path(evidence.storage_name)
    path.chmod(0o600)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01
    path.write_bytes(bytes(raw))
    results = services.evidence_fixity_check()
    assert results == [{"evidence": str(evidence.id), "code": evidence.short_code, "ok": False,
                        "result": "mismatch"}]
    assert path.exists()
    assert kinds(evidence.stream)[-1] == "evidence.fixity"
    assert '"result":"mismatch"' in LedgerEntry.objects.filter(
        stream=evidence.stream).order_by("-seq").first().payload
    assert EvidenceItem.objects.get(pk=evidence.pk).fixity_ok is False
    with pytest.raises(crypto.FileCorrupt):
        services.evidence_read(actor=investigator, item=evidence)


def test_fixity_command_exits_1_on_a_mismatch(evidence):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("evidence-fixity")
    path = services._store_path(evidence.storage_name)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CommandError):
        call_command("evidence-fixity")


def test_a_wrong_key_fails_closed(evidence, settings, tmp_path):
    crypto._cache.clear()
    settings.KEY_DIR = tmp_path / "otherkeys"
    with pytest.raises(crypto.CompartmentKeyError):
        EvidenceItem.objects.get(pk=evidence.pk)
    crypto._cache.clear()


def test_large_files_are_chunked_and_round_trip(event, investigator):
    data = b"ID3" + bytes(range(256)) * (9 * 1024)  # ~2.3 MB: three chunks
    item = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                 name="interview.mp3", data=data)
    assert services.evidence_read(actor=investigator, item=item) == data
