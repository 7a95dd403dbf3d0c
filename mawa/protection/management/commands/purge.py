"""``mawa purge`` — apply the retention schedule (protection.retention); run it daily from cron."""

from __future__ import annotations

from mawa.core.management.base import MawaCommand
from mawa.protection.retention import purge_run


class Command(MawaCommand):
    help = ("Apply the retention schedule: blank expired fields, delete expired exports and "
            "temporary files; legal holds are spared; the run is on the ledger (counts only).")

    def handle(self, *args, **o):
        counts = purge_run()
        self.stdout.write(self.style.SUCCESS(f"purged: {counts}"))
