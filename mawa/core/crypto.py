"""Small authenticated encryption for sensitive fields outside the compartment.

Each purpose has its own 256-bit key in ``KEY_DIR/<purpose>.fieldkey.pem`` (0600, apart from the
database, carried by ``mawa backup``). Values are AES-256-GCM with a random 96-bit nonce and the
caller's context (model, field, record id) as associated data, so a ciphertext copied to another
row or column fails to decrypt. A missing key file for data that exists, a wrong key or a
tampered value raise ``KeyMissing`` / ``DecryptionFailed``: never partial plaintext.

Look-ups on a sealed value (a document number: "who else carries this number?") go through a
keyed hash, ``lookup_hash``: HMAC-SHA256 under ``KEY_DIR/<purpose>.lookupkey.pem``, a key of its
own (not the field key, so the hashes say nothing to whoever holds only the field key, and the
field key can be rotated without touching them). The caller normalises the value first; equal
normalised values give equal hashes, nothing else can be learnt from a hash without the key.

The keys are read once per process and again when the file changes (a rotation swaps it).

The accountability compartment has its own key hierarchy (``mawa.accountability.crypto``):
compartment data must not be readable with registry keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def _read_armoured(path: Path) -> bytes:
    lines = [ln for ln in path.read_text(encoding="ascii").splitlines()
             if ln and not ln.startswith("-----")]
    return base64.b64decode("".join(lines))


# path → (stat signature, key): a key file is read once per process, and again when a
# rotation swaps it (a new inode)
_cache: dict[str, tuple[tuple, bytes]] = {}


def _cached(path: Path | str) -> bytes | None:
    name = str(path)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        return None
    signature = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    found = _cache.get(name)
    if found is not None and found[0] == signature:
        return found[1]
    key = _read_armoured(Path(name))
    _cache[name] = (signature, key)
    return key


def _key_file(path: Path | str, *, create: bool, armour: str) -> bytes:
    key = _cached(path)
    if key is not None:
        return key
    path = Path(path)
    if not create:
        raise KeyMissing(_("The field key %(name)s is missing from the key directory. Restore "
                           "it from the backup.") % {"name": path.name})
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return _key_file(path, create=False, armour=armour)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"-----BEGIN MAWA {armour}-----\n")
        fh.write(base64.b64encode(key).decode() + "\n")
        fh.write(f"-----END MAWA {armour}-----\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _name(purpose: str, kind: str) -> str:
    # a string, not a Path: this runs for every value sealed, opened or hashed
    return os.path.join(settings.KEY_DIR, f"{purpose}.{kind}.pem")


def field_key(purpose: str, *, create: bool) -> bytes:
    return _key_file(_name(purpose, "fieldkey"), create=create, armour="FIELD KEY")


def lookup_key_path(purpose: str) -> Path:
    return Path(_name(purpose, "lookupkey"))


def lookup_hash(purpose: str, normalised: str) -> str:
    """The keyed hash (HMAC-SHA256, 64 hex digits) of an already normalised value, for
    exact look-ups of a sealed field; ``""`` for ``""``. The key is created on first use."""
    if not normalised:
        return ""
    key = _key_file(_name(purpose, "lookupkey"), create=True, armour="LOOKUP KEY")
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


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
        try:
            return AESGCM(_read_armoured(upcoming)).decrypt(
                raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):
            pass
    raise DecryptionFailed()
