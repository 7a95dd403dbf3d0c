import shutil
import subprocess

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
