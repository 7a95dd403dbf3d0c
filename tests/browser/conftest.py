"""Fixtures of the whole-site browser tests (the walk, the screenshots)."""

from __future__ import annotations

import pytest


@pytest.fixture
def small_operation(settings, tmp_path, monkeypatch):
    """The demo scenario, its arrival groups cut to a handful of people."""
    from mawa.custody import demo as custody_demo
    from mawa.demo.loader import demo_load
    from mawa.reception import demo as reception_demo

    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    small = []
    for row in reception_demo.GROUPS[:1] + reception_demo.GROUPS[-1:]:
        code, days, hour, _reported, _count, *rest = row
        small.append((code, days, hour, 14, 12, *rest))
    monkeypatch.setattr(reception_demo, "GROUPS", small)
    monkeypatch.setattr(custody_demo, "PERSONS", 10)
    return demo_load()
