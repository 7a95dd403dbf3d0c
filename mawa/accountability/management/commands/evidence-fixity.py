from django.core.management.base import CommandError

from mawa.accountability.services import evidence_fixity_check
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Re-hash every stored evidence file against the hash taken at intake (run it "
            "periodically, e.g. daily from cron). Each result goes on the item's chain of "
            "custody; a mismatch keeps the file and exits 1.")

    def handle(self, *args, **options):
        results = evidence_fixity_check()
        bad = [r for r in results if not r["ok"]]
        for r in bad:
            self.stderr.write(f"MISMATCH {r['code']}: {r['result']}")
        self.stdout.write(f"{len(results) - len(bad)} of {len(results)} evidence files hold "
                          "their intake hash")
        if bad:
            raise CommandError("fixity check failed", returncode=1)
