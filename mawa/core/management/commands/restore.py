import getpass
import sys
from pathlib import Path

from django.core.management import call_command

from mawa.core.backup import backup_restore, read_passphrase_file
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Restore the database and keys from an encrypted backup archive (stop the service "
            "first), then verify the ledger. Needs the key escrow file and its passphrase "
            "(asked for, or --passphrase-file).")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--escrow", help="the key escrow file (mawa keys export-escrow)")
        parser.add_argument("--passphrase-file",
                            help="read the escrow's passphrase from the first line of this "
                                 "file (- for standard input)")
        parser.add_argument("--no-verify", action="store_true")

    def handle(self, *args, archive, **options):
        escrow = Path(options["escrow"]) if options.get("escrow") else None
        passphrase = None
        if escrow and options.get("passphrase_file"):
            passphrase = read_passphrase_file(options["passphrase_file"])
        elif escrow and sys.stdin.isatty():
            passphrase = getpass.getpass("Passphrase of the key escrow: ")
        manifest = backup_restore(Path(archive), escrow=escrow, passphrase=passphrase)
        self.stdout.write(self.style.SUCCESS(
            f"restored backup of {manifest['created']} ({len(manifest['files'])} files)"))
        if options["no_verify"]:
            return
        from mawa.core.db import encrypt

        if encrypt.needs_stand_in():  # an encrypted database restored with its escrowed key
            with encrypt.default_connection_on(encrypt.live_path(), encrypt.key_path()):
                call_command("verify", stdout=self.stdout, stderr=self.stderr)
        else:
            call_command("verify", stdout=self.stdout, stderr=self.stderr)
