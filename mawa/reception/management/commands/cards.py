"""``mawa cards --group CODE --output FILE.pdf [--kind card|wristband] [--user NAME]
[--unprinted]`` — a group's ID cards (or wristbands) as one PDF, through the same function as
the job of the group page (``reception.idcards.idcards_group_pdf``), audited the same way
(one ``idcard.print`` entry per card written)."""

from __future__ import annotations

import os

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from mawa.accounts.models import User
from mawa.core import exports
from mawa.core.errors import NotFound
from mawa.core.ids import short_code_normalise
from mawa.core.management.base import MawaCommand
from mawa.reception import idcards
from mawa.reception.models import ArrivalGroup
from mawa.reception.selectors import arrival_group_get


class Command(MawaCommand):
    help = ("Write the ID cards (or wristbands) of an arrival group into one PDF file. Without "
            "--user the operator acts as the system and gets every card of the group.")

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True, help="the group's short code")
        parser.add_argument("--output", required=True, help="the PDF file (not overwritten)")
        parser.add_argument("--kind", choices=idcards.FORMATS, default="card")
        parser.add_argument("--unprinted", action="store_true",
                            help="only the persons whose card of this kind was never printed")
        parser.add_argument("--user", help="act as this user (their access and name on the "
                                           "ledger)")

    def handle(self, *args, **o):
        target = o["output"]
        if os.path.exists(target):
            raise CommandError(_("%(file)s exists already; choose another file name.")
                               % {"file": target})
        user = None
        if o["user"]:
            user = User.objects.filter(username=o["user"], is_active=True).first()
            if user is None:
                raise NotFound()
        group = self._group(o["group"], user)
        cards = idcards.idcards_group_pdf(
            user=user, group=group, fmt=o["kind"],
            selection="unprinted" if o["unprinted"] else "all",
            progress=lambda done, total: self.stderr.write(f"{done}/{total}", ending="\r"))
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(cards.pdf)
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(reason)s")
                               % {"file": target, "reason": exc.strerror})
        with transaction.atomic():
            if user is not None:
                exports.export_record(
                    user=user, kind="wristbands_pdf" if o["kind"] == "wristband"
                    else "idcards_pdf", purpose=idcards.CARDS_PURPOSE,
                    recipient=idcards.CARDS_RECIPIENT, data=cards.pdf, site=group.site,
                    detail={"group": group.short_code, "cards": len(cards.persons)})
            idcards.idcards_delivered(user=user, cards=cards, detail={"output": "file"})
        self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(
            _("%(n)d cards of group %(group)s written to %(file)s")
            % {"n": len(cards.persons), "group": group.short_code, "file": target}))

    def _group(self, code: str, user) -> ArrivalGroup:
        group = ArrivalGroup.objects.select_related("site").filter(
            short_code=short_code_normalise(code) or "").first()
        if group is None:
            raise NotFound()
        if user is not None:
            return arrival_group_get(user=user, group_id=group.pk)
        return group
