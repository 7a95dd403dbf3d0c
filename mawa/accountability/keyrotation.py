"""Rotation of the compartment's key-encryption key (protection.md R10): ``mawa
evidence-rotate-kek``.

The evidence files are not re-encrypted: each has its own data key, stored wrapped under the
KEK, so a rotation re-wraps those data keys. The encrypted text fields use a subkey of the KEK,
so they are re-encrypted too. Steps, each safe to stop at:

1. the new KEK is written to ``accountability.kek.next`` (0600, not a ``.pem``);
2. one transaction re-wraps every data key and re-encrypts every encrypted text field under the
   new KEK, records its id (``CompartmentKey``) and writes one ``audit`` entry on the ledger
   with the old and new key ids (never key material, never counts of compartment records).
   Any value that opens with no known key rolls the whole transaction back;
3. after the commit, the files are swapped: the old KEK becomes
   ``accountability.kek.retired-<time>`` and ``.next`` becomes ``accountability.kek.pem``;
4. a second pass re-encrypts anything a still-running Mawa process wrote with the old key
   between the commit and the swap (stop the service first to make this pass empty);
5. only with ``--destroy-old``, and only when the second pass left nothing under the old key,
   the old KEK file is overwritten and deleted (a second ``audit`` entry records it).

A stop during 2 leaves everything under the old key (rolled back); between 2 and 3,
``crypto.kek()`` reads with the ``.next`` file, whose id the database records; running the
command again finishes the swap without re-encrypting twice. The old KEK is kept by default:
it is no longer a ``.pem``, so it travels in no new backup or escrow; delete it (or rotate with
``--destroy-old``) once a backup and a key escrow made after the rotation are safe. A backup
made before the rotation carries the old KEK inside it, so it stays restorable either way.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from mawa.accountability import crypto
from mawa.accountability.fields import EncryptedTextField
from mawa.core.audit import audit
from mawa.core.errors import MawaError
from mawa.core.files import dir_fsync

RETIRED_PREFIX = "accountability.kek.retired-"


class KekRotationRefused(MawaError):
    code = "rotation_refused"


@dataclass(frozen=True)
class KekRotation:
    old_key_id: str
    new_key_id: str
    wrapped: int  # data keys re-wrapped
    fields: int  # text values re-encrypted
    late: int  # values written with the old key during the swap, caught by the second pass
    retired: Path | None  # where the old key is kept, None when it was destroyed


def _encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every encrypted text column of the compartment: (model, field name)."""
    found = []
    for model in apps.get_app_config("accountability").get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field.name))
    return found


def retired_keys() -> list[bytes]:
    """The KEKs kept by earlier rotations, newest first: a value the current key cannot open
    is tried with them (a rotation stopped after its swap, or a process that wrote late)."""
    key_dir = crypto._kek_path().parent
    paths = sorted(key_dir.glob(RETIRED_PREFIX + "*"), reverse=True) if key_dir.exists() else []
    return [crypto.read_key_file(p) for p in paths]


def _reencrypt(new: bytes, olds: list[bytes]) -> tuple[int, int]:
    """Bring every wrapped data key and encrypted text under ``new``; return the counts of
    values changed. Runs inside the caller's transaction; a value that no key opens raises
    ``CompartmentKeyError`` (so the transaction rolls back)."""
    from mawa.accountability.models import EvidenceItem

    wrapped = fields = 0
    for item_id, value in EvidenceItem.objects.order_by("pk").values_list("pk", "wrapped_key"):
        try:
            crypto.data_key_unwrap(value, item_id=str(item_id), master=new)
            continue  # already under the new key
        except crypto.CompartmentKeyError:
            pass
        data_key = _first(lambda master, value=value, item_id=item_id: crypto.data_key_unwrap(
            value, item_id=str(item_id), master=master), olds)
        EvidenceItem.objects.filter(pk=item_id).update(
            wrapped_key=crypto.data_key_wrap(data_key, item_id=str(item_id), master=new))
        wrapped += 1
    for model, name in _encrypted_fields():
        context = f"{model._meta.label_lower}.{name}"
        # read the stored token itself, not the field's decrypted value
        rows = (model.objects.exclude(**{f"{name}__isnull": True}).exclude(**{name: ""})
                .order_by("pk")
                .annotate(_token=Cast(name, output_field=models.TextField()))
                .values_list("pk", "_token"))
        for pk, token in rows:
            try:
                crypto.text_decrypt(token, context=context, master=new)
                continue
            except crypto.CompartmentKeyError:
                pass
            plain = _first(lambda master, token=token, context=context: crypto.text_decrypt(
                token, context=context, master=master), olds)
            model.objects.filter(pk=pk).update(**{name: models.Value(
                crypto.text_encrypt(plain, context=context, master=new),
                output_field=models.TextField())})
            fields += 1
    return wrapped, fields


