"""Home-page panels by role. Apps add panel providers; each provider decides for itself
(through ``access``) whether the user may see it."""

from __future__ import annotations

from collections.abc import Callable

PANEL_PROVIDERS: list[Callable] = []


def panel_register(provider: Callable) -> None:
    if provider not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(provider)


def dashboard_panels(request) -> list[dict]:
    panels = []
    for provider in PANEL_PROVIDERS:
        panel = provider(request)
        if panel:
            panels.append(panel)
    return panels
