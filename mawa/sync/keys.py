"""This installation's node identity and keys (a minimal version for the engine: post17 owns
this module; the merge keeps post17's).

``node_self()`` is the enrolled installation's ``Node``; its signing key is ``core.keys``'
file for the node's code, so the checkpoints of its streams are signed with it. A pair key
(32 bytes, ``KEY_DIR/sync-<PEER>.key``, 0600) encrypts the bundles between two nodes.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils.translation import gettext_lazy as _

from mawa.core import keys
from mawa.core.changes_models import Node
from mawa.core.errors import MawaError


class NotEnrolled(MawaError):
    code = "not_enrolled"
    status = 400

    def __init__(self, message=None, **kw):
        super().__init__(message or _("This installation is not enrolled in an operation "
                                      "(mawa post create / mawa post join)."), **kw)


def node_self() -> Node:
    node = Node.objects.filter(is_self=True).first()
    if node is None:
        raise NotEnrolled()
    return node


def node_signing_key() -> Ed25519PrivateKey:
    return keys.signing_key(node_self().code)


def node_public_key(code: str) -> Ed25519PublicKey:
    node = Node.objects.filter(code=code).first()
    if node is None or not node.public_key:
        raise NotEnrolled(_("Node %(code)s is not known here.") % {"code": code})
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(node.public_key))


def _pair_path(peer_code: str) -> Path:
    return keys.key_dir() / f"sync-{peer_code}.key"


def pair_key(peer_code: str) -> bytes:
    try:
        key = _pair_path(peer_code).read_bytes()
    except FileNotFoundError:
        raise NotEnrolled(_("The key shared with node %(code)s is missing from %(dir)s.")
                          % {"code": peer_code, "dir": keys.key_dir()}) from None
    return bytes.fromhex(key.decode("ascii").strip()) if len(key) != 32 else key


def pair_key_store(peer_code: str, key: bytes) -> None:
    if len(key) != 32:
        raise ValueError("a pair key is 32 bytes")
    keys.key_dir().mkdir(parents=True, exist_ok=True)
    path = _pair_path(peer_code)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.hex().encode("ascii"))
