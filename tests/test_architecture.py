"""What import-linter cannot see: that every app is wired in.

The contracts in pyproject.toml (``make lint`` runs ``lint-imports``) hold the direction of
every import. Since the wiring mounts each app by a plain import instead of a loop over app
names, a new app whose pages, API router or demo data were not added there would silently stay
out; these tests fail instead.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.urls import URLResolver, get_resolver

from mawa import api
from mawa.demo.loader import APP_DEMOS

ROOT = Path(__file__).resolve().parents[1] / "mawa"
APPS = sorted(p.parent.name for p in ROOT.glob("*/apps.py"))


def _with(module: str) -> list[str]:
    return [app for app in APPS if (ROOT / app / module).exists()]


def _mounted_urlconfs(resolver) -> set[str]:
    found = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            name = getattr(pattern.urlconf_module, "__name__", None)
            if name:
                found.add(name)
            found |= _mounted_urlconfs(pattern)
    return found


def test_every_app_is_installed():
    installed = {config.name for config in apps.get_app_configs()}
    assert {f"mawa.{app}" for app in APPS} <= installed


def test_every_urls_module_is_mounted():
    mounted = _mounted_urlconfs(get_resolver())
    assert {f"mawa.{app}.urls" for app in _with("urls.py")} <= mounted


def test_every_api_router_is_mounted_under_its_app():
    prefixes = {str(p.pattern).split("/")[0] for p in api.api.urls[0]}
    assert set(_with("api.py")) <= prefixes


def test_the_demo_loads_every_app_with_demo_data():
    assert {m.__name__ for m in APP_DEMOS} == {f"mawa.{app}.demo" for app in _with("demo.py")}
