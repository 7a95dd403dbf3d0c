"""``mawa export persons FILE --user NAME --purpose TEXT`` — the register as CSV, streamed."""

from __future__ import annotations

from django.core.management.base import CommandError

from mawa.accounts.models import User
from mawa.core.errors import NotFound
from mawa.core.management.base import MawaCommand
from mawa.reception import exports


class Command(MawaCommand):
    help = "Export the persons the user may see to a CSV file (audited, constant memory)."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["persons"])
        parser.add_argument("file")
        parser.add_argument("--user", required=True)
        parser.add_argument("--purpose", required=True, help="why and for whom")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["user"], is_active=True).first()
        if user is None:
            raise NotFound()
        columns = exports.persons_export_start(user=user, purpose=o["purpose"])
        lines = 0
        try:
            with open(o["file"], "w", encoding="utf-8", newline="") as fh:
                for chunk in exports.persons_export_lines(user=user, columns=columns):
                    fh.write(chunk)
                    lines += chunk.count("\n")
        except OSError as exc:
            raise CommandError(f"cannot write {o['file']}: {exc.strerror}")
        self.stdout.write(self.style.SUCCESS(f"{lines - 1} persons written to {o['file']}"))
