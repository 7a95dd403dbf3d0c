"""Encryption at rest of backups, the key escrow and field-key rotation (protection.md R10,
attacks 15, 16 and 23)."""

from __future__ import annotations

import os
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


@pytest.fixture
def made_backup(world, tmp_path):
    archive = tmp_path / "b.tar.enc"
    call_command("backup", str(archive))
    escrow = tmp_path / "escrow.json"
    call_command("keys", "export-escrow", str(escrow))
    return archive, escrow


def test_a_backup_holds_no_plaintext(made_backup, tmp_path):
    """Attack 15 / R10: names, serial numbers and the PEM armour of the keys are not found in
    the backup file; the escrow file is private."""
    archive, escrow = made_backup
    content = archive.read_bytes()
    for needle in (b"Faris", b"Qasim", b"ZZ-000123", b"SQLite format 3", b"BEGIN",
                   b"manifest.json"):
        assert needle not in content, needle
    assert archive.stat().st_mode & 0o777 == 0o600
    assert escrow.stat().st_mode & 0o777 == 0o600
    keys = backup.escrow_read(escrow)
    assert backup.BACKUP_KEY_FILE in keys and any(n.endswith(".pem") for n in keys)


def test_restore_needs_the_escrow_and_refuses_wrong_or_altered_files(made_backup, tmp_path):
    """Attacks 16 and 23: no escrow, another installation's escrow, a flipped byte or a cut
    file → a clean refusal, the database untouched."""
    from mawa.core.ledger import ledger_verify

    archive, escrow = made_backup
    with pytest.raises(CommandError, match="escrow"):
        call_command("restore", str(archive))
    other = dict(backup.escrow_read(escrow))
    other[backup.BACKUP_KEY_FILE] = backup._armour(os.urandom(32)).encode()
    import base64
    import json

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": backup.ESCROW_FORMAT, "keys": {
        k: base64.b64encode(v).decode() for k, v in other.items()}}))
    with pytest.raises(CommandError, match="escrowed backup key"):
        call_command("restore", str(archive), escrow=str(wrong))
    data = bytearray(archive.read_bytes())
    for name, broken in (("flipped", data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]),
                         ("cut", data[: len(data) // 2]),
                         ("longer", data + b"\0")):
        path = tmp_path / name
        path.write_bytes(bytes(broken))
        with pytest.raises(CommandError, match="escrowed backup key"):
            call_command("restore", str(path), escrow=str(escrow))
    assert ledger_verify().ok


def test_restore_on_a_clean_machine_works_only_with_the_escrow(tmp_path):
    """Attack 23: `mawa backup` on one installation, `mawa restore` on a fresh one (own
    MAWA_VAR_DIR, no keys): refused without the escrow, then restored with it; `mawa verify`
    holds and the field-encrypted second factor still opens."""
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
        "from mawa.accounts.models import User\n"
        "from mawa.accounts import services as s\n"
        "import time\n"
        "u = User.objects.create(username='op', role='administrator')\n"
        "sec = s.totp_secret_new()\n"
        "s.totp_enrol_confirm(user=u, secret=sec, code=s.totp_code_at(sec, time.time()))\n"
        "open('" + str(tmp_path / "secret") + "', 'w').write(sec.hex())\n"
        "[ledger_append(stream='ops', kind='t', payload={'i': i}, site='HQ') for i in range(5)]\n"
        "checkpoint_all()\n"))
    archive, escrow = tmp_path / "b.tar.enc", tmp_path / "escrow.json"
    run(first, "backup", str(archive))
    run(first, "keys", "export-escrow", str(escrow))

    refused = run(second, "restore", str(archive), check=False)
    assert refused.returncode != 0 and "escrow" in refused.stderr
    restored = run(second, "restore", str(archive), "--escrow", str(escrow))
    assert "ledger verified" in restored.stdout
    assert "ledger verified" in run(second, "verify").stdout
    assert (second / "keys" / backup.BACKUP_KEY_FILE).exists()
    secret = (tmp_path / "secret").read_text()
    opened = run(second, "shell", "-c", (
        "from mawa.accounts.models import TOTPDevice\n"
        "from mawa.core.crypto import decrypt_text\n"
        "d = TOTPDevice.objects.get()\n"
        "print(decrypt_text('accounts', d.secret_encrypted, context=f'accounts.totp:{d.user_id}'))"
    ))
    assert opened.stdout.strip().splitlines()[-1] == secret


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
