from pathlib import Path

from django.core.management import call_command

from mawa.core.backup import backup_restore
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Restore the database and keys from a backup archive (stop the service first), "
            "then verify the ledger. An encrypted backup needs the key escrow file.")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--escrow", help="the key escrow file (mawa keys export-escrow)")
        parser.add_argument("--no-verify", action="store_true")

    def handle(self, *args, archive, **options):
        escrow = Path(options["escrow"]) if options.get("escrow") else None
        manifest = backup_restore(Path(archive), escrow=escrow)
        self.stdout.write(self.style.SUCCESS(
            f"restored backup of {manifest['created']} ({len(manifest['files'])} files)"))
        if not options["no_verify"]:
            call_command("verify", stdout=self.stdout, stderr=self.stderr)
