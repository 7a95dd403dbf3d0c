from pathlib import Path

from mawa.core.backup import backup_create
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = "Write a consistent copy of the database and the signing keys into one archive."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="file to write, e.g. mawa-2026-11-26.tar")

    def handle(self, *args, archive, **options):
        manifest = backup_create(Path(archive))
        self.stdout.write(self.style.SUCCESS(
            f"backup written to {archive}: {len(manifest['files'])} files, "
            f"{manifest['database']} database"))
