"""Encryption at rest for the compartment (protection.md R10): evidence files and text fields.

Keys live in files apart from the database, in ``settings.KEY_DIR``:

- ``accountability.kek.pem`` — the key-encryption key (KEK), 32 random bytes for AES-256-GCM,
  base64 between PEM-style armour lines, mode 0600. The ``.pem`` name lets ``mawa backup`` carry
  it with the site signing keys (see ``core.backup``). Its id (SHA-256 of the key, first 16 hex
  digits) is recorded in the database (``CompartmentKey``) when it is created, so that a missing
  key file is reported instead of silently replaced by a new key that could read nothing.
- every evidence file has its own random data key, stored only *wrapped* (AES-GCM under a
  subkey of the KEK) in the database beside the item.
- text fields use a field subkey derived from the KEK (HKDF-SHA256); the model and field name
  are authenticated data, so a ciphertext moved to another column fails to decrypt.

A wrong or missing key, or a tampered ciphertext, raises ``CompartmentKeyError``: a clean
refusal, never partial plaintext (protection.md attack test 16).

The KEK is rotated by ``mawa evidence-rotate-kek`` (``accountability.keyrotation``): the new key
is written first as ``accountability.kek.next``; one transaction re-wraps every data key and
re-encrypts every text field under it and records its id; only then are the files swapped. If
the machine stops between that commit and the swap, ``kek()`` finds the recorded id in the
``.next`` file and uses it, so nothing is unreadable at any moment.

Evidence files are encrypted in 1 MiB chunks (the STREAM construction: the nonce is a random
7-byte prefix, the 4-byte chunk number and a last-chunk flag), so a video need not sit in memory
whole and a truncated or reordered file fails authentication.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mawa.core.errors import MawaError

KEK_FILE = "accountability.kek.pem"
_ARMOUR_BEGIN = "-----BEGIN MAWA AES-256-GCM KEY-----"
_ARMOUR_END = "-----END MAWA AES-256-GCM KEY-----"
CHUNK = 1 << 20
FILE_MAGIC = b"MAWAEV1\0"
FIELD_PREFIX = "enc1:"


class CompartmentKeyError(MawaError):
    code = "key_error"
    status = 500

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The compartment key is missing or does not fit this "
                                      "data. Restore the key file from the backup."), **kw)


def _kek_path() -> Path:
    return Path(settings.KEY_DIR) / KEK_FILE


def next_kek_path() -> Path:
    """Where a rotation writes the new KEK before the swap (not a ``.pem``)."""
    return Path(settings.KEY_DIR) / "accountability.kek.next"


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def read_key_file(path: Path) -> bytes:
    """The 32 bytes of an armoured KEK file; ``CompartmentKeyError`` when it is damaged."""
    text = path.read_text(encoding="ascii").strip().splitlines()
    try:
        key = base64.b64decode("".join(line for line in text if not line.startswith("-----")),
                               validate=True)
    except ValueError:
        raise CompartmentKeyError()
    if len(key) != 32:
        raise CompartmentKeyError()
    return key


def write_key_file(path: Path, key: bytes) -> None:
    """Write a KEK file (0600 in a 0700 directory, never over an existing file), durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{_ARMOUR_BEGIN}\n{base64.b64encode(key).decode()}\n{_ARMOUR_END}\n")
        fh.flush()
        os.fsync(fh.fileno())


# path → (stat signature of the file, key). The signature changes when a rotation swaps the
# file in (a new inode), so a long-running process picks up the new key on its next use.
_cache: dict[str, tuple[tuple, bytes]] = {}


