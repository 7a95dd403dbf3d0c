"""``mawa import persons FILE --user NAME --site CODE [--group CODE] [--report OUT.csv]``

A file that cannot be read (binary, an unknown encoding, a line of megabytes, a zip bomb …)
ends with one line naming the reason and exit code 2, never a traceback; nothing is written
unless every row passes.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from mawa.accounts.models import User
from mawa.core.errors import NotFound
from mawa.core.management.base import MawaCommand
from mawa.core.models import Site
from mawa.reception import imports
from mawa.reception.models import ArrivalGroup


class Command(MawaCommand):
    help = ("Import persons from a CSV or XLSX file: every row checked, duplicates flagged, "
            "all or nothing. Exit 0 when imported, 2 when refused (with a report).")

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["persons"])
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the officer importing")
        parser.add_argument("--site", required=True, help="crossing code, e.g. RHM")
        parser.add_argument("--group", help="arrival group short code")
        parser.add_argument("--report", help="write the problems to this CSV file")
        parser.add_argument("--check", action="store_true", help="check only, write nothing")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["user"], is_active=True).first()
        site = Site.objects.filter(code=o["site"].upper()).first()
        if user is None or site is None:
            raise NotFound()
        group = None
        if o["group"]:
            group = ArrivalGroup.objects.filter(short_code=o["group"].upper(), site=site).first()
            if group is None:
                raise NotFound()
        path = Path(o["file"])
        try:
            if path.stat().st_size > imports.MAX_BYTES:  # refused before it is read
                raise imports.ImportRefused(_("The file is larger than %(n)s MB.")
                                            % {"n": imports.MAX_BYTES // 1024 // 1024})
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}")
        table = imports.table_read(data, path.name)
        self.stdout.write(f"{len(table.rows)} rows, encoding {table.encoding}")

        def progress(done, total):
            self.stderr.write(f"\r{done}/{total}", ending="")

        result = imports.import_check(user=user, site=site, table=table, group=group,
                                      progress=progress)
        for h, f in result.mapping.items():
            self.stdout.write(f"  column {h!r} → {f}")
        if not result.ok:
            for p in result.problems[:50]:
                self.stderr.write(f"row {p.row}, column {p.column!r}: {p.reason}")
            if len(result.problems) > 50:
                self.stderr.write(f"… and {len(result.problems) - 50} more")
            if o["report"]:
                Path(o["report"]).write_bytes(result.report_csv())
                self.stderr.write(f"report written to {o['report']}")
            raise CommandError(f"{len(result.problems)} problem(s); nothing was imported",
                               returncode=2)
        if o["check"]:
            self.stdout.write(self.style.SUCCESS(f"{len(result.people)} rows are valid"))
            return
        written = imports.import_commit(user=user, site=site, result=result, progress=progress)
        self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(f"{len(written)} persons imported"))
