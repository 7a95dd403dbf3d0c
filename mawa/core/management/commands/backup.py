from pathlib import Path

from mawa.core.backup import backup_create
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Write a consistent copy of the database and the keys into one archive, encrypted "
            "with the backup key (keep `mawa keys export-escrow` apart from the backups).")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="file to write, e.g. mawa-2026-11-26.tar.enc")

    def handle(self, *args, archive, **options):
        manifest = backup_create(Path(archive))
        self.stdout.write(self.style.SUCCESS(
            f"encrypted backup written to {archive}: {len(manifest['files'])} files, "
            f"{manifest['database']} database"))
