"""The bundle: one file carrying what a node sends another (on a USB stick or over HTTPS).

Layout (bytes)::

    b"MAWA-BUNDLE/1\\n"            magic line
    4 bytes, big-endian            length of the header
    header                         canonical JSON (RFC 8785), plaintext
    body                           12-byte nonce + AES-256-GCM ciphertext of zlib(JSON body)
    64 bytes                       Ed25519 signature of everything before it by the sender node

The header says ``format`` ("mawa-bundle/1"), ``installation`` (the operation's id), ``from``
and ``to`` (node codes), ``created``, ``body_length`` and ``body_sha256`` (of the encrypted
body) and ``key_id`` (of the sender's signing key). The body is encrypted under the pair key of
(from, to) with the header as associated data, so a header moved onto another body does not
decrypt either.

``bundle_open`` refuses a bundle whole — bad format, truncated, from an unknown node, of
another installation, addressed to another node, signature or body hash that does not hold —
with a ``BundleRefused`` that says why in the operator's language; nothing of it is read
further.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import zlib
from dataclasses import dataclass

import rfc8785
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.translation import gettext_lazy as _

from mawa.core import keys as core_keys
from mawa.core.changes_models import Node
from mawa.core.errors import MawaError
from mawa.sync.keys import node_self, node_signing_key, pair_key

FORMAT = "mawa-bundle/1"
MAGIC = b"MAWA-BUNDLE/1\n"
SIGNATURE_LENGTH = 64
NONCE_LENGTH = 12
_MAX_HEADER = 64 * 1024


class BundleRefused(MawaError):
    """A bundle refused whole: nothing of it is applied."""

    code = "bundle_refused"
    status = 400

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The bundle was refused; nothing of it was applied."),
                         **kw)


class BundleMalformed(BundleRefused):
    code = "bundle_format"

    def __init__(self, message=None, **kw):
        super().__init__(message or _("This file is not a Mawa bundle (or not of a version this "
                                      "installation reads). Nothing was applied."), **kw)


class BundleTruncated(BundleRefused):
    code = "bundle_truncated"

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The bundle is incomplete (cut short in copying or "
                                      "transfer). Copy it again; nothing was applied."), **kw)


class BundleTampered(BundleRefused):
    code = "bundle_tampered"

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The bundle was altered after it was made: its signature "
                                      "or content hash does not hold. Nothing was applied."),
                         **kw)


class BundleUnknownSender(BundleRefused):
    code = "bundle_unknown_sender"

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The bundle comes from a node this installation does not "
                                      "know. Nothing was applied."), **kw)


class BundleMisdirected(BundleRefused):
    code = "bundle_misdirected"

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The bundle is not addressed to this installation. "
                                      "Nothing was applied."), **kw)


@dataclass(frozen=True)
class OpenedBundle:
    header: dict
    body: dict
    sender: Node


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bundle_pack(*, body: dict, to: Node) -> bytes:
    """Seal ``body`` for node ``to``: encrypted under the pair key, signed by this node."""
    me = node_self()
    signer = node_signing_key()
    key_id = core_keys.key_id_of(core_keys.public_key_bytes(signer.public_key()))
    plain = zlib.compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8"), 6)
    nonce = os.urandom(NONCE_LENGTH)
    header = {"format": FORMAT, "installation": str(me.installation), "from": me.code,
              "to": to.code, "created": _now(), "key_id": key_id}
    # the body length and hash are known only after encryption, and the header is the
    # associated data of that encryption: the ciphertext length is fixed by the plaintext's
    ciphertext_length = NONCE_LENGTH + len(plain) + 16
    header["body_length"] = ciphertext_length
    header["body_sha256"] = ""
    # encrypt with the header (hash left empty) as associated data, then fill the hash in:
    # the signature covers the final header, and the receiver rebuilds the associated data
    aad = rfc8785.dumps(header)
    body_bytes = nonce + AESGCM(pair_key(to.code)).encrypt(nonce, plain, aad)
    header["body_sha256"] = hashlib.sha256(body_bytes).hexdigest()
    header_bytes = rfc8785.dumps(header)
    signed = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + body_bytes
    return signed + signer.sign(signed)


def bundle_header(data: bytes) -> dict:
    """The plaintext header of a bundle (unchecked: for messages and routing only)."""
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data[:len(MAGIC)]) and len(data) < len(MAGIC):
            raise BundleTruncated()
        raise BundleMalformed()
    start = len(MAGIC) + 4
    if len(data) < start:
        raise BundleTruncated()
    (length,) = struct.unpack(">I", data[len(MAGIC):start])
    if length > _MAX_HEADER:
        raise BundleMalformed()
    if len(data) < start + length:
        raise BundleTruncated()
    try:
        header = json.loads(data[start:start + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BundleMalformed() from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleMalformed()
    for name in ("installation", "from", "to", "key_id", "body_sha256"):
        if not isinstance(header.get(name), str):
            raise BundleMalformed()
    if not isinstance(header.get("body_length"), int):
        raise BundleMalformed()
    return header


def bundle_open(data: bytes) -> OpenedBundle:
    """Check a bundle whole and decrypt its body; ``BundleRefused`` when anything fails."""
    header = bundle_header(data)
    start = len(MAGIC) + 4
    (length,) = struct.unpack(">I", data[len(MAGIC):start])
    body_start = start + length
    end = body_start + header["body_length"]
    if len(data) < end + SIGNATURE_LENGTH:
        raise BundleTruncated()
    if len(data) > end + SIGNATURE_LENGTH:
        raise BundleTampered()
    me = node_self()
    if header["installation"] != str(me.installation):
        raise BundleMisdirected(_("The bundle belongs to another installation (another "
                                  "operation's headquarters). Nothing was applied."),
                                code="bundle_other_installation")
    if header["to"] != me.code:
        raise BundleMisdirected(_("The bundle is addressed to node %(to)s; this is node "
                                  "%(me)s. Nothing was applied.")
                                % {"to": header["to"], "me": me.code},
                                code="bundle_not_for_us")
    sender = Node.objects.filter(code=header["from"], is_active=True, is_self=False).first()
    if sender is None or not sender.public_key:
        raise BundleUnknownSender(_("The bundle comes from node %(node)s, which this "
                                    "installation does not know. Nothing was applied.")
                                  % {"node": header["from"]})
    public = bytes.fromhex(sender.public_key)
    if core_keys.key_id_of(public) != header["key_id"]:
        raise BundleTampered(_("The bundle is signed with a key that is not node %(node)s's. "
                               "Nothing was applied.") % {"node": header["from"]})
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(data[end:], data[:end])
    except (InvalidSignature, ValueError):
        raise BundleTampered() from None
    body_bytes = data[body_start:end]
    if hashlib.sha256(body_bytes).hexdigest() != header["body_sha256"]:
        raise BundleTampered()
    aad = rfc8785.dumps({**header, "body_sha256": ""})
    try:
        plain = AESGCM(pair_key(sender.code)).decrypt(body_bytes[:NONCE_LENGTH],
                                                      body_bytes[NONCE_LENGTH:], aad)
        body = json.loads(zlib.decompress(plain).decode("utf-8"))
    except (InvalidTag, zlib.error, UnicodeDecodeError, ValueError):
        raise BundleTampered(_("The bundle's body does not decrypt with the key shared with "
                               "node %(node)s. Nothing was applied.")
                             % {"node": sender.code}) from None
    if not isinstance(body, dict):
        raise BundleMalformed()
    return OpenedBundle(header=header, body=body, sender=sender)
