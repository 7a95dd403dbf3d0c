import shutil
import subprocess

import pytest

from mawa.core.pdf import html_to_pdf


def test_arabic_pdf_embeds_the_vendored_naskh_font(tmp_path):
    pdf = html_to_pdf('<html lang="ar" dir="rtl"><body><p>محمد بن عبد الرحمن</p>'
                      '<p lang="en" dir="ltr">Receipt</p></body></html>')
    assert pdf.startswith(b"%PDF")
    out = tmp_path / "a.pdf"
    out.write_bytes(pdf)
    assert shutil.which("pdftotext"), "poppler-utils is installed by make test"
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                           check=True).stdout
    assert "Mawa-Naskh" in fonts and "Mawa-Sans" in fonts  # the vendored files, embedded
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Receipt" in text
    # the Arabic words come back as words (shaped glyphs map to their letters)
    assert "محمد" in text


# --- long documents in chunks, turned into PDF by worker processes ---------------------------

CHUNK_TEMPLATES = {
    "chunks.html": '<html><body>{% for i in items %}<p style="break-after: page">item-{{ i }}'
                   "</p>{% endfor %}</body></html>"}


def _chunk_settings():
    from django.test import override_settings

    return override_settings(TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", CHUNK_TEMPLATES)]}}])


def _page_texts(pdf: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [page.extract_text().strip() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("processes", [1, 2])
def test_chunks_are_joined_in_order_with_progress_after_each(processes):
    from mawa.core.pdf import render_pdf_chunked

    calls = []
    with _chunk_settings():
        pdf = render_pdf_chunked("chunks.html", list(range(7)), {}, chunk=2,
                                 processes=processes,
                                 progress=lambda done, total: calls.append((done, total)))
    assert _page_texts(pdf) == [f"item-{i}" for i in range(7)]
    assert calls == [(2, 7), (4, 7), (6, 7), (7, 7)]


def test_a_progress_that_raises_stops_the_workers_and_the_document():
    """A job cancelled while its PDF renders: the exception raised by the progress callback
    comes out of ``render_pdf_chunked`` (the chunks not started are dropped)."""
    from mawa.core.pdf import render_pdf_chunked

    class Cancelled(Exception):
        pass

    def progress(done, total):
        raise Cancelled

    with _chunk_settings(), pytest.raises(Cancelled):
        render_pdf_chunked("chunks.html", list(range(20)), {}, chunk=2, processes=2,
                           progress=progress)


def test_the_number_of_pdf_processes_is_a_setting(settings):
    from mawa.core.pdf import pdf_processes

    settings.MAWA_PDF_PROCESSES = 1
    assert pdf_processes() == 1
    settings.MAWA_PDF_PROCESSES = 3
    assert pdf_processes() == 3
