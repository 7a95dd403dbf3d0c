"""The navigation menu. Each app adds its entries in ``AppConfig.ready``; an entry is shown
only to users who hold its permission (so the compartment never appears in anyone else's menu).

An entry with ``menu`` (the ``url_name`` of another entry) is listed under that entry, in a
drop-down: pages used now and then (an import, an export, the audit trail) are one click away
without crowding the bar. Shown to someone who does not see the parent entry, it stands on its
own in the bar. ``kwargs`` are the URL's arguments (``{"fmt": "pdf"}``), as pairs.

Every page a role may open is reachable from here or from a page reached from here
(``tests/browser/test_officer_pages.py`` walks every role's menu: no entry answers 403/404).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: object  # a lazy translation
    permission: str
    order: int = 50
    menu: str = ""  # url_name of the entry this one is listed under
    kwargs: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return self.url_name + "".join(f"|{k}={v}" for k, v in self.kwargs)


NAV: list[NavEntry] = []


def nav_register(entry: NavEntry) -> None:
    if all(e.key != entry.key for e in NAV):
        NAV.append(entry)
        NAV.sort(key=lambda e: e.order)
