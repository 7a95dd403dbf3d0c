"""Small authenticated encryption for sensitive fields outside the compartment.

Each purpose has its own 256-bit key in ``KEY_DIR/<purpose>.fieldkey.pem`` (0600, apart from the
database, carried by ``mawa backup``). Values are AES-256-GCM with a random 96-bit nonce and the
caller's context (model, field, record id) as associated data, so a ciphertext copied to another
row or column fails to decrypt. A missing key file for data that exists, a wrong key or a
tampered value raise ``KeyMissing`` / ``DecryptionFailed``: never partial plaintext.

The accountability compartment has its own key hierarchy (``mawa.accountability.crypto``):
compartment data must not be readable with registry keys.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mawa.core.errors import MawaError
from mawa.core.keys import KeyMissing

PREFIX = "gcm1:"


class DecryptionFailed(MawaError):
    code = "decryption_failed"
    status = 500

    def __init__(self, message=None, **kw):
        super().__init__(message or _("Encrypted data could not be read: the key does not fit "
                                      "or the data was altered."), **kw)


def _path(purpose: str) -> Path:
    return Path(settings.KEY_DIR) / f"{purpose}.fieldkey.pem"


def field_key(purpose: str, *, create: bool) -> bytes:
    path = _path(purpose)
    if path.exists():
        lines = [ln for ln in path.read_text(encoding="ascii").splitlines()
                 if ln and not ln.startswith("-----")]
        return base64.b64decode("".join(lines))
    if not create:
        raise KeyMissing(_("The field key %(name)s is missing from the key directory. Restore "
                           "it from the backup.") % {"name": path.name})
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write("-----BEGIN MAWA FIELD KEY-----\n")
        fh.write(base64.b64encode(key).decode() + "\n")
        fh.write("-----END MAWA FIELD KEY-----\n")
    return key


def encrypt_text(purpose: str, plaintext: str, *, context: str) -> str:
    """Encrypt ``plaintext``; ``context`` (e.g. ``"accounts.totp:<user id>"``) is authenticated."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(field_key(purpose, create=True)).encrypt(
        nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_text(purpose: str, value: str, *, context: str) -> str:
    if not value.startswith(PREFIX):
        raise DecryptionFailed()
    raw = base64.b64decode(value[len(PREFIX):])
    try:
        return AESGCM(field_key(purpose, create=False)).decrypt(
            raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError):
        pass
    # a key rotation (core.keyrotation) stopped between its commit and the swap of the key
    # files: the value is under the new key, still named ``.next``
    upcoming = _path(purpose).with_suffix(".next")
    if upcoming.exists():
        lines = [ln for ln in upcoming.read_text(encoding="ascii").splitlines()
                 if ln and not ln.startswith("-----")]
        try:
            return AESGCM(base64.b64decode("".join(lines))).decrypt(
                raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):
            pass
    raise DecryptionFailed()
