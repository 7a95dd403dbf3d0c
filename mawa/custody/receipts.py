"""The compact signed payload carried by a receipt's QR code, and its offline verification.

Text form: ``MAWA1.<base64url(RFC 8785 JSON)>.<base64url(Ed25519 signature)>``. The JSON holds
the receipt number, site, time, the bearer's code (never their name: the paper already shows
it, the QR need not copy it) and one short line per item: tag, kind, model, serial, condition,
quantity, accepted. When the lines would not fit in a QR code they are replaced by their count
and SHA-256, still signed, so the printed list can be checked against them.

Verification needs only the text and the site's public key: ``mawa verify-receipt`` and the
public page ``/custody/verify/`` use the keys this installation knows, and the command also
accepts a public key given by hand, so a receipt can be checked years later elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import json

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils.translation import gettext_lazy as _

from mawa.core import keys
from mawa.core.errors import ValidationFailed
from mawa.core.ledger import canonical_payload

PREFIX = "MAWA1"
MAX_TEXT = 1800  # keeps the QR code scannable from paper with a phone


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def lines_digest(lines: list) -> str:
    return hashlib.sha256(canonical_payload({"i": lines}).encode("utf-8")).hexdigest()


def payload_sign(body: dict, *, site_code: str) -> str:
    """Sign ``body`` with the site's key; shrink it to a digest of the lines if too long."""
    key = keys.signing_key(site_code)
    body = dict(body, k=keys.key_id_of(keys.public_key_bytes(key.public_key())))
    text = _assemble(body, key)
    if len(text) > MAX_TEXT:
        lines = body.pop("i")
        body.update(c=len(lines), h=lines_digest(lines))
        text = _assemble(body, key)
    return text


def _assemble(body: dict, key) -> str:
    message = canonical_payload(body).encode("utf-8")
    return f"{PREFIX}.{_b64(message)}.{_b64(key.sign(message))}"


def _invalid():
    return ValidationFailed(
        _("This receipt code does not verify: it was altered, cut short, or is not a receipt "
          "signed by Mawa."), code="receipt_invalid")


def payload_verify(text: str, *, public_keys: dict[str, Ed25519PublicKey] | None = None
                   ) -> dict:
    """Return the signed content of a receipt code, or raise ``ValidationFailed``.

    ``public_keys`` maps key ids to keys; by default, the keys this installation knows.
    """
    parts = (text or "").strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise _invalid()
    try:
        message, signature = _unb64(parts[1]), _unb64(parts[2])
        body = json.loads(message.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _invalid()
    if not isinstance(body, dict):
        raise _invalid()
    known = public_keys if public_keys is not None else keys.verification_keys()
    public = known.get(str(body.get("k", "")))
    if public is None:
        raise ValidationFailed(
            _("This receipt was signed with a key this installation does not know. Check it "
              "with the public key of the site that issued it."), code="receipt_unknown_key")
    try:
        public.verify(signature, message)
    except InvalidSignature:
        raise _invalid()
    return body


def qr_svg_data_uri(text: str, *, scale: int = 3) -> str:
    return segno.make(text, error="l" if len(text) > 600 else "m", micro=False).svg_data_uri(
        scale=scale, border=2)
