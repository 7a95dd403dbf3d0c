"""A text field stored encrypted (AES-GCM, key from the key directory; see ``crypto``).

The column holds ``enc1:<base64(nonce || ciphertext)>``; the model label and field name are the
authenticated data. The plaintext never reaches the database, its WAL or a backup. Such a field
cannot be searched or sorted by the database — on purpose.
"""

from __future__ import annotations

from django.db import models

from mawa.accountability import crypto


class EncryptedTextField(models.TextField):
    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.text_decrypt(value, context=self._context())

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.text_encrypt(str(value), context=self._context())
