from django.core.management.base import CommandError

from mawa.core.management.base import MawaCommand
from mawa.custody.verify import custody_verify


class Command(MawaCommand):
    help = ("Custody checks. `mawa custody verify` checks the custody streams of the ledger, "
            "recomputes every item's state from its events and names every item whose shown "
            "state disagrees. Exit 0 when everything holds, 1 otherwise.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--no-chains", action="store_true",
                            help="skip the hash-chain check (already done by `mawa verify`)")
        parser.add_argument("--jobs", type=int, default=None,
                            help="processes: 2 (the default on two cores) checks the hash chains "
                                 "in a second process while the events are replayed; 1 runs "
                                 "both in turn")

    def handle(self, *args, **options):
        report = custody_verify(chains=not options["no_chains"], jobs=options["jobs"])
        self.stdout.write(f"{report.items} items, {report.entries} entries in "
                          f"{report.streams} custody streams")
        for failure in report.chain_failures:
            self.stderr.write(f"chain: {failure}")
        for problem in report.problems[:200]:
            self.stderr.write(f"item: {problem}")
        if len(report.problems) > 200:
            self.stderr.write(f"… and {len(report.problems) - 200} more")
        if not report.ok:
            raise CommandError("custody verification failed", returncode=1)
        self.stdout.write(self.style.SUCCESS("custody verified: every chain holds and every "
                                             "item's state is the one its events give"))
