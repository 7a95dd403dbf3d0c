"""Every printed document, in Arabic and in English, looked at as paper (issue 16, item 6).

Each document is rendered once per language (module-scoped: the data is written once, in a
transaction rolled back at the end), turned into page images with ``pdftoppm`` and into text
with ``pdftotext`` (poppler-utils, installed by ``make system-deps``). The checks:

- every page has the paper size the document asks for;
- nothing runs outside the page box: the outer strip of every page image is blank (content
  pushed off the page is cut at the edge and leaves ink there), and no word box that
  ``pdftotext -bbox`` reports lies outside the page;
- the text, extracted in logical order, keeps each label with its value, in both languages
  ("Receipt no.: RHM-R-…"; the Arabic label followed by its value), and the situation report
  has every column of its materiel table.

Set ``MAWA_DOCUMENTS_DIR`` to a directory to keep the PDFs and page images for a look.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone, translation
from PIL import Image

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
                       reason="poppler-utils is not installed (make system-deps)"),
]

LANGUAGES = ("ar", "en")
MM = 72 / 25.4  # PDF points per millimetre
A4 = (210, 297)
A4_LANDSCAPE = (297, 210)
DOCUMENTS = ("idcards", "wristbands", "receipt", "handover", "destruction", "icrc", "sitrep",
             "labels")
# The paper each document asks for (width, height in mm); the situation report puts its wide
# materiel table on landscape pages.
PAPER = {"idcards": {A4}, "wristbands": {(254, 25)}, "receipt": {A4}, "handover": {A4},
         "destruction": {A4}, "icrc": {A4_LANDSCAPE}, "sitrep": {A4, A4_LANDSCAPE},
         "labels": {(62, 40)}}


def _build(tmp: Path) -> dict:
    """The cast and its documents: {(document, language): Path of the PDF}."""
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.core.models import Site, SiteKind
    from mawa.core.pdf import render_pdf
    from mawa.custody import exports as custody_exports
    from mawa.custody import selectors as custody_selectors
    from mawa.custody import services as custody
    from mawa.custody.models import Kind, MaterielModel
    from mawa.custody.services import ItemInput
    from mawa.reception.icrc import icrc_notification_rows
    from mawa.reception.idcards import qr_data_uri
    from mawa.reception.models import ArrivalGroup, LifecycleEvent, Person, Status
    from mawa.reports import services as reports

    rhm = Site.objects.create(code="RHM", kind=SiteKind.CROSSING, name_ar="معبر وادي الرحمة",
                              name_en="Wadi al-Rahma crossing")
    nur = Site.objects.create(code="NUR", kind=SiteKind.CAMP, name_ar="مخيم النور",
                              name_en="Al-Nour camp")
    users = {}
    for role in (Role.RECEPTION_OFFICER, Role.CUSTODY_OFFICER, Role.PROTECTION_OFFICER):
        user = User(username=role.value, role=role, first_name="Salem", last_name="Haddad")
        user.set_password("correct horse battery staple")
        user.save()
        user.sites.set([rhm, nur])
        users[role] = user
    now = timezone.now()
    group = ArrivalGroup.objects.create(
        site=rhm, short_code="RHM-G0001-K", client_key=uuid.uuid4(), arrived_at=now,
        reported_count=12, formation="17th Division", created_by=users[Role.RECEPTION_OFFICER])
    names = [("محمد", "أحمد", "الحلبي", "Mohammed", "al-Halabi", "male", Status.INTERNED),
             ("خالد", "عمر", "الشامي", "Khaled", "al-Shami", "male", Status.INTERNED),
             ("عبد الرحمن", "يوسف", "الدمشقي", "Abdulrahman", "al-Dimashqi", "male",
              Status.INTERNED),
             ("فاطمة", "علي", "الحمصي", "", "", "female", Status.HOSPITALISED),
             ("سامي", "حسن", "الإدلبي", "Sami", "al-Idlibi", "male", Status.REGISTERED)]
    persons = []
    for n, (given, father, family, given_lat, family_lat, sex, status) in enumerate(names, 1):
        person = Person.objects.create(
            site=rhm, current_site=nur if status != Status.REGISTERED else rhm,
            short_code=f"RHM-{n:05d}-K", client_key=uuid.uuid4(), content_hash="x",
            group=group, arrived_at=now, status=status, status_changed_at=now, sex=sex,
            birth_year=1983 + n, nationality="SY", given_ar=given, father_ar=father,
            family_ar=family, given_lat=given_lat, family_lat=family_lat, rank="Sergeant",
            service_number=f"55{n:04d}", unit="3rd Battalion",
            registered_by=users[Role.RECEPTION_OFFICER])
        LifecycleEvent.objects.create(person=person, from_status="", to_status=Status.ARRIVED,
                                      at=now, actor=users[Role.RECEPTION_OFFICER], site=rhm,
                                      ledger_seq=0)
        if status != Status.REGISTERED:
            LifecycleEvent.objects.create(person=person, from_status=Status.ARRIVED,
                                          to_status=status, at=now,
                                          actor=users[Role.RECEPTION_OFFICER], site=nur,
                                          ledger_seq=0)
        persons.append(person)

    officer = users[Role.CUSTODY_OFFICER]
    receipt = custody.receipt_open(actor=officer, site=rhm, client_key=uuid.uuid4(),
                                   person=persons[0], witness="Sgt. Aziz")
    akm = MaterielModel.objects.get(name="AKM")

    def surrender(**values):
        base = {"kind": Kind.WEAPON, "catalogue": akm, "serial_number": "",
                "cleared_by": "Cpl. Salem", "verified_by": "Lt. Nabil"}
        base.update(values)
        return custody.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                                      data=ItemInput(**base)).item

    rifles = [surrender(serial_number=f"AK-7710{n}") for n in range(4)]
    surrender(accepted=False, refusal_reason="Barrel cut", serial_number="AK-99")
    rounds = surrender(kind=Kind.AMMUNITION, catalogue=None, calibre="7.62×39 mm",
                       ammunition_type="ball", quantity=1000, lot_number="LOT-12")
    receipt = custody.receipt_issue(actor=officer, receipt=receipt)
    batch = custody.handover_return(actor=officer, items=rifles[:2], client_key=uuid.uuid4(),
                                    recipient="Ministry of Defence",
                                    delegation=["Col. Aziz Haddad"], document="Agreement 4")
    batch = custody_selectors.handover_get(user=officer, code=batch.short_code)
    # destroyed under one plan: a rifle, and 400 rounds of the lot (split off into their own)
    destroyed = [custody.item_event_record(actor=officer, item=item, kind="destroyed", data={
        "method": "Cutting (torch)", "plan": "DP-2026-04", "monitor": "Maj. Karim Nasser",
        "certified_by": "Capt. Lina Saad",
        **({"quantity": "400"} if item.kind == Kind.AMMUNITION else {})})
        for item in (rifles[2], rounds)]

    protection = users[Role.PROTECTION_OFFICER]
    cards = [{"person": p, "qr": qr_data_uri(p.short_code), "photo": ""}
             for p in Person.objects.select_related("current_site", "group")
             .order_by("short_code")]
    # 12 cards: a full sheet of ten and a second one, both checked
    cards = (cards * 3)[:12]
    paths = {}
    for language in LANGUAGES:
        with translation.override(language):
            made = {
                "idcards": render_pdf("reception/idcard_sheet.html",
                                      {"cards": cards, "printed_at": now}),
                "wristbands": render_pdf("reception/idcard_wristband.html",
                                         {"cards": cards[:2], "printed_at": now}),
                "receipt": custody_exports.receipt_print(user=officer, receipt=receipt),
                "handover": custody_exports.handover_print(user=officer, batch=batch),
                "destruction": custody_exports.destruction_print(
                    user=officer, certificate=custody_selectors.destruction_get(
                        user=officer, code=rifles[2].short_code)),
                "icrc": render_pdf("reception/icrc_notification.html", {
                    "rows": icrc_notification_rows(user=protection)[0], "withheld": 1,
                    "generated": now}),
                "sitrep": reports.sitrep_pdf(user=None, day=now.date(), language=language)[0],
                "labels": custody_exports.labels_print(user=officer, items=rifles[:1],
                                                       site=rhm),
            }
        for name, data in made.items():
            path = tmp / f"{name}-{language}.pdf"
            path.write_bytes(data)
            paths[(name, language)] = path
    paths["codes"] = {"receipt": receipt.short_code, "batch": batch.short_code,
                      "person": persons[0].short_code, "tags": [r.short_code for r in rifles],
                      "lot": destroyed[1].short_code, "date": dt.date.today().isoformat()}
    return paths


@pytest.fixture(scope="module")
def documents(django_db_setup, django_db_blocker):
    keep = os.environ.get("MAWA_DOCUMENTS_DIR")
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mawa-docs-"))
    tmp.mkdir(parents=True, exist_ok=True)
    with django_db_blocker.unblock(), transaction.atomic():
        paths = _build(tmp)
        transaction.set_rollback(True)
    yield paths
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


def _pages(pdf: Path) -> list[tuple[float, float]]:
    """Each page's size in millimetres (pdfinfo's "Page N size")."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True,
                         text=True, check=True).stdout
    return [(round(float(w) / MM), round(float(h) / MM))
            for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def _images(pdf: Path, dpi: int = 40) -> list[Path]:
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text(pdf: Path) -> str:
    """The text in logical (reading) order, one space for any run of blanks (pdftotext marks
    the direction of its runs with bidi controls: they are dropped)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return re.sub(r"\s+", " ", BIDI_CONTROLS.sub("", out))


CASES = [(d, lang) for d in DOCUMENTS for lang in LANGUAGES]


@pytest.mark.parametrize(("document", "language"), CASES)
def test_pages_have_the_papers_size(documents, document, language):
    sizes = _pages(documents[(document, language)])
    assert sizes, "no page"
    assert set(sizes) <= PAPER[document], sizes


@pytest.mark.parametrize(("document", "language"), CASES)
def test_nothing_runs_off_the_page(documents, document, language):
    pdf = documents[(document, language)]
    for image in _images(pdf):
        with Image.open(image) as page:
            grey = page.convert("L")
            w, h = grey.size
            edge = 1  # pixels at 40 dpi: 0.6 mm
            strips = [(0, 0, w, edge), (0, h - edge, w, h), (0, 0, edge, h),
                      (w - edge, 0, w, h)]
            for box in strips:
                assert grey.crop(box).getextrema()[0] > 200, (image.name, box)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox,
                            re.S):
        width, height = float(page[1]), float(page[2])
        for x0, y0, x1, y1 in re.findall(
                r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)"',
                page[3]):
            assert float(x0) >= 0 and float(y0) >= 0, (pdf.name, x0, y0)
            assert float(x1) <= width + 0.5 and float(y1) <= height + 0.5, (pdf.name, x1, y1)


def _together(text: str, label: str, value: str) -> None:
    """``label`` is followed by a colon and ``value`` in logical order."""
    assert re.search(re.escape(label) + r" ?: ?" + re.escape(value), text), (label, value)


def _together_ar(text: str, label: str, value: str) -> None:
    """The Arabic ``label`` is followed by ``value``, with its colon. pdftotext rebuilds the
    logical order of a right-to-left line from the glyphs' positions and puts the colon
    between an Arabic label and a Latin value on either side of the value: either is read as
    the same line "label: value"; what must never happen is anything else in between."""
    label, value = re.escape(label), re.escape(value)
    pattern = f"{label} ?: ?{value}|{label} ?{value} ?:"
    assert re.search(pattern, text), (label, value)


def test_the_receipt_keeps_labels_with_their_values(documents):
    codes = documents["codes"]
    en = _text(documents[("receipt", "en")])
    _together(en, "Receipt no.", codes["receipt"])
    _together(en, "Handed in by", "Mohammed")
    assert f":{'Receipt no.'}" not in en and ":Receipt" not in en
    ar = _text(documents[("receipt", "ar")])
    _together_ar(ar, "رقم الإيصال", codes["receipt"])
    for tag in codes["tags"]:
        assert tag in en and tag in ar


def test_the_handover_and_destruction_certificates_keep_labels_with_their_values(documents):
    codes = documents["codes"]
    en = _text(documents[("handover", "en")])
    _together(en, "Batch no.", codes["batch"])
    _together(en, "Received for the country of origin by", "Ministry of Defence")
    ar = _text(documents[("handover", "ar")])
    _together_ar(ar, "رقم الدفعة", codes["batch"])
    en = _text(documents[("destruction", "en")])
    _together(en, "Destruction plan", "DP-2026-04")
    _together(en, "Monitor", "Maj. Karim Nasser")
    assert codes["tags"][2] in en and codes["lot"] in en
    assert "Legal hold" in en and "Allegation" in en
    assert "400" in en  # the rounds destroyed of the lot
    ar = _text(documents[("destruction", "ar")])
    _together_ar(ar, "خطة الإتلاف", "DP-2026-04")
    assert codes["tags"][2] in ar and codes["lot"] in ar


def test_the_id_card_reads_in_the_language_of_the_document(documents):
    en = _text(documents[("idcards", "en")])
    _together(en, "Sex", "Male")
    _together(en, "Born", "1984")
    assert "Born: 1984" in en and ":Sex" not in en
    assert "camp office." in en
    ar = _text(documents[("idcards", "ar")])
    _together_ar(ar, "الجنس", "ذكر")


def test_dates_in_arabic_sentences_are_not_reversed(documents):
    codes = documents["codes"]
    ar = _text(documents[("sitrep", "ar")])
    year, month, day = codes["date"].split("-")
    assert f"{day}-{month}-{year}" not in ar
    assert codes["date"] in ar


# Arabic marks (harakat, shadda, superscript alef, tatweel) and the alef forms: pdftotext
# separates a mark from its letter, and drops the alef of some shaped pairs (أُ), so words are
# compared without them.
_MARKS = re.compile("[\u0640\u064b-\u065f\u0670\u0622\u0623\u0625\u0627]")


def _word_set(pdf: Path) -> set[str]:
    """Every word of the document's text (in logical order), normalised."""
    return set(_normal_words(_text(pdf)))


def _normal_words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s()·:,.]+", _MARKS.sub("", text)) if w]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_situation_report_shows_every_materiel_column(documents, language):
    """Every column of the materiel table, the reconciliation figure last, is on the paper
    (headers wrap inside their cells: each word of each header is looked for)."""
    from mawa.custody.models import State

    words = _word_set(documents[("sitrep", language)])
    with translation.override(language):
        headers = [str(translation.gettext(h)) for h in (
            "Category", "Received on the day", "Received to date", "Unaccounted")]
        headers += [str(label) for value, label in State.choices if value != "refused"]
    missing = [h for h in headers if not set(_normal_words(h)) <= words]
    assert missing == []
    assert len(headers) >= 12


@pytest.mark.parametrize("language", LANGUAGES)
def test_id_cards_sit_in_their_own_cells_ten_to_a_sheet(documents, language):
    """At 100 % scale the cards are ID-1 cells of 85.6 × 54 mm, two across and five down,
    centred on the A4 sheet: each card's code lies inside one cell of its own, so that no two
    cards overlap (rows 2 and 4 used to overlap by about a centimetre)."""
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1",
                           str(documents[("idcards", language)]), "-"],
                          capture_output=True, text=True, check=True).stdout
    left, top = (210 - 2 * 85.6) / 2, (297 - 5 * 54) / 2
    cells = []
    for x0, y0, x1, y1 in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
            r"RHM-\d{5}-K</word>", bbox):
        x0, y0, x1, y1 = (float(v) / MM for v in (x0, y0, x1, y1))
        col, row = int((x0 - left) // 85.6), int((y0 - top) // 54)
        # the whole code inside the same cell, a few millimetres from its edges
        assert int((x1 - left) // 85.6) == col and int((y1 - top) // 54) == row
        assert 0 <= col < 2 and 0 <= row < 5
        cells.append((row, col))
    assert sorted(cells) == [(r, c) for r in range(5) for c in range(2)]
