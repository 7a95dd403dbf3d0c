"""Rotation of the compartment's key-encryption key, `mawa evidence-rotate-kek` (protection.md
R10; attack 16 for a wrong key, attack 21 for a stop in the middle)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.db.models.functions import Cast

from mawa.accountability import crypto, keyrotation, services
from mawa.accountability.models import CompartmentKey, Event, EvidenceItem
from mawa.core.models import LedgerEntry

from .conftest import SENTENCE, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_key_dir(settings, tmp_path):
    """A key directory per test: a rotation replaces the key file, rows are rolled back."""
    settings.KEY_DIR = tmp_path / "keys"
    crypto.cache_clear()
    yield
    crypto.cache_clear()


@pytest.fixture
def two_items(evidence, event, investigator, act):
    photo = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                  name="school.png", data=png_bytes(), description=SENTENCE)
    return [evidence, photo]


def _kek_file() -> Path:
    return crypto._kek_path()


def _raw_tokens() -> dict:
    """Every stored text token and wrapped key, as in the database (not decrypted)."""
    out = {}
    for model, name in keyrotation._encrypted_fields():
        rows = (model.objects.exclude(**{name: ""})
                .annotate(_t=Cast(name, output_field=models.TextField()))
                .values_list("pk", "_t"))
        out.update({(model._meta.label, name, pk): token for pk, token in rows})
    out.update({("wrapped", pk): w for pk, w in
                EvidenceItem.objects.values_list("pk", "wrapped_key")})
    return out


def _stored_files() -> dict:
    return {item.pk: services._store_path(item.storage_name).read_bytes()
            for item in EvidenceItem.objects.all()}


def _all_readable(investigator, items) -> None:
    for item in items:
        fresh = EvidenceItem.objects.get(pk=item.pk)
        assert hashlib.sha256(services.evidence_read(actor=investigator, item=fresh)) \
            .hexdigest() == item.sha256
        assert fresh.description == item.description
    assert Event.objects.get(pk=items[0].event_id).description == SENTENCE


def _rotations():
    return LedgerEntry.objects.filter(stream="audit", kind="audit.compartment_kek_rotated")


def test_rotation_rewraps_every_key_and_leaves_the_files_alone(two_items, investigator):
    """R10: a new KEK; every data key re-wrapped and every text re-encrypted under it, the
    evidence files byte for byte as they were; fixity holds; the old key is retired (no longer
    a .pem) and opens none of the new wraps; the ledger records key ids only."""
    old = crypto.read_key_file(_kek_file())
    old_file = _kek_file().read_bytes()
    tokens, files = _raw_tokens(), _stored_files()
    out = io.StringIO()
    call_command("evidence-rotate-kek", stdout=out)

    new = crypto.read_key_file(_kek_file())
    assert new != old
    retired = list(_kek_file().parent.glob(keyrotation.RETIRED_PREFIX + "*"))
    assert [p.read_bytes() for p in retired] == [old_file]
    assert retired[0].stat().st_mode & 0o777 == 0o600
    assert not crypto.next_kek_path().exists()
    assert CompartmentKey.objects.get().key_id == crypto.key_id_of(new)
    after = _raw_tokens()
    assert set(after) == set(tokens) and len(tokens) > 10
    assert all(after[k] != tokens[k] for k in tokens)  # every value under the new key
    assert _stored_files() == files  # no file was rewritten
    for item in two_items:
        wrapped = EvidenceItem.objects.get(pk=item.pk).wrapped_key
        with pytest.raises(crypto.CompartmentKeyError):
            crypto.data_key_unwrap(wrapped, item_id=str(item.pk), master=old)
    _all_readable(investigator, two_items)
    fixity = io.StringIO()
    call_command("evidence-fixity", stdout=fixity)
    assert "2 of 2 evidence files hold their intake hash" in fixity.getvalue()

    (entry,) = _rotations()
    payload = json.loads(entry.payload)
    assert payload["detail"] == {"old_key_id": crypto.key_id_of(old),
                                 "new_key_id": crypto.key_id_of(new)}
    for key in (old, new):
        assert base64.b64encode(key).decode() not in entry.payload
        assert key.hex() not in entry.payload
    assert crypto.key_id_of(new) in out.getvalue()


def test_a_failure_mid_way_rolls_back_and_every_file_stays_readable(two_items, investigator,
                                                                    monkeypatch):
    """Attack 21 for keys: the rotation fails after the first data key was re-wrapped; the
    transaction rolls back, the old KEK stays in place, every file and text opens, fixity
    holds, nothing is on the ledger; running it again completes with the pending key."""
    old_file = _kek_file().read_bytes()
    tokens = _raw_tokens()
    real_wrap = crypto.data_key_wrap
    calls = []

    def failing_wrap(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_wrap(*args, **kwargs)

    monkeypatch.setattr(crypto, "data_key_wrap", failing_wrap)
    with pytest.raises(OSError):
        keyrotation.kek_rotate()
    monkeypatch.undo()
    assert len(calls) == 2  # the first item had been re-wrapped when it failed
    assert _kek_file().read_bytes() == old_file
    assert _raw_tokens() == tokens
    assert CompartmentKey.objects.get().key_id == crypto.key_id_of(
        crypto.read_key_file(_kek_file()))
    assert not _rotations().exists()
    crypto.cache_clear()
    _all_readable(investigator, two_items)
    call_command("evidence-fixity", stdout=io.StringIO())

    pending = crypto.read_key_file(crypto.next_kek_path())
    done = keyrotation.kek_rotate()
    assert done.new_key_id == crypto.key_id_of(pending)
    assert crypto.read_key_file(_kek_file()) == pending
    _all_readable(investigator, two_items)


@pytest.mark.parametrize("renames_done", [0, 1])
def test_a_stop_between_commit_and_swap_still_reads_and_a_second_run_finishes(
        two_items, investigator, monkeypatch, tmp_path, renames_done):
    """Attack 21 for keys: the machine stops after the commit, before the key files are
    swapped (or between the two renames): everything still opens (with the pending key, whose
    id the database records), a backup made meanwhile carries that key; a second run only
    finishes the swap, and the rotation is on the ledger once."""
    import tarfile

    from mawa.core import backup

    real_replace = keyrotation.os.replace
    done_renames = []

    def power_cut(src, dst):
        if len(done_renames) == renames_done:
            raise OSError("power cut")
        done_renames.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(keyrotation.os, "replace", power_cut)
    with pytest.raises(OSError):
        keyrotation.kek_rotate()
    monkeypatch.undo()
    pending = crypto.read_key_file(crypto.next_kek_path())
    assert CompartmentKey.objects.get().key_id == crypto.key_id_of(pending)
    assert _kek_file().exists() == (renames_done == 0)
    crypto.cache_clear()
    _all_readable(investigator, two_items)
    archive = tmp_path / "meanwhile.tar.enc"
    backup.backup_create(archive)
    key = {backup.BACKUP_KEY_FILE: (_kek_file().parent / backup.BACKUP_KEY_FILE).read_bytes()}
    (tmp_path / "open").mkdir()
    with tarfile.open(backup.backup_open(archive, tmp_path / "open", escrow=key)) as tar:
        assert "keys/accountability.kek.next" in tar.getnames()
    assert "accountability.kek.next" in {p.name for p in backup._escrowed_files()}

    done = keyrotation.kek_rotate()
    assert (done.wrapped, done.fields, done.late) == (0, 0, 0)
    assert done.new_key_id == crypto.key_id_of(pending)
    assert crypto.read_key_file(_kek_file()) == pending
    assert not crypto.next_kek_path().exists()
    assert len(list(_kek_file().parent.glob(keyrotation.RETIRED_PREFIX + "*"))) == 1
    assert _rotations().count() == 1
    _all_readable(investigator, two_items)


def test_values_written_with_the_old_key_during_the_swap_are_caught_up(two_items,
                                                                      investigator,
                                                                      monkeypatch):
    """A Mawa process still holding the old key writes between the commit and the swap: the
    second pass re-encrypts that value, so it opens with the new key and nothing is lost."""
    old = crypto.read_key_file(_kek_file())
    event_id = two_items[0].event_id
    real_replace = keyrotation.os.replace
    wrote = []

    def late_writer_then_replace(src, dst):
        if not wrote:
            token = crypto.text_encrypt("Written late", context="accountability.event.title",
                                        master=old)
            Event.objects.filter(pk=event_id).update(
                title=models.Value(token, output_field=models.TextField()))
            wrote.append(token)
        return real_replace(src, dst)

    monkeypatch.setattr(keyrotation.os, "replace", late_writer_then_replace)
    done = keyrotation.kek_rotate()
    monkeypatch.undo()
    assert done.late == 1
    assert Event.objects.get(pk=event_id).title == "Written late"
    token = _raw_tokens()[("accountability.Event", "title", event_id)]
    assert token != wrote[0]
    assert crypto.text_decrypt(token, context="accountability.event.title",
                               master=crypto.read_key_file(_kek_file())) == "Written late"


def test_destroy_old_removes_the_old_key_after_everything_opens(two_items, investigator):
    """R10: with --destroy-old the old KEK file is overwritten and deleted after the swap and
    the second pass; the destruction is a second ledger entry; everything opens."""
    old = crypto.read_key_file(_kek_file())
    old_id = crypto.key_id_of(old)
    out = io.StringIO()
    call_command("evidence-rotate-kek", "--destroy-old", stdout=out)
    assert "destroyed" in out.getvalue()
    key_dir = _kek_file().parent
    assert not list(key_dir.glob(keyrotation.RETIRED_PREFIX + "*"))
    encoded = base64.b64encode(old)
    assert all(encoded not in p.read_bytes() for p in key_dir.iterdir())
    destroyed = LedgerEntry.objects.get(stream="audit", kind="audit.compartment_kek_destroyed")
    assert json.loads(destroyed.payload)["detail"] == {"key_id": old_id}
    _all_readable(investigator, two_items)
    call_command("evidence-fixity", stdout=io.StringIO())


def test_a_running_process_picks_up_the_new_key(two_items, investigator, monkeypatch):
    """A long-running process caches the KEK; once the files are swapped it reads the new
    one (its cache follows the file), not the retired one."""
    assert crypto.kek() == crypto.read_key_file(_kek_file())  # cached now
    monkeypatch.setattr(keyrotation.crypto, "cache_clear", lambda: None)  # another process
    keyrotation.kek_rotate()
    monkeypatch.undo()
    assert crypto.kek() == crypto.read_key_file(_kek_file())
    _all_readable(investigator, two_items)


def test_rotation_is_refused_without_a_key_or_with_a_key_that_does_not_fit(db, event):
    """Attack 16: a key file that is not the recorded one is refused before anything is
    written (no pending key left); with no compartment key at all there is nothing to rotate.
    """
    _kek_file().unlink()
    _kek_file().write_text("-----BEGIN MAWA AES-256-GCM KEY-----\n"
                           + base64.b64encode(b"x" * 32).decode()
                           + "\n-----END MAWA AES-256-GCM KEY-----\n")
    crypto.cache_clear()
    with pytest.raises(CommandError, match="key_error"):
        call_command("evidence-rotate-kek", stdout=io.StringIO())
    assert not crypto.next_kek_path().exists()
    assert not list(_kek_file().parent.glob(keyrotation.RETIRED_PREFIX + "*"))

    CompartmentKey.objects.all().delete()
    _kek_file().unlink()
    with pytest.raises(CommandError, match="rotation_refused"):
        call_command("evidence-rotate-kek", stdout=io.StringIO())
