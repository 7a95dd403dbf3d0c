import json

from django.core.management.base import CommandError

from mawa.core.ledger import ledger_verify
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Recompute every ledger chain and check every signed checkpoint; name the first "
            "entry that does not hold. Exit 0 when everything holds, 1 otherwise.")

    def add_arguments(self, parser):
        parser.add_argument("--stream", action="append",
                            help="verify only this stream (repeatable)")
        parser.add_argument("--checkpoints", help="JSON file of checkpoints copied off the "
                            "machine earlier (mawa checkpoint --export)")

    def handle(self, *args, **options):
        extra = None
        if options["checkpoints"]:
            try:
                with open(options["checkpoints"], encoding="utf-8") as fh:
                    extra = json.load(fh)
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read checkpoints file: {exc}")
        report = ledger_verify(streams=options["stream"], extra_checkpoints=extra)
        self.stdout.write(f"{report.entries} entries in {report.streams} streams, "
                          f"{report.checkpoints} checkpoints")
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("ledger verified: every chain and checkpoint "
                                                 "holds"))
            return
        self.stderr.write(f"FIRST FAILURE: {report.first_failure}")
        for failure in report.failures[1:]:
            self.stderr.write(f"also: {failure}")
        raise CommandError("ledger verification failed", returncode=1)
