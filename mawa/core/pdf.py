"""PDF rendering shared by receipts, ID cards, notifications and reports.

WeasyPrint renders HTML templates; the fonts are the vendored Noto files in
``core/static/fonts`` (no system fonts, no network), so Arabic is shaped by HarfBuzz, joined and
right-to-left. Render PDFs outside database transactions: it is slow work.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string

FONT_DIR = Path(__file__).resolve().parent / "static" / "fonts"

FONT_CSS = f"""
@font-face {{ font-family: "Mawa Naskh";
             src: url("file://{FONT_DIR}/NotoNaskhArabic-Regular.ttf"); }}
@font-face {{ font-family: "Mawa Naskh"; font-weight: bold;
             src: url("file://{FONT_DIR}/NotoNaskhArabic-Bold.ttf"); }}
@font-face {{ font-family: "Mawa Sans"; src: url("file://{FONT_DIR}/NotoSans-Regular.ttf"); }}
@font-face {{ font-family: "Mawa Sans"; font-weight: bold;
             src: url("file://{FONT_DIR}/NotoSans-Bold.ttf"); }}
html {{ font-family: "Mawa Sans", "Mawa Naskh"; }}
[lang="ar"], [dir="rtl"] {{ font-family: "Mawa Naskh", "Mawa Sans"; }}
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
