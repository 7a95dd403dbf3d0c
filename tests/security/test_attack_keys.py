"""Encryption at rest of backups, the passphrase-encrypted key escrow and field-key rotation
(protection.md R10, attacks 15, 16 and 23)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from mawa.core import backup

pytestmark = pytest.mark.django_db
MAWA = str(Path(sys.executable).with_name("mawa"))
PASSPHRASE = "the head of mission's passphrase"


@pytest.fixture
def passphrase_file(tmp_path):
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


@pytest.fixture
def made_backup(world, tmp_path, passphrase_file):
    archive = tmp_path / "b.tar.enc"
    call_command("backup", str(archive))
    escrow = tmp_path / "escrow.json"
    call_command("keys", "export-escrow", str(escrow), passphrase_file=str(passphrase_file),
                 stdout=io.StringIO())
    return archive, escrow


def _blank_ciphertext(value):
    """The escrow's JSON with every long base64 string (salt, nonce, ciphertext) blanked."""
    if isinstance(value, dict):
        return {k: _blank_ciphertext(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_ciphertext(v) for v in value]
    if isinstance(value, str) and len(value) >= 16 and re.fullmatch(r"[A-Za-z0-9+/=_-]+", value):
        return "<base64>"
    return value


def _key_dir_state() -> dict:
    return {p.name: p.read_bytes() for p in Path(settings.KEY_DIR).iterdir() if p.is_file()}


def test_a_backup_and_its_escrow_hold_no_plaintext(made_backup, tmp_path):
    """Attack 15 / R10: names, serial numbers and the PEM armour of the keys are not found in
    the backup file; the escrow file holds no key, no key's name and no armour in clear and
    is private; with its passphrase it opens to exactly the keys of the installation."""
    archive, escrow = made_backup
    content = archive.read_bytes()
    for needle in (b"Faris", b"Qasim", b"ZZ-000123", b"SQLite format 3", b"BEGIN",
                   b"manifest.json"):
        assert needle not in content, needle
    assert archive.stat().st_mode & 0o777 == 0o600
    assert escrow.stat().st_mode & 0o777 == 0o600
    sealed = escrow.read_bytes()
    for name, data in _key_dir_state().items():
        body = b"".join(ln for ln in data.splitlines() if not ln.startswith(b"-----"))
        for needle in (name.encode(), body, base64.b64encode(data), data.hex().encode()):
            assert needle not in sealed, name
    # names and armour in clear: searched in the escrow's structure with its ciphertext
    # (base64) values blanked, as a short needle such as "kek" turns up in random base64
    # about once in a hundred files
    clear = json.dumps(_blank_ciphertext(json.loads(sealed))).encode()
    assert len(clear) < len(sealed) / 2  # the sealed keys were blanked, not the structure
    for needle in (b"BEGIN", b"ed25519", b"backup.key", b"fieldkey", b"kek"):
        assert needle not in clear, needle
    assert json.loads(sealed)["format"] == "mawa-key-escrow-2"
    keys = backup.escrow_read(escrow, passphrase=PASSPHRASE)
    on_disk = {n: d for n, d in _key_dir_state().items()
               if n.endswith((".pem", ".key", ".next"))}
    assert keys == on_disk
    assert backup.BACKUP_KEY_FILE in keys and any(n.endswith(".pem") for n in keys)


def test_restore_needs_the_escrow_and_refuses_wrong_or_altered_files(made_backup, tmp_path,
                                                                     passphrase_file):
    """Attacks 16 and 23: no escrow, another installation's escrow, a flipped byte or a cut
    file → a clean refusal, the database untouched."""
    from mawa.core.ledger import ledger_verify

    archive, escrow = made_backup
    with pytest.raises(CommandError, match="escrow"):
        call_command("restore", str(archive))
    other = dict(backup.escrow_read(escrow, passphrase=PASSPHRASE))
    other[backup.BACKUP_KEY_FILE] = backup._armour(os.urandom(32)).encode()
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(backup.escrow_seal(other, passphrase=PASSPHRASE))
    with pytest.raises(CommandError, match="escrowed backup key"):
        call_command("restore", str(archive), escrow=str(wrong),
                     passphrase_file=str(passphrase_file))
    data = bytearray(archive.read_bytes())
    for name, broken in (("flipped", data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]),
                         ("cut", data[: len(data) // 2]),
                         ("longer", data + b"\0")):
        path = tmp_path / name
        path.write_bytes(bytes(broken))
        with pytest.raises(CommandError, match="escrowed backup key"):
            call_command("restore", str(path), escrow=str(escrow),
                         passphrase_file=str(passphrase_file))
    assert ledger_verify().ok


def test_a_wrong_passphrase_or_an_altered_escrow_is_refused_and_nothing_changes(
        made_backup, tmp_path):
    """Attack 16: a wrong passphrase, a header or a ciphertext byte changed in the escrow →
    one clean error (in the operator's language), the database and the key directory as they
    were; no passphrase at all is refused too."""
    from mawa.core.ledger import ledger_verify
    from mawa.core.models import LedgerEntry

    archive, escrow = made_backup
    entries, keys = LedgerEntry.objects.count(), _key_dir_state()
    wrong = tmp_path / "wrong-passphrase.txt"
    wrong.write_text(PASSPHRASE.upper() + "\n")
    document = json.loads(escrow.read_text())
    header = dict(document, created="2020-01-01T00:00:00+00:00")
    sealed = bytearray(base64.b64decode(document["sealed"]))
    sealed[5] ^= 1
    body = dict(document, sealed=base64.b64encode(bytes(sealed)).decode())
    cheap = dict(document, kdf={**document["kdf"], "n": 1 << 10})
    cases = {"header": header, "body": body, "cheap": cheap}
    for name, doc in cases.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    attempts = [(escrow, wrong, "passphrase is wrong"),
                (tmp_path / "header.json", tmp_path / "passphrase.txt", "passphrase is wrong"),
                (tmp_path / "body.json", tmp_path / "passphrase.txt", "passphrase is wrong"),
                (tmp_path / "cheap.json", tmp_path / "passphrase.txt", "not a Mawa key escrow")]
    for path, phrase, message in attempts:
        with pytest.raises(CommandError, match=message):
            call_command("restore", str(archive), escrow=str(path), passphrase_file=str(phrase))
    with pytest.raises(backup.EscrowInvalid, match="passphrase"):
        backup.backup_restore(archive, escrow=escrow, passphrase=None)
    from django.utils import translation

    with translation.override("ar"), pytest.raises(backup.EscrowInvalid) as refused:
        backup.escrow_read(escrow, passphrase="not the passphrase at all")
    assert str(refused.value.message) != ("The key escrow cannot be opened: the passphrase "
                                          "is wrong or the file was altered.")
    assert any("\u0600" <= ch <= "\u06ff" for ch in str(refused.value.message))
    assert LedgerEntry.objects.count() == entries and _key_dir_state() == keys
    assert ledger_verify().ok


def test_an_escrow_passphrase_is_generated_or_long_enough(db, tmp_path):
    """R10: without --passphrase-file a strong passphrase is generated and printed once (and
    opens the file); a chosen passphrase under 16 characters is refused, no file written."""
    out = io.StringIO()
    escrow = tmp_path / "generated.json"
    call_command("keys", "export-escrow", str(escrow), stdout=out)
    (line,) = [ln for ln in out.getvalue().splitlines() if ln.startswith("Passphrase")]
    generated = line.split(": ", 1)[1]
    assert len(generated) == 35 and generated.count("-") == 5
    assert generated.encode() not in escrow.read_bytes()
    assert backup.BACKUP_KEY_FILE in backup.escrow_read(escrow, passphrase=generated)
    short = tmp_path / "short.txt"
    short.write_text("fifteen chars!!\n")
    with pytest.raises(CommandError, match="at least 16 characters"):
        call_command("keys", "export-escrow", str(tmp_path / "weak.json"),
                     passphrase_file=str(short))
    assert not (tmp_path / "weak.json").exists()


def test_restore_on_a_clean_machine_works_only_with_the_escrow_and_its_passphrase(tmp_path):
    """Attack 23: `mawa backup` on one installation, `mawa restore` on a fresh one (own
    MAWA_VAR_DIR, no keys): refused without the escrow and with a wrong passphrase (nothing
    written), then restored with both; `mawa verify` holds, the field-encrypted second factor
    and the compartment still open. The escrow was made before a rotation of the compartment
    key and the backup after it: the backup's own keys are the ones restored."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE")}

    def run(var, *args, check=True):
        result = subprocess.run([MAWA, *args], env={**env, "MAWA_VAR_DIR": str(var)},
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"mawa {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result

    first, second = tmp_path / "first", tmp_path / "second"
    run(first, "migrate", "--noinput")
    run(first, "shell", "-c", (
        "from mawa.core.ledger import ledger_append, checkpoint_all\n"
        "from mawa.core.models import Site, SiteKind\n"
        "from mawa.accounts.models import User\n"
        "from mawa.accounts import services as s\n"
        "from mawa.accountability import services as acc\n"
        "import time, uuid\n"
        "u = User.objects.create(username='op', role='administrator')\n"
        "sec = s.totp_secret_new()\n"
        "s.totp_enrol_confirm(user=u, secret=sec, code=s.totp_code_at(sec, time.time()))\n"
        "open('" + str(tmp_path / "secret") + "', 'w').write(sec.hex())\n"
        "hq = Site.objects.create(code='HQ', kind=SiteKind.HQ, name_ar='hq', name_en='HQ')\n"
        "inv = User.objects.create(username='inv', role='investigator', all_sites=True)\n"
        "acc.event_create(actor=inv, site=hq, client_key=uuid.uuid4(), title='Title-4711')\n"
        "[ledger_append(stream='ops', kind='t', payload={'i': i}, site='HQ') for i in range(5)]\n"
        "checkpoint_all()\n"))
    archive, escrow = tmp_path / "b.tar.enc", tmp_path / "escrow.json"
    exported = run(first, "keys", "export-escrow", str(escrow)).stdout
    passphrase = next(ln.split(": ", 1)[1] for ln in exported.splitlines()
                      if ln.startswith("Passphrase"))
    (tmp_path / "passphrase").write_text(passphrase + "\n")
    (tmp_path / "wrong").write_text(passphrase.lower() + "\n")
    old_kek = (first / "keys" / "accountability.kek.pem").read_bytes()
    run(first, "evidence-rotate-kek")
    new_kek = (first / "keys" / "accountability.kek.pem").read_bytes()
    assert new_kek != old_kek
    run(first, "backup", str(archive))

    refused = run(second, "restore", str(archive), check=False)
    assert refused.returncode != 0 and "escrow" in refused.stderr
    refused = run(second, "restore", str(archive), "--escrow", str(escrow),
                  "--passphrase-file", str(tmp_path / "wrong"), check=False)
    assert refused.returncode != 0 and "passphrase is wrong" in refused.stderr
    assert not (second / "mawa.sqlite3").exists()
    assert not (second / "keys").exists() or not list((second / "keys").iterdir())
    restored = run(second, "restore", str(archive), "--escrow", str(escrow),
                   "--passphrase-file", str(tmp_path / "passphrase"))
    assert "ledger verified" in restored.stdout
    assert "ledger verified" in run(second, "verify").stdout
    assert (second / "keys" / backup.BACKUP_KEY_FILE).exists()
    assert (second / "keys" / "accountability.kek.pem").read_bytes() == new_kek
    secret = (tmp_path / "secret").read_text()
    opened = run(second, "shell", "-c", (
        "from mawa.accounts.models import TOTPDevice\n"
        "from mawa.core.crypto import decrypt_text\n"
        "from mawa.accountability.models import Event\n"
        "d = TOTPDevice.objects.get()\n"
        "print(Event.objects.get().title)\n"
        "print(decrypt_text('accounts', d.secret_encrypted, context=f'accounts.totp:{d.user_id}'))"
    ))
    assert opened.stdout.strip().splitlines()[-2:] == ["Title-4711", secret]


def _enrol(user):
    from mawa.accounts import services

    secret = services.totp_secret_new()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, time.time()))
    return secret


def test_field_key_rotation_re_encrypts_every_value(users):
    """R10: `mawa keys rotate-field-key accounts` re-encrypts every TOTP secret under a new
    key; the old key is retired (no longer a .pem, so out of backups); codes still verify."""
    from mawa.accounts import services
    from mawa.accounts.models import TOTPDevice
    from mawa.accounts.roles import Role

    user = users[Role.INVESTIGATOR]
    secret = _enrol(user)
    before = TOTPDevice.objects.get(user=user).secret_encrypted
    key_path = Path(settings.KEY_DIR) / "accounts.fieldkey.pem"
    old_key = key_path.read_bytes()
    call_command("keys", "rotate-field-key", "accounts")
    assert key_path.read_bytes() != old_key
    assert list(Path(settings.KEY_DIR).glob("accounts.fieldkey.retired-*"))
    assert TOTPDevice.objects.get(user=user).secret_encrypted != before
    assert services.totp_verify(user=user,
                                code=services.totp_code_at(secret, time.time() + 30))


def test_a_rotation_stopped_after_its_commit_still_reads_and_finishes(users, monkeypatch):
    """Attack 21 for keys: the machine stops between the commit and the swap of the key
    files; the values still open (with the pending key) and a second run finishes."""
    from mawa.accounts.models import TOTPDevice
    from mawa.accounts.roles import Role
    from mawa.core import crypto, keyrotation

    user = users[Role.AUDITOR]
    secret = _enrol(user)

    def power_cut(*args):
        raise OSError("power cut")

    monkeypatch.setattr(keyrotation.os, "replace", power_cut)
    with pytest.raises(OSError):
        keyrotation.field_key_rotate(purpose="accounts")
    monkeypatch.undo()
    device = TOTPDevice.objects.get(user=user)
    context = f"accounts.totp:{user.pk}"
    assert crypto.decrypt_text("accounts", device.secret_encrypted,
                               context=context) == secret.hex()
    assert keyrotation.field_key_rotate(purpose="accounts") == 0
    assert not keyrotation.next_key_path("accounts").exists()
    assert crypto.decrypt_text("accounts", TOTPDevice.objects.get(user=user).secret_encrypted,
                               context=context) == secret.hex()


def test_rotating_an_unknown_purpose_is_refused(db):
    """R10: a purpose without registered fields is refused, nothing changed."""
    with pytest.raises(CommandError, match="rotation_refused"):
        call_command("keys", "rotate-field-key", "nothing-" + uuid.uuid4().hex[:6])
