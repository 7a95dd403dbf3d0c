"""The compartment's encrypted text field: the kernel's ``EncryptedTextField`` sealed under the
compartment's own key-encryption key (``accountability.crypto``), not a registry field key.

The column holds ``enc1:<base64(nonce || ciphertext)>``; the model label and field name are the
authenticated data (the kernel field's ``context``). The plaintext never reaches the database,
its WAL or a backup. The compartment's KEK rotation (``accountability.keyrotation``) re-encrypts
these fields; they are not registered with the kernel's field-key rotation.
"""

from __future__ import annotations

from mawa.accountability import crypto
from mawa.core import fields


class EncryptedTextField(fields.EncryptedTextField):
    kernel_key = False
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("purpose", "accountability")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("purpose", None)  # always the compartment's: migrations stay as they were
        return name, path, args, kwargs

    def seal(self, plaintext: str) -> str:
        return crypto.text_encrypt(plaintext, context=self.context())

    def unseal(self, token: str) -> str:
        return crypto.text_decrypt(token, context=self.context())
