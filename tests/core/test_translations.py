"""Arabic first: every string that exists has an Arabic translation, in every app."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2] / "mawa"
MAWA = str(Path(sys.executable).with_name("mawa"))
APPS = sorted(p.parent.name for p in ROOT.glob("*/apps.py"))
MARKERS = ("gettext", "{% translate", "{% trans ", "{% blocktranslate", "{% blocktrans")


def _uses_translation(app_dir: Path) -> bool:
    for path in list(app_dir.rglob("*.py")) + list(app_dir.rglob("*.html")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if any(m in text for m in MARKERS):
            return True
    return False


def _catalogue(app: str) -> Path:
    return ROOT / app / "locale" / "ar" / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("app", APPS)
def test_every_app_with_strings_has_a_complete_arabic_catalogue(app):
    if not _uses_translation(ROOT / app):
        assert not _catalogue(app).exists() or polib.pofile(str(_catalogue(app))) is not None
        return
    po_path = _catalogue(app)
    assert po_path.exists(), f"mawa/{app} has translatable strings but no Arabic catalogue"
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {app}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {app}: {fuzzy[:10]}"


@pytest.mark.parametrize("app", APPS)
def test_catalogue_holds_every_string_in_the_source(app, tmp_path):
    """Re-extract the strings with makemessages and compare with the committed catalogue."""
    if not _uses_translation(ROOT / app):
        return
    assert shutil.which("xgettext"), "GNU gettext is needed (make test installs it)"
    copy = tmp_path / app
    shutil.copytree(ROOT / app, copy, ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
    (copy / "locale" / "ar" / "LC_MESSAGES" / "django.po").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["MAWA_VAR_DIR"] = str(tmp_path / "var")
    subprocess.run([MAWA, "makemessages", "-l", "ar"], cwd=copy, env=env, check=True,
                   capture_output=True)
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/ar/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(_catalogue(app))) if not e.obsolete}
    missing = sorted(fresh - committed)
    assert not missing, (f"strings of mawa/{app} missing from its Arabic catalogue (run "
                         f"makemessages in mawa/{app} and translate): {missing[:10]}")
