"""Fixtures of the whole-site browser tests (the walk, the screenshots)."""

from __future__ import annotations

import pytest


@pytest.fixture
def small_operation(settings, tmp_path):
    """The demo scenario at a small size (every group of the story, a few people each)."""
    from mawa.demo.loader import demo_load

    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    return demo_load(size=24)
