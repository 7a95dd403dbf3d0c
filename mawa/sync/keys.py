"""Node identity for field operations: who this installation is and the keys it holds.

- **Node key** (Ed25519): the node's signing key is ``core.keys``' file for the node code
  (``KEY_DIR/<CODE>.ed25519.pem``), so checkpoints of the node's streams and its bundles are
  signed with one key. A post's key pair is made at headquarters by ``mawa post create``; the
  private half goes only into the enrolment file, headquarters keeps the public half
  (``Node.public_key`` and a ``core.SiteKey`` row, so the ledger verifier knows it).
- **Pair key** (32 random bytes): shared by two nodes, ``KEY_DIR/sync-<PEER>.key`` (0600), made
  at headquarters when the post is created and carried to the post in the enrolment file.
  Bundles between the two are encrypted under it. It is carried by the key escrow
  (``mawa keys export-escrow``), not by the backup archive (like the backup key).
- ``node_public_key(code)``: a peer's public key, from its ``Node`` row.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils.translation import gettext_lazy as _

from mawa.core import keys as core_keys
from mawa.core.changes_models import Node
from mawa.core.errors import MawaError
from mawa.core.keys import KeyMissing
from mawa.core.models import Site, SiteKey

__all__ = ["NotEnrolled", "node_key_install", "node_public_key", "node_public_key_hex",
           "node_self", "node_signing_key", "pair_key", "pair_key_path", "pair_key_store",
           "peer_key_record"]

PAIR_KEY_BYTES = 32
_ARMOUR = "SYNC PAIR KEY"
# node codes: a site code (2-5 capital letters), optionally followed by digits (a standby)
NODE_CODE = re.compile(r"^[A-Z]{2,5}[0-9]{0,3}$")


class NotEnrolled(MawaError):
    """This installation (or the node named) is not enrolled in an operation."""

    code = "not_enrolled"
    status = 400

    def __init__(self, message=None, **kw):
        super().__init__(message or _(
            "This installation is not enrolled in field operations: at headquarters, create a "
            "post first (mawa post create); at a post, join with its enrolment file (mawa post "
            "join)."), **kw)


def node_self() -> Node:
    """This installation's own node."""
    node = Node.objects.filter(is_self=True).first()
    if node is None:
        raise NotEnrolled()
    return node


def node_signing_key() -> Ed25519PrivateKey:
    """This node's Ed25519 signing key (``core.keys`` file of the node code; never made
    here on the fly: a missing one is restored from the escrow)."""
    return core_keys.signing_key(node_self().code, create=False)


def node_public_key_hex(key: Ed25519PublicKey) -> str:
    return core_keys.public_key_bytes(key).hex()


def node_public_key(code: str) -> Ed25519PublicKey:
    """The public key of node ``code`` (this one or a peer), as recorded in its ``Node`` row."""
    hexkey = Node.objects.filter(code=code).values_list("public_key", flat=True).first()
    if not hexkey:
        raise NotEnrolled(_("Node %(code)s is not known to this installation.") % {"code": code},
                          code="node_unknown")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hexkey))


def _check_code(code: str) -> str:
    if not NODE_CODE.match(code or ""):
        raise MawaError(_("%(code)s is not a node code.") % {"code": code}, code="invalid")
    return code


def pair_key_path(peer_code: str) -> Path:
    return core_keys.key_dir() / f"sync-{_check_code(peer_code)}.key"


def pair_key(peer_code: str) -> bytes:
    """The 32-byte key this node shares with ``peer_code`` (``KEY_DIR/sync-<PEER>.key``)."""
    path = pair_key_path(peer_code)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyMissing(_("The key shared with node %(code)s is missing from %(dir)s. Restore "
                           "it from the key escrow.") % {"code": peer_code,
                                                          "dir": core_keys.key_dir()}) from None
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("-----")]
    try:
        key = base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != PAIR_KEY_BYTES:
        raise KeyMissing(_("The key shared with node %(code)s (%(path)s) is damaged. Restore it "
                           "from the key escrow.") % {"code": peer_code, "path": path})
    return key


def pair_key_store(peer_code: str, key: bytes) -> None:
    """Keep the key shared with ``peer_code`` (0600 in the 0700 key directory). Storing the
    same key again is a no-op; a different key replaces the old one atomically."""
    if len(key) != PAIR_KEY_BYTES:
        raise ValueError("a pair key is 32 bytes")
    path = pair_key_path(peer_code)
    directory = core_keys.key_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if path.exists():
        try:
            if pair_key(peer_code) == key:
                return
        except KeyMissing:
            pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"-----BEGIN MAWA {_ARMOUR}-----\n")
        fh.write(base64.b64encode(key).decode() + "\n")
        fh.write(f"-----END MAWA {_ARMOUR}-----\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def peer_key_record(code: str, public_hex: str) -> None:
    """Record a peer node's public key as a ``core.SiteKey`` row, so that ``mawa verify`` knows
    the checkpoints it signed.

    ``core.keys.signing_key(code)`` treats a recorded key without its file as a key gone
    missing; so when ``code`` is also the code of a site here, this installation's own key for
    that site is made first (what ``mawa setup`` does for every site anyway), and the peer's
    key is recorded beside it: both verify, each signs only where its file is. A code that is
    no site here (``HQ`` at a post whose headquarters has no site HQ) is recorded in lower
    case, so that a site given that code later still gets a key of its own."""
    public = bytes.fromhex(public_hex)
    key_id = core_keys.key_id_of(public)
    if SiteKey.objects.filter(key_id=key_id).exists():
        return
    site_code = code[:5]  # SiteKey.site_code: 5 characters (a standby "QAM2" fits)
    if Site.objects.filter(code=site_code).exists():
        core_keys.signing_key(site_code)
    else:
        site_code = site_code.lower()
    SiteKey.objects.create(site_code=site_code, key_id=key_id, public_key=public_hex)


def node_key_install(code: str, key: Ed25519PrivateKey) -> None:
    """Make ``key`` this installation's signing key for node ``code`` (``mawa post join``): the
    ``core.keys`` file of the code (0600) and its ``core.SiteKey`` row. The same key again is a
    no-op; a different key already there is refused (it may have signed checkpoints)."""
    _check_code(code)
    path = core_keys.key_dir() / f"{code}.ed25519.pem"
    public = core_keys.public_key_bytes(key.public_key())
    if path.exists():
        held = core_keys.signing_key(code, create=False)
        if core_keys.public_key_bytes(held.public_key()) != public:
            raise MawaError(_("This installation already holds another signing key for "
                              "%(code)s (%(path)s).") % {"code": code, "path": path},
                            code="key_exists")
    else:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        directory = core_keys.key_dir()
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
    key_id = core_keys.key_id_of(public)
    if not SiteKey.objects.filter(key_id=key_id).exists():
        SiteKey.objects.create(site_code=code[:5], key_id=key_id, public_key=public.hex())
