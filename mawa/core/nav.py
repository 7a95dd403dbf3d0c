"""The navigation menu. Each app adds its entries in ``AppConfig.ready``; an entry is shown
only to users who hold its permission (so the compartment never appears in anyone else's menu).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: object  # a lazy translation
    permission: str
    order: int = 50


NAV: list[NavEntry] = []


def nav_register(entry: NavEntry) -> None:
    if all(e.url_name != entry.url_name for e in NAV):
        NAV.append(entry)
        NAV.sort(key=lambda e: e.order)
