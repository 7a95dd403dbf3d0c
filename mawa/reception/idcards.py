"""ID cards and wristbands for registered persons, one at a time or a whole arrival group.

The card carries what a guard needs to recognise the person at a roll call — names in both
scripts, sex, year of birth, camp, photo — and a QR code of the short code (``RHM-00042-K``:
its check character catches a misread). Nothing sensitive (documents, family, vulnerabilities)
is printed: a card is lost, photographed, shown around.

One card prints on the request (``idcards_prepare`` + ``idcards_render``). A group's cards
are a background job (``core.jobs``, kind ``idcards``): the whole group, the persons whose card
of that format was never printed, or a selection. The job and ``mawa cards`` go through the
same function, ``idcards_group_pdf``; the PDF is rendered in chunks of ``CHUNK`` cards
(``core.pdf.render_pdf_chunked``, by one worker process per CPU), so the time per card does
not grow with the group.

"Printed" is audited only for cards delivered: the job writes one ``idcard.print`` entry per
card in the transaction that stores the finished PDF for download (``core.exports``, with its
own ledger entry) and marks the job done. A failed or cancelled batch writes none.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import exports, jobs
from mawa.core.audit import audit_many
from mawa.core.errors import ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.core.pdf import render_pdf_chunked
from mawa.reception.models import ArrivalGroup, Person, Status
from mawa.reception.selectors import arrival_group_get, persons_visible

FORMATS = ("card", "wristband")
# Which persons of a group: all who get a card, those whose card of this format was never
# printed, or the ones ticked on the page.
SELECTIONS = ("all", "unprinted", "selected")
# Cards a sheet holds (A4, two columns of five 85.6 × 54 mm cards, edge to edge, with cut
# marks): a test holds it equal to what the sheet template lays out. Chunks are whole sheets,
# so that no sheet is left half empty in the middle of a batch.
CARDS_PER_PAGE = 10
# Cards per WeasyPrint document. The old sheet laid every card in one flex container, and
# WeasyPrint lays out all the remaining items again for each page: time grew with the square
# of the pages (8 cards 1.3 s, 16 2.3 s, 32 8.8 s of CPU). The sheet template now places every
# box of a card at a fixed position in millimetres (no grid, no flex: ≈ 30 ms of CPU a card,
# docs/benchmarks-reception.md), so a document is linear in its sheets; a chunk of five
# sheets amortises each document's fixed cost (fonts, CSS) and keeps the memory of one
# document small, and the chunks of a group are rendered by ``MAWA_PDF_PROCESSES`` worker
# processes at once (``core.pdf.render_pdf_chunked``). Wristbands are one band a page.
CHUNK = {"card": 5 * CARDS_PER_PAGE, "wristband": 50}
# Cards are for people handed to a camp or still being processed; not for those referred out.
_NO_CARD = frozenset({Status.REFERRED_OUT, Status.MERGED})
# Printed cards are handed to the persons they name: printing has one purpose.
CARDS_PURPOSE = "cards handed to the persons they name"
CARDS_RECIPIENT = "the persons named on the cards"
JOB_KIND = "idcards"


# Pixels per QR module in the PNG: a short code is a version 1 or 2 symbol (21 or 25 modules)
# plus a quiet zone of 2 on each side, 200 or 232 px over 22 mm (230-270 dpi): sharp even where
# a viewer smooths the image (the sheet asks it not to: ``image-rendering: pixelated``).
QR_SCALE = 8


def qr_data_uri(text: str) -> str:
    """A QR code (error correction M, as on luggage tags: survives a crease) as a black and
    white PNG data URI, for WeasyPrint. (An SVG of the code is hundreds of rectangles that
    WeasyPrint parses and draws one by one on every card: a PNG is one image.)"""
    return segno.make(text, error="m", micro=False).png_data_uri(scale=QR_SCALE, border=2)


# The photo is printed 17 × 22 mm: at 300 dpi that is 200 × 260 pixels. A larger upload is
# scaled down before it goes into the PDF (WeasyPrint would decode and embed it whole, for
# every card, and the PDF of a group would carry every full-size photo).
PHOTO_PIXELS = (200, 260)


def _photo_uri(person: Person) -> str:
    if not person.photo:
        return ""
    try:
        with person.photo.open("rb") as fh:
            data = fh.read()
    except OSError:
        return ""
    return photo_data_uri(data)


def photo_data_uri(data: bytes) -> str:
    """A photo as a data URI for the card, scaled down to ``PHOTO_PIXELS`` if it is larger
    (a JPEG; an image Pillow cannot read is embedded as it is)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width > PHOTO_PIXELS[0] or image.height > PHOTO_PIXELS[1]:
                image.draft("RGB", PHOTO_PIXELS)  # a JPEG decodes at a fraction of its size
                small = image.convert("RGB")
                small.thumbnail(PHOTO_PIXELS)
                out = io.BytesIO()
                small.save(out, "JPEG", quality=85)
                data = out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        pass
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _card(person: Person) -> dict:
    return {"person": person, "qr": qr_data_uri(person.short_code), "photo": _photo_uri(person)}


