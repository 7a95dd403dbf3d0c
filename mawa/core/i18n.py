"""Compile the translation catalogues (.po → .mo) in pure Python, so that neither `make run`
nor the tests need GNU gettext on the machine."""

from __future__ import annotations

from pathlib import Path

import polib

# the ``mawa`` package: every app's catalogues are below it (the kernel does not import the
# settings, which sit above it, to learn this)
MAWA_DIR = Path(__file__).resolve().parents[1]


def catalogues() -> list[Path]:
    return sorted(MAWA_DIR.glob("**/locale/*/LC_MESSAGES/*.po"))


def compile_catalogues() -> list[Path]:
    """Write a .mo beside every .po whose .mo is missing or older; return what was written."""
    written = []
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written
