from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from mawa.accountability.services import evidence_fixity_check
from mawa.core.management.base import MawaCommand


def _result_labels() -> dict[str, str]:
    return {"missing": _("missing: the file is not in the evidence store"),
            "mismatch": _("mismatch: the file's bytes differ from the intake hash"),
            "key_error": _("key error: the compartment key does not open the file"),
            "orphan": _("orphan: a stored file that no evidence item names")}


class Command(MawaCommand):
    help = ("Re-hash every stored evidence file against the hash taken at intake (run it "
            "periodically, e.g. daily from cron). Each result goes on the item's chain of "
            "custody; a missing file, a mismatch (the file is kept) or an orphan exits 1.")

    def handle(self, *args, **options):
        results = evidence_fixity_check()
        labels = _result_labels()
        bad = [r for r in results if not r["ok"]]
        for r in bad:
            self.stderr.write(f"{r['result'].upper()} {r['code']}: "
                              f"{labels.get(r['result'], r['result'])}")
        self.stdout.write(f"{len(results) - len(bad)} of {len(results)} evidence files hold "
                          "their intake hash")
        if bad:
            raise CommandError("fixity check failed", returncode=1)
