"""The one domain error type.

Every refusal in Mawa is a ``MawaError``: a stable machine ``code`` and a translatable
``message``, optionally per-field errors. It is mapped once to an HTTP answer
(``core.middleware.DomainErrorMiddleware``), to a JSON API answer (``mawa.api``'s exception
handler: ``{code, message, fields}``) and to a command-line message and exit code
(``core.management.base.MawaCommand``: 2 for a refusal, 1 for a status of 500). A page that
runs a form through a service puts it on the form instead (``core.forms.service_errors``).

Exception tree (class, HTTP status, where it is defined: what it means). Every subclass
defined anywhere in Mawa has its line here; tests/core/test_errors.py fails on one that has
not, and checks each maps to a page, a JSON body and a CLI message::

    MawaError                      400  generic refusal
    ├── ValidationFailed           400  field errors: {field: [message, …]}
    │   └── ImportRefused          400  reception.imports: the import file cannot be read at all
    ├── Forbidden                  403  the role may not do this (outside the compartment)
    ├── NotFound                   404  missing *or* not visible to this user (never tell apart)
    ├── Conflict                   409  state does not allow it (e.g. a lifecycle transition)
    │   └── UniqueBroken           409  core.changes: a change from elsewhere breaks a rule
    │                                   that must hold once (kept for review)
    ├── Refused                    409  camp.services: a distribution refused by a named rule
    ├── ChainRefused               409  core.ledger: ledger rows from another node do not
    │                                   chain onto those held here (the bundle is refused)
    ├── BundleRefused              400  sync.bundle: a bundle refused whole, nothing applied
    │   ├── BundleMalformed        400  not a Mawa bundle of a version read here
    │   ├── BundleTruncated        400  cut short in copying or transfer
    │   ├── BundleTampered         400  signature, body hash or decryption does not hold
    │   ├── BundleUnknownSender    400  from a node this installation does not know
    │   └── BundleMisdirected      400  for another installation or another node
    ├── FileCorrupt                409  accountability.crypto: evidence fails its integrity check
    ├── Throttled                  429  accounts.services: too many failed sign-in attempts
    ├── BackupInvalid              400  core.backup: a backup archive fails its checks
    │   └── EscrowInvalid          400  core.backup: a key escrow file fails its checks
    ├── RotationRefused            400  core.keyrotation: a field-key rotation cannot run now
    ├── KekRotationRefused         400  accountability.keyrotation: the compartment key too
    ├── DatabaseEncryptionRefused  400  core.db.encrypt: the database cannot be encrypted now
    ├── NotEnrolled                400  sync.keys: this installation (or the node named) is
    │                                   not enrolled in field operations
    ├── EnrolmentRefused           400  sync.enrol: an enrolment file is refused (altered,
    │                                   another format) or this installation may not join
    ├── KeyMissing                 500  core.keys: a signing key file is missing
    ├── DecryptionFailed           500  core.crypto: the field key does not fit or data altered
    └── CompartmentKeyError        500  accountability.crypto: the compartment key is missing
                                        or does not fit
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class MawaError(Exception):
    code = "refused"
    status = 400

    def __init__(self, message=None, *, code: str | None = None, fields=None):
        self.message = message if message is not None else _("The request was refused.")
        if code:
            self.code = code
        self.fields: dict[str, list] = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in v] for k, v in self.fields.items()},
        }


class ValidationFailed(MawaError):
    code = "invalid"
    status = 400


class Forbidden(MawaError):
    code = "forbidden"
    status = 403

    def __init__(self, message=None, **kw):
        super().__init__(message or _("Your role does not allow this."), **kw)


class NotFound(MawaError):
    code = "not_found"
    status = 404

    def __init__(self, message=None, **kw):
        super().__init__(message or _("Not found."), **kw)


class Conflict(MawaError):
    code = "conflict"
    status = 409