def idcards_prepare(*, user, persons: list[Person], fmt: str = "card") -> list[dict]:
    """Check ``Perm.IDCARD_PRINT`` at each person's current site, audit one print entry per
    person, and return the card data. Call ``idcards_render`` after this returns. (One card,
    printed on the request; a group's cards are a job, see ``idcards_job_start``.)"""
    for person in persons:
        access.require(user, Perm.IDCARD_PRINT, person.current_site)
    with transaction.atomic():
        audit_many(actor=user, action="idcard.print", model="reception.person",
                   object_ids=[p.id for p in persons], detail={"format": fmt})
    return [_card(p) for p in persons]


def idcard_person_pdf(*, user, person: Person, fmt: str = "card") -> bytes:
    """One person's card (or wristband), printed on the request: check ``Perm.IDCARD_PRINT``
    at the person's site, render, then audit the print — only once there is a PDF to hand
    out."""
    access.require(user, Perm.IDCARD_PRINT, person.current_site)
    pdf = idcards_render([_card(person)], fmt=fmt)
    with transaction.atomic():
        audit_many(actor=user, action="idcard.print", model="reception.person",
                   object_ids=[person.id], detail={"format": fmt})
    return pdf


def template_for(fmt: str) -> str:
    return "reception/idcard_wristband.html" if fmt == "wristband" else \
        "reception/idcard_sheet.html"


def idcards_render(cards: list[dict], *, fmt: str = "card",
                   progress: Callable[[int, int], None] | None = None) -> bytes:
    """The PDF (slow: call outside transactions), rendered in chunks of ``CHUNK`` cards so that
    the time per card does not grow with the batch (``core.pdf.render_pdf_chunked``)."""
    return render_pdf_chunked(template_for(fmt), cards, {"printed_at": timezone.now()},
                              chunk=CHUNK.get(fmt, CHUNK["card"]), items_name="cards",
                              progress=progress, chunk_context=_pages)


def _pages(cards) -> dict:
    """A chunk's cards by page, for a sheet template that lays out one page at a time."""
    return {"pages": [cards[i:i + CARDS_PER_PAGE] for i in range(0, len(cards),
                                                                  CARDS_PER_PAGE)]}


def group_cards_persons(*, user, group: ArrivalGroup) -> list[Person]:
    """Persons of a group who get a card, in short-code order (how they are called out)."""
    return list(_group_persons(user=user, group=group))


def _group_persons(*, user, group: ArrivalGroup):
    base = persons_visible(user=user) if user is not None else Person.objects.all()
    return base.filter(group=group).exclude(status__in=_NO_CARD).select_related(
        "current_site", "group").order_by("short_code")


def persons_printed(person_ids: Iterable, *, fmt: str) -> set[str]:
    """The ids (as text) among ``person_ids`` whose card of format ``fmt`` was printed: read
    from the ``idcard.print`` entries of the audit stream (a print before formats were
    recorded counts as a card)."""
    wanted = {str(i) for i in person_ids}
    printed = set()
    entries = LedgerEntry.objects.filter(stream="audit", kind="audit.idcard.print").values_list(
        "payload", flat=True)
    for payload in entries.iterator(chunk_size=2000):
        data = json.loads(payload)
        oid = data.get("object_id")
        if oid in wanted and (data.get("detail") or {}).get("format", "card") == fmt:
            printed.add(oid)
    return printed