def _signature(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def kek(*, create: bool = True) -> bytes:
    """The key-encryption key, created on first use unless one was recorded before."""
    from mawa.accountability.models import CompartmentKey

    path = _kek_path()
    signature = _signature(path)
    cached = _cache.get(str(path))
    if cached is not None and signature is not None and cached[0] == signature:
        return cached[1]
    if signature is not None:
        key = read_key_file(path)
        recorded = CompartmentKey.objects.values_list("key_id", flat=True).first()
        if recorded and recorded != key_id_of(key):
            # a rotation stopped between its commit and the swap of the key files: the data
            # is under the new key, still named ``.next`` (not cached: the swap is pending)
            pending = next_kek_path()
            if pending.exists() and key_id_of(read_key_file(pending)) == recorded:
                return read_key_file(pending)
            raise CompartmentKeyError()
        if not recorded:
            CompartmentKey.objects.create(key_id=key_id_of(key))
        _cache[str(path)] = (signature, key)
        return key
    recorded = CompartmentKey.objects.values_list("key_id", flat=True).first()
    pending = next_kek_path()
    if recorded and pending.exists():  # a rotation stopped between its two renames
        key = read_key_file(pending)
        if key_id_of(key) == recorded:
            return key
    if not create or recorded:
        raise CompartmentKeyError()
    key = secrets.token_bytes(32)
    write_key_file(path, key)
    CompartmentKey.objects.create(key_id=key_id_of(key))
    _cache[str(path)] = (_signature(path), key)
    return key


def cache_clear() -> None:
    _cache.clear()


def _subkey(purpose: bytes, master: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"mawa accountability " + purpose).derive(master or kek())


# --- text fields -------------------------------------------------------------------------

def text_encrypt(plaintext: str, *, context: str, master: bytes | None = None) -> str:
    """Encrypt under the KEK in use (or ``master``, a KEK given by a rotation)."""
    nonce = secrets.token_bytes(12)
    ct = AESGCM(_subkey(b"field v1", master)).encrypt(nonce, plaintext.encode("utf-8"),
                                                      context.encode("utf-8"))
    return FIELD_PREFIX + base64.b64encode(nonce + ct).decode("ascii")


def text_decrypt(token: str, *, context: str, master: bytes | None = None) -> str:
    if not token.startswith(FIELD_PREFIX):
        raise CompartmentKeyError()
    try:
        raw = base64.b64decode(token[len(FIELD_PREFIX):], validate=True)
        return AESGCM(_subkey(b"field v1", master)).decrypt(
            raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError):
        raise CompartmentKeyError()


# --- data keys ---------------------------------------------------------------------------

def data_key_new() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def data_key_wrap(key: bytes, *, item_id: str, master: bytes | None = None) -> str:
    nonce = secrets.token_bytes(12)
    ct = AESGCM(_subkey(b"wrap v1", master)).encrypt(nonce, key, item_id.encode())
    return base64.b64encode(nonce + ct).decode("ascii")


def data_key_unwrap(wrapped: str, *, item_id: str, master: bytes | None = None) -> bytes:
    try:
        raw = base64.b64decode(wrapped, validate=True)
        return AESGCM(_subkey(b"wrap v1", master)).decrypt(raw[:12], raw[12:],
                                                           item_id.encode())
    except (InvalidTag, ValueError):
        raise CompartmentKeyError()


# --- files -------------------------------------------------------------------------------

def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def file_encrypt(chunks: Iterable[bytes], out, *, key: bytes, item_id: str) -> tuple[str, int]:
    """Encrypt ``chunks`` into the open binary file ``out``; return (SHA-256 of the plaintext,
    size). The hash is computed on the way in, from the very bytes that are encrypted."""
    aes, prefix, aad = AESGCM(key), secrets.token_bytes(7), item_id.encode()
    digest, size = hashlib.sha256(), 0
    out.write(FILE_MAGIC + prefix)
    index, pending = 0, b""
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        while len(buffer) > CHUNK:
            pending, buffer = bytes(buffer[:CHUNK]), buffer[CHUNK:]
            digest.update(pending)
            size += len(pending)
            ct = aes.encrypt(_nonce(prefix, index, False), pending, aad)
            out.write(struct.pack(">I", len(ct)) + ct)
            index += 1
    last = bytes(buffer)
    digest.update(last)
    size += len(last)
    ct = aes.encrypt(_nonce(prefix, index, True), last, aad)
    out.write(struct.pack(">I", len(ct)) + ct)
    return digest.hexdigest(), size


def file_decrypt(path: Path, *, key: bytes, item_id: str) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted evidence file, chunk by chunk. Every chunk is
    authenticated before it is yielded; a truncated, reordered or altered file raises
    ``CompartmentKeyError`` (or ``FileCorrupt``) instead of yielding unauthenticated bytes."""
    aes, aad = AESGCM(key), item_id.encode()
    with open(path, "rb") as fh:
        head = fh.read(len(FILE_MAGIC) + 7)
        if len(head) != len(FILE_MAGIC) + 7 or not head.startswith(FILE_MAGIC):
            raise FileCorrupt()
        prefix, index = head[len(FILE_MAGIC):], 0
        while True:
            size_bytes = fh.read(4)
            if len(size_bytes) != 4:
                raise FileCorrupt()
            (length,) = struct.unpack(">I", size_bytes)
            if length > CHUNK + 16:
                raise FileCorrupt()
            ct = fh.read(length)
            if len(ct) != length:
                raise FileCorrupt()
            last = fh.peek(1)[:1] == b"" if hasattr(fh, "peek") else False
            try:
                plain = aes.decrypt(_nonce(prefix, index, last), ct, aad)
            except InvalidTag:
                raise FileCorrupt()
            yield plain
            if last:
                return
            index += 1


class FileCorrupt(MawaError):
    code = "evidence_corrupt"
    status = 409

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The stored evidence file fails its integrity check."),
                         **kw)
