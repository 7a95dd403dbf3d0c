"""Every uploaded file passes here before it is kept (protection.md R15, attack test 11;
OWASP ASVS V12.1–V12.3).

One place decides what a file *is*, from its content and never from its name or the browser's
``Content-Type``:

- a safe name (no path, no control characters, no leading dot) when a name is kept at all;
- a size cap per use, checked before the content is read in full;
- the type from the first bytes (magic numbers); for evidence the extension must agree;
- markup in the first kilobyte of a binary file refused (an HTML/script polyglot that a
  browser might sniff), scripted SVG refused;
- images fully decoded by Pillow, with a pixel cap against decompression bombs;
- archives: member count, expansion ratio and total size capped while actually reading, and no
  member escaping the archive (``../``, absolute, drive letters), no nested archives.

``image_working_copy`` re-encodes a photo for everyday use (ID cards, roll calls, item photos):
the pixels are kept, everything else — EXIF with the GPS location where it was taken, the
camera's serial number, comments, trailing bytes of a polyglot — is dropped. Evidence originals
are *not* re-encoded: they stay bit for bit as received (R19, Berkeley Protocol).

Refusals raise ``UploadRefused`` with a stable ``code`` (for the ledger entry that records the
attempt) and a translatable ``message``.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

ZIP_MAX_MEMBERS = 2000
ZIP_MAX_TOTAL = 1024 * 1024 * 1024  # uncompressed
ZIP_MAX_RATIO = 100  # uncompressed / compressed, per member and overall
IMAGE_MAX_PIXELS = 40_000_000  # a 40-megapixel photo; a 1 KB PNG claiming 50 000² is a bomb
HEAD = 64  # bytes read to tell the type


@dataclass(frozen=True)
class FileType:
    extension: str
    kind: str  # photo, document, video, audio, text, archive, vector
    content_type: str


TYPES: dict[str, FileType] = {t.extension: t for t in (
    FileType("pdf", "document", "application/pdf"),
    FileType("png", "photo", "image/png"),
    FileType("jpg", "photo", "image/jpeg"),
    FileType("jpeg", "photo", "image/jpeg"),
    FileType("gif", "photo", "image/gif"),
    FileType("webp", "photo", "image/webp"),
    FileType("tif", "photo", "image/tiff"),
    FileType("tiff", "photo", "image/tiff"),
    FileType("mp4", "video", "video/mp4"),
    FileType("mov", "video", "video/quicktime"),
    FileType("webm", "video", "video/webm"),
    FileType("mp3", "audio", "audio/mpeg"),
    FileType("m4a", "audio", "audio/mp4"),
    FileType("wav", "audio", "audio/wav"),
    FileType("ogg", "audio", "audio/ogg"),
    FileType("txt", "text", "text/plain"),
    FileType("zip", "archive", "application/zip"),
    FileType("svg", "vector", "image/svg+xml"),
)}
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "tif", "tiff"})
# What the registry and custody take: a photo from a phone or a webcam, a scanned document.
PHOTO_TYPES = frozenset({"jpg", "png", "webp"})
SCAN_TYPES = frozenset({"jpg", "png", "webp", "pdf"})

MESSAGES = {
    "bad_name": _("The file name is empty or too long."),
    "path_traversal": _("The file name contains a path or control characters."),
    "no_extension": _("The file name has no extension."),
    "type_not_allowed": _("Files of this type are not accepted here."),
    "type_mismatch": _("The file is not what its extension says."),
    "empty": _("The file is empty."),
    "too_large": _("The file is larger than the limit."),
    "zip_bomb": _("The archive expands far beyond its size (a zip bomb)."),
    "polyglot": _("The file carries web page code inside it."),
    "scripted_svg": _("Drawings with scripts are not accepted."),
    "image_unreadable": _("The image cannot be read."),
    "image_bomb": _("The image is far larger than any photo (a decompression bomb)."),
}


class UploadRefused(Exception):
    def __init__(self, code: str, message=None):
        self.code = code
        self.message = message if message is not None else MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def name_check(name: str) -> str:
    """Refuse names that could escape a directory or hide their type; return the lower-case
    extension (without checking that it is allowed)."""
    if not name or len(name) > 200:
        raise UploadRefused("bad_name")
    normal = unicodedata.normalize("NFC", name)
    if (_BAD_NAME.search(normal) or ".." in normal or normal.startswith(".")
            or normal != normal.strip()):
        raise UploadRefused("path_traversal")
    if "." not in normal:
        raise UploadRefused("no_extension")
    return normal.rsplit(".", 1)[1].lower()


def looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is fine
        return exc.start >= len(head) - 3
    return True


def _is_svg(head: bytes) -> bool:
    text = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text) or \
        (text.startswith(b"<!doctype svg"))


def magic_matches(ext: str, head: bytes) -> bool:
    """Do the first bytes say what the extension says?"""
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in ("tif", "tiff"):
        return head[:4] in (b"II*\x00", b"MM\x00*")
    if ext in ("mp4", "mov", "m4a"):
        return head[4:8] == b"ftyp"
    if ext == "webm":
        return head.startswith(b"\x1a\x45\xdf\xa3")
    if ext == "mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF
                                           and head[1] & 0xE0 == 0xE0)
    if ext == "wav":
        return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if ext == "ogg":
        return head.startswith(b"OggS")
    if ext == "zip":
        return head.startswith(b"PK\x03\x04")
    if ext == "svg":
        return _is_svg(head)
    if ext == "txt":
        return looks_like_text(head) and not _is_svg(head)
    return False


_SNIFF_ORDER = ("pdf", "png", "jpg", "gif", "webp", "tif", "mp4", "webm", "wav", "ogg", "zip",
                "mp3", "svg")


def sniff(data: bytes) -> str | None:
    """The type the content shows (an extension), whatever the file is called."""
    head = data[:1024]
    for ext in _SNIFF_ORDER:
        if magic_matches(ext, head):
            return ext
    return "txt" if looks_like_text(head) else None


_MARKUP = re.compile(rb"<\s*(script|html|body|iframe|object|embed|svg|!doctype\s+html)\b", re.I)


def svg_is_scripted(data: bytes) -> bool:
    """An SVG that can run code: script elements, on* handlers, javascript: links, foreign
    HTML, external references."""
    text = data.lower()
    return bool(re.search(rb"<\s*script|\son[a-z]+\s*=|javascript:|<\s*foreignobject|"
                          rb"<!entity|xlink:href\s*=\s*[\"']?(?!#)|\shref\s*=\s*[\"']?(?!#)",
                          text))


def zip_check(data: bytes, *, max_members: int = ZIP_MAX_MEMBERS,
              max_total: int = ZIP_MAX_TOTAL, max_ratio: int = ZIP_MAX_RATIO,
              scan: Callable[[zipfile.ZipInfo, bytes], None] | None = None) -> None:
    """Refuse zip bombs and members whose names would escape the archive.

    The limits default to those of an uploaded archive; a use that knows its files better
    passes tighter ones (``reception.imports`` for XLSX workbooks). The declared sizes are
    checked first, from the directory alone; then every member is inflated with a hard cap
    on what comes out, since the declared sizes can lie. ``scan``, when given, sees every
    piece of every member as it comes out (e.g. to count a sheet's cells without building
    them), and may raise ``UploadRefused`` itself.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise UploadRefused("type_mismatch")
    members = archive.infolist()
    if len(members) > max_members:
        raise UploadRefused("zip_bomb")
    total = 0
    for m in members:
        name = m.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                or re.match(r"^[A-Za-z]:", name):
            raise UploadRefused("path_traversal")
        total += m.file_size
        if m.compress_size and m.file_size / max(m.compress_size, 1) > max_ratio:
            raise UploadRefused("zip_bomb")
        if m.filename.lower().endswith(".zip"):
            raise UploadRefused("zip_bomb")
    if total > max_total or total > max_ratio * max(len(data), 1):
        raise UploadRefused("zip_bomb")
    budget = min(max_total, max_ratio * max(len(data), 1))
    try:
        for m in members:
            if m.is_dir():
                continue
            with archive.open(m) as fh:
                while True:
                    piece = fh.read(1 << 16)
                    if not piece:
                        break
                    budget -= len(piece)
                    if budget < 0:
                        raise UploadRefused("zip_bomb")
                    if scan is not None:
                        scan(m, piece)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
            ValueError, OSError):
        # damaged, encrypted or in a method we cannot check: not accepted
        raise UploadRefused("type_mismatch")


