"""``mawa consistency``: do the apps tell one story? The cross-app invariants of a day.

    mawa consistency                      # today
    mawa consistency --date 2026-03-02
    mawa consistency --all-days           # every day from the first arrival to today
    mawa consistency --store              # also keep the result for the managers' panel

Each check is printed on one line with its figures; the exit status is 0 only when every check
holds on every day asked for, 1 otherwise (2: the date cannot be read).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from mawa.core.digits import to_ascii_digits
from mawa.core.management.base import MawaCommand
from mawa.reports.consistency import consistency_check, consistency_days, consistency_store


class Command(MawaCommand):
    help = "Check the cross-app invariants of a day (exit 0 only when all hold)."

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--date", help="the day, YYYY-MM-DD (default: today, UTC)")
        when.add_argument("--all-days", action="store_true",
                          help="every day from the first arrival to today")
        parser.add_argument("--store", action="store_true",
                            help="keep the result of the last day for the reports panel")

    def handle(self, *args, **options):
        if options["all_days"]:
            days = consistency_days()
        elif options["date"]:
            try:
                days = [dt.date.fromisoformat(to_ascii_digits(options["date"]).strip())]
            except ValueError:
                raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s")
                                   % {"value": options["date"]}, returncode=2)
        else:
            days = [None]
        failed = 0
        report = None
        for day in days:
            report = consistency_check(day=day)
            for check in report.checks:
                self.stdout.write(self._line(report.day, check))
            if not report.ok:
                failed += 1
        if options["store"] and report is not None:
            consistency_store(report)
        if failed:
            raise CommandError(_("The records disagree on %(n)s of %(total)s day(s).")
                               % {"n": failed, "total": len(days)}, returncode=1)
        self.stdout.write(_("All checks hold on %(n)s day(s).") % {"n": len(days)})

    @staticmethod
    def _line(day: dt.date, check) -> str:
        state = _("skipped") if check.skipped else _("holds") if check.ok else _("FAILS")
        figures = " ".join(f"{k}={v}" for k, v in check.figures.items())
        examples = f" [{', '.join(check.examples)}]" if check.examples else ""
        return f"{day.isoformat()} {check.name}: {state} — {check.label}: {figures}{examples}"
