"""Upload safety in one place (protection.md R15, attack test 11): oversize, zip bomb,
polyglot, path traversal, scripted SVG refused; EXIF GPS stripped from working copies; and the
registry, custody and the compartment all going through ``mawa.core.uploads``."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from PIL import Image

from mawa.core import uploads
from mawa.core.uploads import UploadRefused, upload_check


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Camera 1.0"  # Software
    gps = {1: "N", 2: (33.0, 24.0, 44.28), 3: "E", 4: (40.0, 59.0, 6.36)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG")
    return out.getvalue()


def refused(code, data, **kw):
    kw.setdefault("allowed", uploads.PHOTO_TYPES)
    kw.setdefault("max_bytes", 5 * 1024 * 1024)
    with pytest.raises(UploadRefused) as exc:
        upload_check(data, **kw)
    assert exc.value.code == code, exc.value.code
    assert str(exc.value.message)


def test_a_real_photo_is_accepted_by_its_content_whatever_its_name():
    assert upload_check(png(), name="IMG_0001.JPG", allowed=uploads.PHOTO_TYPES,
                        max_bytes=1 << 20).extension == "png"


def test_oversize_is_refused():
    refused("too_large", png(), max_bytes=10)


def test_empty_is_refused():
    refused("empty", b"")


def test_a_pdf_named_photo_is_refused_where_only_photos_go():
    refused("type_not_allowed", b"%PDF-1.4 hello", name="photo.jpg")


def test_extension_must_agree_with_content_for_evidence():
    refused("type_mismatch", b"%PDF-1.4 hello", name="photo.png", allowed={"png", "pdf"},
            extension_must_match=True)


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\boot.png", "/abs.png",
                                  "a\x00b.png", ".hidden.png", "C:evil.png"])
def test_path_traversal_names_are_refused(name):
    refused("path_traversal", png(), name=name)


def test_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", b"\0" * (20 * 1024 * 1024))
    refused("zip_bomb", buf.getvalue(), allowed={"zip"}, max_bytes=1 << 30)


def test_zip_member_escaping_the_archive_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../outside.txt", b"x")
    refused("path_traversal", buf.getvalue(), allowed={"zip"}, max_bytes=1 << 30)


def test_nested_archives_are_refused():
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.txt", b"a")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner.zip", inner.getvalue())
    refused("zip_bomb", buf.getvalue(), allowed={"zip"}, max_bytes=1 << 30)


def test_html_polyglot_is_refused():
    # a GIF header followed by a page a browser could sniff and run
    refused("polyglot", b"GIF89a<html><script>alert(1)</script></html>",
            allowed={"gif"})


def test_a_truncated_image_is_refused():
    refused("image_unreadable", png()[:40])


def test_a_decompression_bomb_image_is_refused():
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")  # 64 MP, a few KB
    refused("image_bomb", out.getvalue(), max_bytes=1 << 30)


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b'<?xml version="1.0"?><svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
    b'<svg><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"/></foreignObject></svg>',
])
def test_scripted_svg_is_refused_even_where_drawings_are_allowed(svg):
    refused("scripted_svg", svg, allowed={"svg"})
    refused("scripted_svg", svg)  # and where they are not


def test_a_plain_svg_passes_only_where_drawings_are_allowed():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>'
    assert upload_check(svg, allowed={"svg"}, max_bytes=1024).extension == "svg"
    refused("type_not_allowed", svg)


def test_working_copy_drops_exif_and_gps():
    original = jpeg_with_gps()
    assert uploads.image_metadata(original)["gps"]
    copy = uploads.image_working_copy(original)
    meta = uploads.image_metadata(copy.data)
    assert not meta["gps"] and meta["exif_tags"] == 0
    assert b"PhoneMaker" not in copy.data
    with Image.open(io.BytesIO(copy.data)) as img:
        assert img.size == (64, 48)


def test_working_copy_drops_bytes_appended_after_the_image():
    copy = uploads.image_working_copy(png() + b"PK\x03\x04 appended archive")
    assert b"appended archive" not in copy.data


# --- every upload goes through core.uploads ---------------------------------------------

@pytest.mark.django_db
def test_registry_photo_is_stored_without_location(users, sites):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mawa.reception.services import PersonInput, person_register

    person, _ = person_register(
        actor=users["reception_officer"], site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "سالم", "sex": "male"}, birth="1990",
                         photo=SimpleUploadedFile("face.jpg", jpeg_with_gps(), "image/jpeg")))
    with person.photo.open("rb") as fh:
        stored = fh.read()
    assert not uploads.image_metadata(stored)["gps"]
    assert b"PhoneMaker" not in stored


@pytest.mark.django_db
def test_registry_refuses_a_polyglot_photo(users, sites):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mawa.core.errors import ValidationFailed
    from mawa.reception.services import PersonInput, person_register

    with pytest.raises(ValidationFailed) as exc:
        person_register(
            actor=users["reception_officer"], site=sites["RHM"], client_key=uuid.uuid4(),
            data=PersonInput(values={"given_ar": "سالم", "sex": "male"}, birth="1990",
                             photo=SimpleUploadedFile(
                                 "face.jpg", b"\xff\xd8\xff<html><script>x</script>",
                                 "image/jpeg")))
    assert "photo" in exc.value.fields


def test_custody_photo_check_goes_through_core():
    from mawa.custody.services import image_ok

    assert image_ok(png())
    assert not image_ok(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>")
    assert not image_ok(b'<svg onload="alert(1)"/>')


def test_evidence_intake_goes_through_core():
    from mawa.accountability import intake

    assert intake.IntakeRefused is UploadRefused
    with pytest.raises(UploadRefused) as exc:
        intake.intake_check("../x.pdf", b"%PDF-1.4")
    assert exc.value.code == "path_traversal"
    # evidence is kept as received: a damaged image is still evidence
    assert intake.intake_check("damaged.png", png()[:40]).extension == "png"