def _first(open_with, keys: list[bytes]):
    for key in keys:
        try:
            return open_with(key)
        except crypto.CompartmentKeyError:
            continue
    raise crypto.CompartmentKeyError()


def _lock_tables() -> None:
    """Keep other writers out of the compartment's tables for the transaction (PostgreSQL;
    SQLite's IMMEDIATE transactions already hold the one write lock)."""
    if connection.vendor != "postgresql":
        return
    from mawa.accountability.models import EvidenceItem

    tables = sorted({EvidenceItem._meta.db_table}
                    | {model._meta.db_table for model, _name in _encrypted_fields()})
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN EXCLUSIVE MODE")


def _destroy(path: Path) -> None:
    """Overwrite a key file with random bytes, then delete it. (On SSDs and journalling file
    systems the old blocks may survive the overwrite; the key is gone from the file system.)"""
    size = path.stat().st_size
    os.chmod(path, 0o600)
    with open(path, "r+b") as fh:
        fh.write(secrets.token_bytes(max(size, 64)))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def kek_rotate(*, destroy_old: bool = False, actor="system:keys") -> KekRotation:
    """Rotate the compartment KEK (see the module docstring); return what was done."""
    from mawa.accountability.models import CompartmentKey

    current, pending = crypto._kek_path(), crypto.next_kek_path()
    recorded = CompartmentKey.objects.values_list("key_id", flat=True).first()
    if not current.exists() and pending.exists() and recorded \
            and crypto.key_id_of(crypto.read_key_file(pending)) == recorded:
        return _finish_swap(pending, current, destroy_old=destroy_old, actor=actor)
    if not current.exists():
        if recorded:
            raise crypto.CompartmentKeyError()
        raise KekRotationRefused(_("The compartment has no key yet: there is nothing to "
                                   "rotate."))
    old = crypto.read_key_file(current)
    # a rotation that stopped before its swap is finished with the same new key
    new = crypto.read_key_file(pending) if pending.exists() else None
    if recorded not in (None, crypto.key_id_of(old), new and crypto.key_id_of(new)):
        raise crypto.CompartmentKeyError()  # the key file does not fit this database
    if new is None:
        new = secrets.token_bytes(32)
        crypto.write_key_file(pending, new)
    old_id, new_id = crypto.key_id_of(old), crypto.key_id_of(new)
    olds = [old, *retired_keys()]
    with transaction.atomic():
        _lock_tables()
        wrapped, fields = _reencrypt(new, olds)
        if recorded != new_id:
            CompartmentKey.objects.all().delete()
            CompartmentKey.objects.create(key_id=new_id)
            audit(actor=actor, action="compartment_kek_rotated",
                  model="accountability.CompartmentKey",
                  detail={"old_key_id": old_id, "new_key_id": new_id})
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    retired = current.with_name(RETIRED_PREFIX + stamp)
    os.replace(current, retired)
    os.replace(pending, current)
    dir_fsync(current.parent)
    crypto.cache_clear()
    with transaction.atomic():  # what a running process wrote with the old key meanwhile
        _lock_tables()
        late_wrapped, late_fields = _reencrypt(new, olds)
    late = late_wrapped + late_fields
    kept: Path | None = retired
    if destroy_old:
        _destroy(retired)
        dir_fsync(current.parent)
        kept = None
        audit(actor=actor, action="compartment_kek_destroyed",
              model="accountability.CompartmentKey", detail={"key_id": old_id})
    return KekRotation(old_key_id=old_id, new_key_id=new_id, wrapped=wrapped, fields=fields,
                       late=late, retired=kept)


def _finish_swap(pending: Path, current: Path, *, destroy_old: bool, actor) -> KekRotation:
    """A rotation stopped between its two renames: the old key is already retired, the new
    one still ``.next``. Put it in place and catch up what was written meanwhile."""
    new = crypto.read_key_file(pending)
    olds = retired_keys()
    os.replace(pending, current)
    dir_fsync(current.parent)
    crypto.cache_clear()
    with transaction.atomic():
        _lock_tables()
        wrapped, fields = _reencrypt(new, olds)
    retired = sorted(current.parent.glob(RETIRED_PREFIX + "*"))
    kept = retired[-1] if retired else None
    old_id = crypto.key_id_of(olds[0]) if olds else ""
    if destroy_old and kept is not None:
        _destroy(kept)
        dir_fsync(current.parent)
        kept = None
        audit(actor=actor, action="compartment_kek_destroyed",
              model="accountability.CompartmentKey", detail={"key_id": old_id})
    return KekRotation(old_key_id=old_id, new_key_id=crypto.key_id_of(new), wrapped=0,
                       fields=0, late=wrapped + fields, retired=kept)
