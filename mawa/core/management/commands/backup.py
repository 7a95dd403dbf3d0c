from pathlib import Path

from django.core.management.base import CommandError

from mawa.core.backup import BackupInvalid, backup_create
from mawa.core.health import EXIT_DATABASE_DAMAGED
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Write a consistent copy of the database, every file store (evidence, photos and "
            "scans, stored reports) and the keys into one archive, encrypted with the backup "
            "key (keep `mawa keys export-escrow` apart from the backups). The database is "
            "checked first: a damaged one is refused (exit 3) and nothing is written.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="file to write, e.g. mawa-2026-11-26.tar.enc")

    def handle(self, *args, archive, **options):
        try:
            manifest = backup_create(Path(archive))
        except BackupInvalid as exc:
            if exc.code != "database_damaged":
                raise
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=EXIT_DATABASE_DAMAGED)
        stores = ", ".join(f"{name} {count}" for name, count in manifest["stores"].items())
        self.stdout.write(self.style.SUCCESS(
            f"encrypted backup written to {archive}: {len(manifest['files'])} files, "
            f"{manifest['database']} database, stores: {stores}"))
