"""Rotation of the field keys of ``mawa.core.crypto`` (protection.md R10).

``field_key_rotate(purpose=...)`` makes a new key, re-encrypts every field of that purpose
under it in one transaction, and only after the commit swaps the key files: the new key
becomes ``<purpose>.fieldkey.pem`` and the old one is kept as
``<purpose>.fieldkey.retired-<time>`` (not a ``.pem``: it no longer travels in backups; delete
it once a backup and escrow made after the rotation are safe).

The new key is written first as ``<purpose>.fieldkey.next``. If the machine stops between the
commit and the swap, ``crypto.decrypt_text`` still reads the new values with the ``.next``
key, and running the rotation again finishes the swap without re-encrypting twice.

The app that owns a sealed field registers it here (``encrypted_field_register``), with the
authenticated context each value was sealed with: a purpose with no field registered cannot be
rotated (refused, nothing changed). The ``core.fields.EncryptedTextField`` columns of a model
are registered at once by ``encrypted_fields_register(Model)``: their stored tokens are read
and written as raw text (the field itself would hand back and take plaintext).

The look-up keys (``crypto.lookup_hash``) are not rotated here, and rotating a field key leaves
them (and every hash) as they are. A keyed hash cannot be recomputed from another hash, only
from the decrypted values, and every holder of the hashes must be rebuilt together: the
reception's ``IdentityDocument.number_key`` (from the sealed numbers), the matching index's
records and ``N|`` blocking keys (from the register) and the national IDs of the imported watch
lists (only from the watch-list files, imported again). That is a separate, explicit operation
with the service stopped; it is not automated yet (issue 20, left open).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from mawa.core import crypto
from mawa.core.audit import audit
from mawa.core.errors import MawaError
from mawa.core.fields import EncryptedTextField

# purpose → [(model, field, context of a row)]. Each app that seals fields with a purpose's
# key registers them in its ``AppConfig.ready`` (``accounts``: the TOTP secrets); the kernel
# names no model of an app above it.
ENCRYPTED_FIELDS: dict[str, list[tuple[type, str, Callable | None]]] = {}


def encrypted_field_register(*, purpose: str, model: type, field: str,
                             context: Callable | None) -> None:
    """Declare that ``model.field`` is sealed with the ``purpose`` field key, each value with
    the authenticated context ``context(row)``: ``field_key_rotate`` re-encrypts it. Registering
    the same field twice keeps one. ``context=None``: an ``EncryptedTextField``, whose context
    is the field's own and whose stored tokens are rotated as raw text."""
    fields = ENCRYPTED_FIELDS.setdefault(purpose, [])
    if all((m, f) != (model, field) for m, f, _c in fields):
        fields.append((model, field, context))


def encrypted_fields_register(*models_: type) -> None:
    """Register every ``core.fields.EncryptedTextField`` of these models (with their own
    purpose and context) for rotation. Subclasses sealed under another hierarchy (the
    compartment's) are left to their own rotation."""
    for model in models_:
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField) and field.kernel_key:
                encrypted_field_register(purpose=field.purpose, model=model, field=field.name,
                                         context=None)


class RotationRefused(MawaError):
    code = "rotation_refused"


def next_key_path(purpose: str) -> Path:
    return crypto._path(purpose).with_suffix(".next")


def _read(path: Path) -> bytes:
    lines = [ln for ln in path.read_text(encoding="ascii").splitlines()
             if ln and not ln.startswith("-----")]
    return base64.b64decode("".join(lines))


def _seal(key: bytes, plaintext: str, context: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return crypto.PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def _open(key: bytes, value: str, context: str) -> str | None:
    if not value.startswith(crypto.PREFIX):
        return None
    raw = base64.b64decode(value[len(crypto.PREFIX):])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


def field_key_rotate(*, purpose: str, actor="system:keys") -> int:
    """Re-encrypt every field of ``purpose`` under a new key; return how many values."""
    fields = ENCRYPTED_FIELDS.get(purpose)
    if not fields:
        raise RotationRefused(_("No encrypted fields are known for %(purpose)s.")
                              % {"purpose": purpose})
    current = crypto._path(purpose)
    old = crypto.field_key(purpose, create=True)
    nxt = next_key_path(purpose)
    if nxt.exists():  # a rotation stopped after its commit: finish it with the same key
        new = _read(nxt)
    else:
        new = secrets.token_bytes(32)
        fd = os.open(nxt, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write("-----BEGIN MAWA FIELD KEY-----\n" + base64.b64encode(new).decode()
                     + "\n-----END MAWA FIELD KEY-----\n")
    count = 0
    with transaction.atomic():
        for model, name, context_of in fields:
            if context_of is None:
                count += _rotate_column(model, name, old, new)
                continue
            for row in model.objects.select_for_update().exclude(**{name: ""}).iterator():
                value, context = getattr(row, name), context_of(row)
                if _open(new, value, context) is not None:
                    continue  # already under the new key
                plaintext = _open(old, value, context)
                if plaintext is None:
                    raise crypto.DecryptionFailed()  # nothing is half-done: all rolls back
                setattr(row, name, _seal(new, plaintext, context))
                row.save(update_fields=[name])
                count += 1
        audit(actor=actor, action="field_key_rotated", model=purpose,
              detail={"values": count})
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    os.replace(current, current.with_name(f"{current.name[:-4]}.retired-{stamp}"))
    os.replace(nxt, current)
    return count


def _rotate_column(model, name: str, old: bytes, new: bytes, batch: int = 500) -> int:
    """Re-seal one ``EncryptedTextField`` column, reading and writing the stored tokens as
    text (not through the field), in batches of primary keys."""
    context = model._meta.get_field(name).context()
    text = models.TextField()
    rows = (model.objects.exclude(**{f"{name}__isnull": True}).exclude(**{name: ""})
            .order_by("pk").annotate(_token=Cast(name, output_field=text))
            .values_list("pk", "_token"))
    count = 0
    pending: list[tuple] = []
    for pk, token in rows.iterator(chunk_size=batch):
        if _open(new, token, context) is not None:
            continue
        plaintext = _open(old, token, context)
        if plaintext is None:
            raise crypto.DecryptionFailed()
        pending.append((pk, _seal(new, plaintext, context)))
    for pk, token in pending:
        model.objects.filter(pk=pk).update(**{name: models.Value(token, output_field=text)})
        count += 1
    return count