def _open_image(data: bytes):
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > IMAGE_MAX_PIXELS:
            raise UploadRefused("image_bomb")
        img.load()
        return img
    except UploadRefused:
        raise
    except Image.DecompressionBombError:
        raise UploadRefused("image_bomb")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise UploadRefused("image_unreadable")


def upload_check(data: bytes, *, allowed: frozenset[str] | set[str], max_bytes: int,
                 name: str | None = None, extension_must_match: bool = False,
                 decode_images: bool = True) -> FileType:
    """Check an uploaded file; return its type or raise ``UploadRefused``.

    ``allowed`` lists the extensions this use accepts. The type is read from the content; when
    ``extension_must_match`` (evidence, whose name is kept), the name's extension must be
    allowed and agree with the content. ``name``, when given, is always checked for paths.
    ``decode_images=False`` skips the full decode: evidence may be a damaged image and is
    still evidence; it is never shown inline nor re-encoded.
    """
    ext_named = name_check(name) if name is not None else None
    if not data:
        raise UploadRefused("empty")
    if len(data) > max_bytes:
        raise UploadRefused("too_large")
    if extension_must_match:
        if ext_named is None or ext_named not in allowed or ext_named not in TYPES:
            raise UploadRefused("type_not_allowed")
        if not magic_matches(ext_named, data[:HEAD]):
            raise UploadRefused("type_mismatch")
        ext = ext_named
    else:
        ext = sniff(data)
        if ext is None or ext not in allowed:
            raise UploadRefused("scripted_svg" if ext == "svg" and svg_is_scripted(data)
                                else "type_not_allowed")
    if ext == "svg":
        if svg_is_scripted(data):
            raise UploadRefused("scripted_svg")
    elif ext == "txt":
        if not looks_like_text(data[:1 << 20]):
            raise UploadRefused("type_mismatch")
    elif _MARKUP.search(data[:1024]):
        raise UploadRefused("polyglot")
    if ext == "zip":
        zip_check(data)
    if decode_images and ext in IMAGE_EXTENSIONS:
        _open_image(data).close()
    return TYPES[ext]