def idcards_select(*, user, group: ArrivalGroup, fmt: str, selection: str = "all",
                   person_ids: Iterable = ()) -> list[Person]:
    """The persons of ``group`` whose cards the selection names, in short-code order; refuses
    an empty result in words (the job page shows it)."""
    if fmt not in FORMATS or selection not in SELECTIONS:
        raise ValidationFailed(_("Choose a format and which cards to print."))
    persons = list(_group_persons(user=user, group=group))
    if selection == "selected":
        chosen = {str(i) for i in person_ids}
        persons = [p for p in persons if str(p.pk) in chosen]
    elif selection == "unprinted":
        printed = persons_printed([p.pk for p in persons], fmt=fmt)
        persons = [p for p in persons if str(p.pk) not in printed]
    if not persons:
        raise ValidationFailed(_("There is no card to print in this selection."))
    return persons


@dataclass
class GroupCards:
    pdf: bytes
    persons: list[Person]
    fmt: str
    group: ArrivalGroup


def idcards_group_pdf(*, user, group: ArrivalGroup, fmt: str = "card", selection: str = "all",
                      person_ids: Iterable = (),
                      progress: Callable[[int, int], None] | None = None) -> GroupCards:
    """The PDF of a group's cards — the work of the job and of ``mawa cards``. Checks
    ``Perm.IDCARD_PRINT`` at each person's site (``user=None``: the operator at the command
    line, acting as the system), reports ``progress(done, total)`` after each chunk, and
    writes nothing: the caller records what it delivers (``idcards_delivered``)."""
    persons = idcards_select(user=user, group=group, fmt=fmt, selection=selection,
                             person_ids=person_ids)
    if user is not None:
        for site in {p.current_site for p in persons}:
            access.require(user, Perm.IDCARD_PRINT, site)
    if progress is not None:
        progress(0, len(persons))
    cards = [_card(p) for p in persons]
    pdf = idcards_render(cards, fmt=fmt, progress=progress)
    return GroupCards(pdf=pdf, persons=persons, fmt=fmt, group=group)


def idcards_delivered(*, user, cards: GroupCards, detail: dict | None = None) -> None:
    """Audit one ``idcard.print`` entry per card delivered. Call inside the transaction that
    delivers the PDF."""
    audit_many(actor=user, action="idcard.print", model="reception.person",
               object_ids=[p.id for p in cards.persons],
               detail={"format": cards.fmt, "group": cards.group.short_code, **(detail or {})})


# --- the job -----------------------------------------------------------------------------------

def idcards_job_start(*, user, group: ArrivalGroup, fmt: str = "card", selection: str = "all",
                      person_ids: Iterable = ()):
    """Queue the job that prints ``group``'s cards (or wristbands) and return it. A selection
    must name at least one person; what remains to print is decided when the job runs."""
    access.require(user, Perm.IDCARD_PRINT, group.site)
    if fmt not in FORMATS or selection not in SELECTIONS:
        raise ValidationFailed(_("Choose a format and which cards to print."))
    chosen = sorted({str(i) for i in person_ids}) if selection == "selected" else []
    if selection == "selected" and not chosen:
        raise ValidationFailed(_("Tick the persons whose cards to print."),
                               fields={"person": [_("Tick at least one person.")]})
    return jobs.job_start(user=user, kind=JOB_KIND, site=group.site,
                          subject=group.short_code,
                          params={"group": str(group.pk), "format": fmt,
                                  "selection": selection, "persons": chosen})


def idcards_job_run(job, progress) -> None:
    """What the ``idcards`` job does: render the PDF, then in one transaction store it for the
    owner's download (``core.exports``), audit the cards printed and mark the job done."""
    user = job.owner
    group = arrival_group_get(user=user, group_id=job.params["group"])
    fmt = job.params["format"]
    cards = idcards_group_pdf(user=user, group=group, fmt=fmt,
                              selection=job.params.get("selection", "all"),
                              person_ids=job.params.get("persons", ()), progress=progress)
    kind = "wristbands_pdf" if fmt == "wristband" else "idcards_pdf"
    with transaction.atomic():
        ready = exports.export_store(
            user=user, kind=kind, purpose=CARDS_PURPOSE, recipient=CARDS_RECIPIENT,
            write=lambda fh: fh.write(cards.pdf), site=group.site, stamp=group.short_code,
            detail={"group": group.short_code, "cards": len(cards.persons), "job": str(job.pk)})
        idcards_delivered(user=user, cards=cards, detail={"job": str(job.pk)})
        jobs.job_deliver(job, ready=ready, count=len(cards.persons))
