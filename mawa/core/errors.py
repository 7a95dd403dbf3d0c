"""The one domain error type.

Every refusal in Mawa is a ``MawaError``: a stable machine ``code`` and a translatable
``message``, optionally per-field errors. It is mapped once to an HTTP answer
(``core.middleware.DomainErrorMiddleware``), to a JSON API answer (``core.api``) and to a
command-line message and exit code (``core.management``).

Exception tree::

    MawaError                      400  generic refusal
    ├── ValidationFailed           400  field errors: {field: [message, …]}
    ├── Forbidden                  403  the role may not do this (outside the compartment)
    ├── NotFound                   404  missing *or* not visible to this user (never tell apart)
    ├── Conflict                   409  state does not allow it (e.g. a lifecycle transition)
    └── KeyMissing                 500  a signing/encryption key file is missing (core.keys)
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
