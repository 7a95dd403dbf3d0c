"""Checks on a file before it becomes evidence (protection.md R15): a safe name, an allowed
type whose first bytes match what its extension claims, a size cap, and for archives no zip bomb
and no member escaping the archive.

The checks themselves live in ``mawa.core.uploads``, the one place every upload goes through;
this module sets what evidence accepts. Evidence is never re-encoded: the original is kept bit
for bit (R19).
"""

from __future__ import annotations

from mawa.core.uploads import (  # noqa: F401  (re-exported for the compartment's callers)
    TYPES,
    FileType,
    magic_matches,
    name_check,
    upload_check,
    zip_check,
)
from mawa.core.uploads import UploadRefused as IntakeRefused

MAX_BYTES = 200 * 1024 * 1024  # a long interview video fits; a disk-filling upload does not
EVIDENCE_TYPES = frozenset(TYPES) - {"svg"}


def intake_check(name: str, data: bytes) -> FileType:
    """Check a candidate evidence file; return its type or raise ``IntakeRefused``."""
    return upload_check(data, name=name, allowed=EVIDENCE_TYPES, max_bytes=MAX_BYTES,
                        extension_must_match=True, decode_images=False)


__all__ = ["EVIDENCE_TYPES", "MAX_BYTES", "FileType", "IntakeRefused", "intake_check"]
