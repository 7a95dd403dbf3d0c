"""``mawa sitrep``: the situation report from the command line, and the daily stored copy.

    mawa sitrep --date 2025-03-02 --site NUR --pdf report.pdf [--language en]
    mawa sitrep --yesterday --store          # cron / systemd timer, see docs/reports.md
                                             # (then also ``mawa consistency`` of that day)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from mawa.core.digits import to_ascii_digits
from mawa.core.management.base import MawaCommand, cli_language
from mawa.reports import services
from mawa.reports.consistency import consistency_check, consistency_store
from mawa.reports.selectors import sitrep_build, sitrep_scope


class Command(MawaCommand):
    help = "Generate the situation report of a day (PDF, or a summary), or store yesterday's."

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--date", help="the day, YYYY-MM-DD")
        when.add_argument("--yesterday", action="store_true", help="the day before today (UTC)")
        parser.add_argument("--site", default="ALL", help="a site code, or ALL (default)")
        parser.add_argument("--pdf", metavar="FILE", help="write the PDF report to FILE")
        parser.add_argument("--language", choices=["ar", "en"],
                            help="language of the report (default: the terminal's)")
        parser.add_argument("--store", action="store_true",
                            help="generate and keep the PDFs (all sites and each site, Arabic "
                                 "and English) for download in Mawa")

    def handle(self, *args, **options):
        if options["yesterday"]:
            day = timezone.now().date() - dt.timedelta(days=1)
        else:
            try:
                day = dt.date.fromisoformat(to_ascii_digits(options["date"]).strip())
            except ValueError:
                raise CommandError(f"not a date (YYYY-MM-DD): {options['date']}", returncode=2)
        site = options["site"]
        language = options["language"] or cli_language()
        if options["store"]:
            code = None if site.upper() == "ALL" else site
            stored = services.sitrep_store(day=day, site_code=code,
                                           languages=(language,) if options["language"]
                                           else ("ar", "en"))
            for obj in stored:
                self.stdout.write(f"stored {obj.file_name} {obj.size} bytes sha256={obj.sha256}")
            # the nightly run also checks that the apps agree on that day, and keeps the
            # result for the managers' panel (``mawa consistency`` prints it in full)
            check = consistency_check(day=day)
            consistency_store(check)
            self.stdout.write(f"consistency {day.isoformat()}: "
                              + ("ok" if check.ok else "FAILS: " + ", ".join(
                                  c.name for c in check.failed)))
            return
        if options["pdf"]:
            pdf, report = services.sitrep_pdf(user=None, day=day, site_code=site,
                                              language=language)
            Path(options["pdf"]).write_bytes(pdf)
            self.stdout.write(f"{options['pdf']}: {len(pdf)} bytes")
            return
        report = sitrep_build(sitrep_scope(user=None, day=day, site_code=site))
        a, p = report["arrivals"], report["population"]
        self.stdout.write(f"{day.isoformat()} {report['scope'].code}: arrived on the day "
                          f"{a['today']}, to date {a['total']}, in care {p['in_care']}")
        for row in p["rows"]:
            self.stdout.write(f"  {row['label']}: {row['total']}")
