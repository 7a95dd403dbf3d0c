"""PDF rendering shared by receipts, ID cards, notifications and reports.

WeasyPrint renders HTML templates; the fonts are the vendored Noto files in
``core/static/fonts`` (no system fonts, no network), so Arabic is shaped by HarfBuzz, joined and
right-to-left. Render PDFs outside database transactions: it is slow work.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

FONT_DIR = Path(__file__).resolve().parent / "static" / "fonts"

# The one stylesheet of every printed document (with ``core/pdf_base.html``, which every PDF
# template extends): Mawa's fonts, and the bidi and pagination rules of issue 16.
# - The document's direction and language are those of the language it is rendered in
#   (``<html lang dir>`` in the base template); a run in the other script is isolated
#   (``<bdi>``, or an element with ``dir``), so codes, dates, Latin names in Arabic and Arabic
#   names in English keep their own order.
# - A label and its value are one unit (``.lv``: never split across lines, never reordered); the
#   colon follows the label in the reading order of the document's language.
# - Dates are written by one helper (``documents`` template library: ``docdate``,
#   ``docdatetime``), isolated left to right: Arabic sentences do not reverse them.
# - No row, label, figure or chart is split across pages; table headers repeat on each page;
#   a heading stays with what follows it; long words and codes wrap inside their cell instead
#   of pushing a table off the page.
FONT_CSS = f"""
@font-face {{ font-family: "Mawa Naskh";
             src: url("file://{FONT_DIR}/NotoNaskhArabic-Regular.ttf"); }}
@font-face {{ font-family: "Mawa Naskh"; font-weight: bold;
             src: url("file://{FONT_DIR}/NotoNaskhArabic-Bold.ttf"); }}
@font-face {{ font-family: "Mawa Sans"; src: url("file://{FONT_DIR}/NotoSans-Regular.ttf"); }}
@font-face {{ font-family: "Mawa Sans"; font-weight: bold;
             src: url("file://{FONT_DIR}/NotoSans-Bold.ttf"); }}