@dataclass(frozen=True)
class WorkingCopy:
    data: bytes
    extension: str
    content_type: str


def image_working_copy(data: bytes, *, max_side: int | None = None) -> WorkingCopy:
    """Re-encode a photo: upright (EXIF orientation applied), pixels only. EXIF (GPS location,
    device serial), XMP, comments and anything after the image data are gone. PNG stays PNG
    when it has transparency; everything else becomes JPEG."""
    from PIL import Image, ImageOps

    img = _open_image(data)
    try:
        img = ImageOps.exif_transpose(img)
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side))
        out = io.BytesIO()
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        mode = "RGBA" if has_alpha else "RGB"
        pixels = img.convert(mode)
        # A new image from the raw pixels carries none of the original's metadata.
        clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
        if has_alpha:
            clean.save(out, format="PNG", optimize=True)
            return WorkingCopy(out.getvalue(), "png", "image/png")
        clean.save(out, format="JPEG", quality=90, optimize=True)
        return WorkingCopy(out.getvalue(), "jpg", "image/jpeg")
    finally:
        img.close()


def image_metadata(data: bytes) -> dict:
    """What an image carries besides its pixels (for tests and the operator): EXIF tags, with
    ``gps`` set when a location is present."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {"exif_tags": len(exif), "gps": bool(exif.get_ifd(0x8825)),
                "info": sorted(k for k in img.info if k not in ("dpi", "jfif", "jfif_version",
                                                               "jfif_unit", "jfif_density"))}
