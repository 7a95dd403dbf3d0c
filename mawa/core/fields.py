"""A text field stored encrypted (AES-256-GCM, key from the key directory; see ``crypto``).

``EncryptedTextField(purpose="reception")`` seals each value with the ``purpose`` field key of
``mawa.core.crypto``; the column holds ``gcm1:<base64(nonce || ciphertext)>``, with the model
label and field name (``reception.person.family_contact_phone``) as authenticated data, so a
value copied to another column fails to decrypt. The plaintext never reaches the database, its
WAL or a backup. Such a field cannot be searched, filtered or sorted by the database — on
purpose: an exact look-up goes through a keyed hash kept beside it (``crypto.lookup_hash``).
Filtering on ``""`` (blank) still works: blank is stored as blank.

A subclass may seal with another key hierarchy by overriding ``seal`` and ``unseal`` (the
accountability compartment's ``enc1:`` fields, under its own key-encryption key).

The app owning such fields registers them for rotation (``keyrotation.encrypted_fields_register``
in its ``AppConfig.ready``). Bulk writers that skip the ORM (``core.db.rows``) pass the values
through ``get_db_prep_save``, which seals them.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Cast

from mawa.core import crypto


class EncryptedTextField(models.TextField):
    encrypted = True  # read by ``core.db.rows``: the value must go through get_db_prep_save
    kernel_key = True  # sealed with a ``core.crypto`` field key (rotated by ``keyrotation``)

    def __init__(self, *args, purpose: str = "", **kwargs):
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.purpose:
            kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def seal(self, plaintext: str) -> str:
        return crypto.encrypt_text(self.purpose, plaintext, context=self.context())

    def unseal(self, token: str) -> str:
        return crypto.decrypt_text(self.purpose, token, context=self.context())

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return self.unseal(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return self.seal(str(value))


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (a dict, a list…) stored as the sealed text of its JSON: read back as the
    value. Like its parent it cannot be searched by the database."""

    # for django-stubs' mypy plugin: any JSON value in, any JSON value out
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return json.loads(self.unseal(value))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return self.seal(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


# --- data migrations ---------------------------------------------------------------------

def _raw_rows(model, names: list[str], after, batch: int):
    """Up to ``batch`` rows after primary key ``after``: (pk, raw text of each column), read
    as stored (a cast to text, not through the field, which would try to decrypt)."""
    text = models.TextField()
    rows = model.objects.order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    rows = rows.annotate(**{f"_raw_{n}": Cast(n, output_field=text) for n in names})
    return list(rows.values_list("pk", *(f"_raw_{n}" for n in names))[:batch])


def columns_convert(model, names: list[str], *, seal: bool, batch: int = 500,
                    also=None) -> int:
    """For a data migration that turns plain columns into ``EncryptedTextField`` ones (after
    the ``AlterField``: the column is text) or back (``seal=False``, before the reverse
    ``AlterField``): every value of the ``names`` columns of ``model`` (a historical model is
    fine) is sealed or opened in place, ``batch`` rows at a time, each row one ``UPDATE``.
    Values already in the wanted form are left (a migration stopped half-way can be run
    again). ``also(pk, plain_values) -> dict`` may give more columns to write with the row
    (a keyed hash computed from the plaintext). Returns the number of rows changed. Works
    the same on SQLite and PostgreSQL (plain ``SELECT``/``UPDATE`` by primary key)."""
    fields = [model._meta.get_field(n) for n in names]
    text = models.TextField()
    changed, after = 0, None
    while True:
        rows = _raw_rows(model, names, after, batch)
        if not rows:
            return changed
        for pk, *raws in rows:
            after = pk
            updates, plain = {}, {}
            for field, raw in zip(fields, raws, strict=True):
                sealed = bool(raw) and raw.startswith(crypto.PREFIX)
                if not raw:
                    plain[field.name] = raw
                elif seal and not sealed:
                    plain[field.name] = raw
                    updates[field.name] = models.Value(crypto.encrypt_text(
                        field.purpose, raw, context=field.context()), output_field=text)
                elif not seal and sealed:
                    plain[field.name] = crypto.decrypt_text(field.purpose, raw,
                                                            context=field.context())
                    updates[field.name] = models.Value(plain[field.name], output_field=text)
                else:
                    plain[field.name] = (crypto.decrypt_text(field.purpose, raw,
                                                             context=field.context())
                                         if sealed else raw)
            if also is not None:
                updates.update(also(pk, plain))
            if updates:
                model.objects.filter(pk=pk).update(**updates)
                changed += 1
