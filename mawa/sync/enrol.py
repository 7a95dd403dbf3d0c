"""Enrolling a crossing post (``mawa post create`` at headquarters, ``mawa post join`` at the
post)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mawa.core.errors import MawaError


class EnrolmentRefused(MawaError):
    """An enrolment file is refused (altered, another format), or this installation may not
    join."""

    code = "enrolment_refused"
    status = 400

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The enrolment file is refused."), **kw)
