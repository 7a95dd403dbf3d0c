import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from mawa.core.health import (
    EXIT_DATABASE_DAMAGED,
    EXIT_LEDGER_BROKEN,
    database_check,
    database_errors,
    problem_from,
)
from mawa.core.ledger import ledger_verify, witnesses_kept
from mawa.core.management.base import MawaCommand


def database_damaged_error(detail: str) -> CommandError:
    """One line, in the operator's language, and exit 3."""
    return CommandError(_("The database is damaged or cannot be read (%(detail)s). Stop "
                          "Mawa and restore the last good backup (README, Operating).")
                        % {"detail": detail}, returncode=EXIT_DATABASE_DAMAGED)


class Command(MawaCommand):
    help = ("Check the database file (SQLite: PRAGMA quick_check), then recompute every "
            "ledger chain and check every signed checkpoint; name the first entry that does "
            "not hold, also against the checkpoints other nodes signed of this node's streams "
            "(witnesses, kept in var/witnesses.json). Exit 0 when everything holds, 1 when "
            "the ledger does not, 3 when the database is damaged or unreadable.")

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
        witnesses = [dict(c) for c in witnesses_kept()]
        if witnesses:
            extra = [*(extra or []), *witnesses]
        problem = database_check()
        if problem is not None:
            raise database_damaged_error(problem.detail)
        try:
            report = ledger_verify(streams=options["stream"], extra_checkpoints=extra)
        except database_errors() as exc:
            raise database_damaged_error(problem_from(exc).detail)
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
        raise CommandError("ledger verification failed", returncode=EXIT_LEDGER_BROKEN)
