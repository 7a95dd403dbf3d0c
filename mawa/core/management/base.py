"""Base of Mawa's commands: domain errors become a clear message and a non-zero exit."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mawa.core import context
from mawa.core.errors import MawaError


class MawaCommand(BaseCommand):
    def execute(self, *args, **options):
        token = context.set_current(context.ActionContext(channel="cli"))
        try:
            return super().execute(*args, **options)
        except MawaError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2 if exc.status < 500
                               else 1)
        finally:
            context.reset(token)
