"""``mawa camp …``: the camp from the command line, through the same selectors and services
as the pages and the API, as the user named by ``--user`` (access checked for that user).

    mawa camp rollcall --user NAME --site NUR --block NUR-00012-K [--close]
    mawa camp out --user NAME --site NUR [--overdue]
    mawa camp stock --user NAME --site NUR
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils import timezone

from mawa.accounts import access
from mawa.accounts.models import User
from mawa.accounts.roles import Perm
from mawa.camp import selectors, services
from mawa.camp.models import Block, RollCall, RollCallStatus
from mawa.core.errors import NotFound
from mawa.core.management.base import MawaCommand
from mawa.reception.models import Person


class Command(MawaCommand):
    help = ("Camp from the command line: reconcile a block's latest roll call (and close it), "
            "list the people out of the camp (overdue first with --overdue), stock and days of "
            "supply. Exit 0; 1 when a roll call leaves a discrepancy; 2 when refused.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rollcall", "out", "stock"])
        parser.add_argument("--user", required=True, help="the acting user (access is theirs)")
        parser.add_argument("--site", help="camp code, e.g. NUR (default: the user's camp)")
        parser.add_argument("--block", help="rollcall: the block's code")
        parser.add_argument("--close", action="store_true",
                            help="rollcall: finish an open roll call and record its findings")
        parser.add_argument("--overdue", action="store_true", help="out: only the overdue")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["user"], is_active=True).first()
        if user is None:
            raise NotFound()
        camp = selectors.camp_get(user=user, code=o["site"])
        getattr(self, f"_{o['action']}")(user, camp, o)

    def _rollcall(self, user, camp, o):
        if not o["block"]:
            raise CommandError("rollcall needs --block CODE", returncode=2)
        block = access.get_for_user(Block.objects.filter(site=camp), user, Perm.CAMP_VIEW,
                                    short_code=o["block"].strip().upper())
        latest = (RollCall.objects.filter(block=block).order_by("-started_at")
                  .values_list("id", flat=True).first())
        if latest is None:
            raise CommandError(f"no roll call of block {block.short_code} yet", returncode=2)
        roll_call = selectors.roll_call_get(user=user, roll_call_id=latest)
        if o["close"] and roll_call.status == RollCallStatus.OPEN:
            roll_call = services.rollcall_close(actor=user, roll_call=roll_call)
        result = selectors.rollcall_reconcile(roll_call)
        self.stdout.write(f"roll call {roll_call.short_code}, block {block.name} "
                          f"({block.short_code}), {roll_call.day}, {roll_call.mode}, "
                          f"{roll_call.status}")
        self.stdout.write(f"expected {result.expected}, present {result.present}, missing "
                          f"{result.missing}, unexpected {result.unexpected}")
        people = Person.objects.in_bulk(result.missing_ids + result.unexpected_ids)
        for label, ids in (("missing", result.missing_ids),
                           ("unexpected", result.unexpected_ids)):
            for pid in ids:
                p = people.get(pid)
                self.stdout.write(f"  {label}  {p.short_code}  {p.display_name}" if p else
                                  f"  {label}  {pid}")
        if result.shelter_counts:
            names = dict(block.shelters.values_list("id", "name"))
            for sid, (expected, counted) in sorted(result.shelter_counts.items(), key=str):
                if expected != counted:
                    self.stdout.write(f"  shelter {names.get(sid, sid)}: expected {expected}, "
                                      f"counted {counted}")
        if result.discrepancy:
            raise CommandError("the roll call does not add up", returncode=1)

    def _out(self, user, camp, o):
        rows = selectors.people_out(user=user, site=camp)
        if o["overdue"]:
            rows = [r for r in rows if r.overdue]
        now = timezone.now()
        self.stdout.write(f"{len(rows)} people out of camp {camp.code}"
                          + (" and overdue" if o["overdue"] else ""))
        for r in sorted(rows, key=lambda r: (not r.overdue, r.movement.due_back_at or now)):
            m = r.movement
            due = m.due_back_at.isoformat(timespec="minutes") if m.due_back_at else "-"
            flag = "OVERDUE" if r.overdue else ""
            self.stdout.write(f"  {m.person.short_code}  {m.person.display_name}  {m.kind}  "
                              f"due {due}  {flag}".rstrip())

    def _stock(self, user, camp, o):
        population = selectors.camp_population(site=camp)
        self.stdout.write(f"camp {camp.code}: population {population}")
        for row in selectors.stock_rows(user=user, site=camp, population=population):
            days = f"{row.days_of_supply:.1f}" if row.days_of_supply is not None else "-"
            active = "" if row.item.is_active else "  (not in use)"
            self.stdout.write(f"  {row.item.name_en}  stock {row.item.stock} {row.item.unit}  "
                              f"days of supply {days}  today {row.today}{active}")
