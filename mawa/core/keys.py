"""Per-site Ed25519 signing keys, kept as files apart from the database.

Each key lives in ``KEY_DIR/<SITE>.ed25519.pem`` with 0600 permissions; its public half is also
recorded in the database (``SiteKey``) when it is created, so that a key file that disappears is
noticed instead of being silently replaced by a new one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mawa.core.errors import MawaError


class KeyMissing(MawaError):
    code = "key_missing"
    status = 500


def key_dir() -> Path:
    return Path(settings.KEY_DIR)


def _path(site_code: str) -> Path:
    return key_dir() / f"{site_code}.ed25519.pem"


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def signing_key(site_code: str, *, create: bool = True) -> Ed25519PrivateKey:
    """Load the site's signing key; create it on first use unless one was recorded before."""
    from mawa.core.models import SiteKey

    path = _path(site_code)
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]
    if SiteKey.objects.filter(site_code=site_code).exists() or not create:
        raise KeyMissing(
            _("The signing key of site %(site)s is missing from %(dir)s. Restore it from the "
              "backup; a new key would break the chain of signed checkpoints.")
            % {"site": site_code, "dir": key_dir()}
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_dir().mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir(), 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_key_bytes(key.public_key())
    SiteKey.objects.create(site_code=site_code, key_id=key_id_of(public), public_key=public.hex())
    return key


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """key_id → public key, from the key files (the trusted source) and the database record."""
    from mawa.core.models import SiteKey

    keys: dict[str, Ed25519PublicKey] = {}
    for row in SiteKey.objects.all():
        keys[row.key_id] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(row.public_key))
    if key_dir().exists():
        for path in sorted(key_dir().glob("*.ed25519.pem")):
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            public = private.public_key()  # type: ignore[union-attr]
            keys[key_id_of(public_key_bytes(public))] = public  # type: ignore[arg-type]
    return keys
