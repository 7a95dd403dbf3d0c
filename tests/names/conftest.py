"""Fixtures for the names library tests: plain pytest, no Django, no database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The generator lives under bench/names/; make it importable as bench.names.generate.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADER = (
    "record_id,site,given_name,father_name,grandfather_name,family_name,mother_name,sex,"
    "birth_date,birth_place,nationality,military_id,national_id"
)


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write rows (strings, already comma-joined) under the contract header; return the path."""

    def write(name: str, rows: list[str], header: str = HEADER) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write
