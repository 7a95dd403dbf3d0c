"""Checks on a file before it becomes evidence (protection.md R15): a safe name, an allowed
type whose first bytes match what its extension claims, a size cap, and for archives no zip bomb
and no member escaping the archive. No Django here, so importers and tests can call it alone.

Each refusal has a stable code (for the ledger entry that records the attempt) and a message.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

MAX_BYTES = 200 * 1024 * 1024  # a long interview video fits; a disk-filling upload does not
ZIP_MAX_MEMBERS = 2000
ZIP_MAX_TOTAL = 1024 * 1024 * 1024  # uncompressed
ZIP_MAX_RATIO = 100  # uncompressed / compressed, per member and overall


@dataclass(frozen=True)
class FileType:
    extension: str
    kind: str  # EvidenceKind value
    content_type: str


TYPES = {
    "pdf": FileType("pdf", "document", "application/pdf"),
    "png": FileType("png", "photo", "image/png"),
    "jpg": FileType("jpg", "photo", "image/jpeg"),
    "jpeg": FileType("jpeg", "photo", "image/jpeg"),
    "gif": FileType("gif", "photo", "image/gif"),
    "webp": FileType("webp", "photo", "image/webp"),
    "tif": FileType("tif", "photo", "image/tiff"),
    "tiff": FileType("tiff", "photo", "image/tiff"),
    "mp4": FileType("mp4", "video", "video/mp4"),
    "mov": FileType("mov", "video", "video/quicktime"),
    "webm": FileType("webm", "video", "video/webm"),
    "mp3": FileType("mp3", "audio", "audio/mpeg"),
    "m4a": FileType("m4a", "audio", "audio/mp4"),
    "wav": FileType("wav", "audio", "audio/wav"),
    "ogg": FileType("ogg", "audio", "audio/ogg"),
    "txt": FileType("txt", "text", "text/plain"),
    "zip": FileType("zip", "archive", "application/zip"),
}


class IntakeRefused(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def name_check(name: str) -> str:
    """Refuse names that could escape a directory or hide their type; return the extension."""
    if not name or len(name) > 200:
        raise IntakeRefused("bad_name", "The file name is empty or too long.")
    normal = unicodedata.normalize("NFC", name)
    if (_BAD_NAME.search(normal) or ".." in normal or normal.startswith(".")
            or normal != normal.strip()):
        raise IntakeRefused("path_traversal", "The file name contains a path or control "
                            "characters.")
    if "." not in normal:
        raise IntakeRefused("no_extension", "The file name has no extension.")
    ext = normal.rsplit(".", 1)[1].lower()
    if ext not in TYPES:
        raise IntakeRefused("type_not_allowed", f"Files of type .{ext} are not accepted.")
    return ext


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is fine
        return exc.start >= len(head) - 3
    return True


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
    if ext == "txt":
        return _looks_like_text(head)
    return False


def zip_check(data: bytes) -> None:
    """Refuse zip bombs and members whose names would escape the archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise IntakeRefused("type_mismatch", "The archive cannot be read.")
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise IntakeRefused("zip_bomb", "The archive holds too many files.")
    total = 0
    for m in members:
        name = m.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                or re.match(r"^[A-Za-z]:", name):
            raise IntakeRefused("path_traversal", "A file in the archive has a path that "
                                "leaves the archive.")
        total += m.file_size
        if m.compress_size and m.file_size / max(m.compress_size, 1) > ZIP_MAX_RATIO:
            raise IntakeRefused("zip_bomb", "The archive expands far beyond its size "
                                "(a zip bomb).")
        if m.filename.lower().endswith(".zip"):
            raise IntakeRefused("zip_bomb", "Archives inside archives are not accepted.")
    if total > ZIP_MAX_TOTAL or total > ZIP_MAX_RATIO * max(len(data), 1):
        raise IntakeRefused("zip_bomb", "The archive expands far beyond its size (a zip bomb).")
    # The declared sizes could lie: read every member with a hard cap on what comes out.
    budget = min(ZIP_MAX_TOTAL, ZIP_MAX_RATIO * max(len(data), 1))
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
                    raise IntakeRefused("zip_bomb", "The archive expands far beyond its size "
                                        "(a zip bomb).")


def intake_check(name: str, data: bytes) -> FileType:
    """Check a candidate evidence file; return its type or raise ``IntakeRefused``."""
    ext = name_check(name)
    if not data:
        raise IntakeRefused("empty", "The file is empty.")
    if len(data) > MAX_BYTES:
        raise IntakeRefused("too_large", "The file is larger than the limit.")
    if not magic_matches(ext, data[:64]):
        raise IntakeRefused("type_mismatch", f"The file is not what its extension .{ext} says.")
    if ext == "txt" and not _looks_like_text(data[:1 << 20]):
        raise IntakeRefused("type_mismatch", "The file is not plain text.")
    if ext == "zip":
        zip_check(data)
    return TYPES[ext]