html {{ font-family: "Mawa Sans", "Mawa Naskh"; }}
[lang="ar"] {{ font-family: "Mawa Naskh", "Mawa Sans"; }}
[lang="en"], [dir="ltr"] {{ font-family: "Mawa Sans", "Mawa Naskh"; }}
body {{ margin: 0; }}
.code, .num, .date {{ font-family: "Mawa Sans", "Mawa Naskh"; white-space: nowrap; }}
.lv {{ display: inline-block; break-inside: avoid; }}
.lv .l {{ color: #444; }}
h1, h2, h3, h4, dt, .keep-next {{ break-after: avoid; }}
tr, li, dt, dd, figure, .chart, .keep, .lv, .sign {{ break-inside: avoid; }}
thead {{ display: table-header-group; }}
tfoot {{ display: table-footer-group; }}
table {{ max-width: 100%; }}
th, td {{ overflow-wrap: break-word; text-align: start; vertical-align: top; }}
img, svg {{ max-width: 100%; }}
.chart svg {{ height: auto; }}
.sign {{ display: flex; gap: 8mm; margin-top: 12mm; }}
.sign > div {{ flex: 1; border-top: 0.5pt solid #000; padding-top: 1mm; font-size: 8.5pt; }}
.small {{ font-size: 8pt; color: #333; }}
"""


def render_pdf(template: str, context: dict, *, extra_css: str = "") -> bytes:
    """Render ``template`` with ``context`` to PDF bytes, with Mawa's fonts."""
    return html_to_pdf(render_to_string(template, context), extra_css=extra_css)


def html_to_pdf(html: str, *, extra_css: str = "") -> bytes:
    """Render an HTML document to PDF bytes, with Mawa's fonts."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheets = [CSS(string=FONT_CSS, font_config=fonts)]
    if extra_css:
        stylesheets.append(CSS(string=extra_css, font_config=fonts))
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(stylesheets=stylesheets,
                                                              font_config=fonts)


# --- long documents in chunks ----------------------------------------------------------------
# WeasyPrint lays a document out as a whole: the time of one document grows faster than its
# length (a sheet of 80 ID cards took 33 times as long as one of 8, see
# bench/reception/bench_cards.py). A long document is therefore rendered in chunks of a fixed
# number of items, each a small WeasyPrint document, and the chunks are joined with pypdf: the
# time per item no longer depends on the length of the batch. A chunk ends on a page break, so
# ``chunk`` should fill whole pages (ID cards: 10 a page, chunks of 50).
#
# The chunks are independent, so they are turned into PDF by ``MAWA_PDF_PROCESSES`` worker
# processes at once (default: one per CPU; 1 renders in the calling process). Only plain data
# crosses to a worker: the template is rendered to HTML here (Django, the language of the
# request or job, the database), the worker runs WeasyPrint on the HTML string and returns the
# PDF bytes. The workers are started fresh ("spawn": no copy of the caller's threads, locks or
# database connections) for one document and stopped at its end. At most two chunks per worker
# are handed out ahead, so the HTML waiting in memory stays bounded whatever the batch size.

ChunkProgress = Callable[[int, int], None]


def pdf_processes() -> int:
    """How many worker processes render the chunks of one document (``MAWA_PDF_PROCESSES``,
    default one per CPU; at least 1)."""
    wanted = getattr(settings, "MAWA_PDF_PROCESSES", None) or os.cpu_count() or 1
    return max(1, int(wanted))


def render_pdf_chunked(template: str, items: Sequence, context: dict, *, chunk: int = 50,
                       items_name: str = "items", extra_css: str = "",
                       progress: ChunkProgress | None = None,
                       chunk_context: Callable[[Sequence], dict] | None = None,
                       processes: int | None = None) -> bytes:
    """Render ``template`` once per ``chunk`` of ``items`` (passed to the template as
    ``items_name``, beside ``context`` and what ``chunk_context(part)`` adds) and join the
    pieces into one PDF, in order.

    The chunks are turned into PDF by ``processes`` workers (default ``pdf_processes()``;
    one chunk, or 1, renders here). ``progress(done, total)`` is called here after each chunk
    in order (a job reports it, and may raise there to stop: cancellation — the chunks not
    started are dropped and the workers stopped). No items gives a document of one empty
    chunk."""
    total = len(items)
    starts = range(0, max(total, 1), chunk)

    def html(start: int) -> str:
        part = items[start:start + chunk]
        extra = chunk_context(part) if chunk_context is not None else {}
        return render_to_string(template, {**context, **extra, items_name: part})

    def done(start: int) -> None:
        if progress is not None:
            progress(min(start + chunk, total), total)

    workers = min(processes or pdf_processes(), len(starts))
    pieces: list[bytes] = []
    if workers <= 1:
        for start in starts:
            pieces.append(html_to_pdf(html(start), extra_css=extra_css))
            done(start)
        return pdf_join(pieces)
    context_mp = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context_mp) as pool:
        pending: deque = deque()
        todo = iter(starts)
        try:
            for start in todo:
                pending.append((start, pool.submit(html_to_pdf, html(start),
                                                   extra_css=extra_css)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                start, future = pending.popleft()
                pieces.append(future.result())
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(html_to_pdf, html(nxt),
                                                     extra_css=extra_css)))
                done(start)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return pdf_join(pieces)


def pdf_join(pieces: Sequence[bytes]) -> bytes:
    """One PDF of the pages of ``pieces`` in order. The fonts that every piece embeds are
    stored once (identical objects merged), so a joined document is not fatter than a single
    render."""
    if len(pieces) == 1:
        return pieces[0]
    from pypdf import PdfWriter

    writer = PdfWriter()
    for piece in pieces:
        writer.append(io.BytesIO(piece))
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
