"""ID cards and wristbands for registered persons, one at a time or a whole arrival group.

The card carries what a guard needs to recognise the person at a roll call — names in both
scripts, sex, year of birth, camp, photo — and a QR code of the short code (``RHM-00042-K``:
its check character catches a misread). Nothing sensitive (documents, family, vulnerabilities)
is printed: a card is lost, photographed, shown around.

Each print is audited (who printed whose card) inside a transaction; the PDF is rendered after
it commits, outside any transaction, because WeasyPrint is slow.
"""

from __future__ import annotations

import base64

import segno
from django.db import transaction
from django.utils import timezone

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit_many
from mawa.core.pdf import render_pdf
from mawa.reception.models import ArrivalGroup, Person, Status

FORMATS = ("card", "wristband")
# Cards are for people handed to a camp or still being processed; not for those referred out.
_NO_CARD = frozenset({Status.REFERRED_OUT, Status.MERGED})


def qr_data_uri(text: str) -> str:
    """A QR code (error correction M, as on luggage tags: survives a crease) as an SVG data
    URI, for WeasyPrint."""
    svg = segno.make(text, error="m", micro=False).svg_inline(scale=4, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _photo_uri(person: Person) -> str:
    if not person.photo:
        return ""
    try:
        with person.photo.open("rb") as fh:
            data = fh.read()
    except OSError:
        return ""
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def idcards_prepare(*, user, persons: list[Person], fmt: str = "card") -> list[dict]:
    """Check ``Perm.IDCARD_PRINT`` at each person's current site, audit one print entry per
    person, and return the card data. Call ``idcards_render`` after this returns."""
    for person in persons:
        access.require(user, Perm.IDCARD_PRINT, person.current_site)
    with transaction.atomic():
        audit_many(actor=user, action="idcard.print", model="reception.person",
                   object_ids=[p.id for p in persons], detail={"format": fmt})
    return [{"person": p, "qr": qr_data_uri(p.short_code), "photo": _photo_uri(p)}
            for p in persons]


def idcards_render(cards: list[dict], *, fmt: str = "card") -> bytes:
    """The PDF (slow: call outside transactions)."""
    template = "reception/idcard_wristband.html" if fmt == "wristband" else \
        "reception/idcard_sheet.html"
    return render_pdf(template, {"cards": cards, "printed_at": timezone.now()})


def group_cards_persons(*, user, group: ArrivalGroup) -> list[Person]:
    """Persons of a group who get a card, in short-code order (how they are called out)."""
    from mawa.reception.selectors import persons_visible

    return list(persons_visible(user=user).filter(group=group).exclude(
        status__in=_NO_CARD).select_related("current_site", "group").order_by("short_code"))
