"""Base of Mawa's commands: domain errors become a clear message and a non-zero exit."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from mawa.core import context
from mawa.core.errors import MawaError


def cli_language() -> str:
    """The operator's language: MAWA_LANGUAGE, else Arabic when the terminal's locale is."""
    chosen = os.environ.get("MAWA_LANGUAGE") or os.environ.get("LANG", "")
    return "ar" if chosen.lower().startswith("ar") else "en"


class MawaCommand(BaseCommand):
    def execute(self, *args, **options):
        token = context.set_current(context.ActionContext(channel="cli"))
        try:
            with translation.override(cli_language()):
                try:
                    return super().execute(*args, **options)
                except MawaError as exc:
                    # the message is lazy: put into words here, in the operator's language
                    raise CommandError(f"{exc.message} [{exc.code}]",
                                       returncode=2 if exc.status < 500 else 1) from exc
        finally:
            context.reset(token)
