"""``mawa export persons FILE --user NAME --purpose TEXT --recipient TEXT`` — the register as
an AES-256 encrypted zip (``core.exports``), its passphrase printed once."""

from __future__ import annotations

import os
import shutil

from django.core.management.base import CommandError

from mawa.accounts.models import User
from mawa.core import exports as core_exports
from mawa.core.errors import NotFound
from mawa.core.management.base import MawaCommand
from mawa.reception import exports


class Command(MawaCommand):
    help = ("Export the persons the user may see into an encrypted zip file (audited with its "
            "purpose and recipient, constant memory); the passphrase is printed once.")

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["persons"])
        parser.add_argument("file", help="where to write the encrypted .zip (not overwritten)")
        parser.add_argument("--user", required=True)
        parser.add_argument("--purpose", required=True, help="why the file is made")
        parser.add_argument("--recipient", required=True, help="who receives the file")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["user"], is_active=True).first()
        if user is None:
            raise NotFound()
        target = o["file"]
        if os.path.exists(target):
            raise CommandError(f"{target} exists already; choose another file name")
        # The same path as the page (protection.md R9): permission, purpose and recipient on
        # the ledger, the CSV streamed into the encrypted archive. The archive is then moved
        # out of var/exports, so its download link can never be used.
        ready = exports.persons_export_file(user=user, purpose=o["purpose"],
                                            recipient=o["recipient"])
        source = core_exports.export_dir() / f"{ready.export_id}.zip"
        try:
            shutil.move(source, target)
            os.chmod(target, 0o600)
        except OSError as exc:
            source.unlink(missing_ok=True)
            raise CommandError(f"cannot write {target}: {exc.strerror}")
        self.stdout.write(self.style.SUCCESS(f"{ready.size} bytes written to {target} "
                                             f"(AES-256 zip, SHA-256 {ready.sha256})"))
        self.stdout.write(f"Passphrase (shown once, stored nowhere): {ready.passphrase}")
