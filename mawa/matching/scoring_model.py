"""Which learned scorer the matching app uses: the model an administrator promoted, if any.

Candidate models (``mawa matching train``) are JSON files in ``VAR_DIR/matching-models/``;
the file ``in-use`` there names the promoted one (``mawa matching promote-model``). Until a
model is promoted, the matching app scores with the rule-based scorer, as before: a
model never replaces the one in use silently. Read side only; training and promotion are
in :mod:`mawa.matching.learning`.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from mawa.names import Model

POINTER = "in-use"
_cache: dict[str, tuple[float, Model | None]] = {}


def models_dir() -> Path:
    """The directory of candidate and promoted models."""
    return Path(settings.VAR_DIR) / "matching-models"


def model_path(version: str) -> Path:
    """The file of the model ``version``."""
    return models_dir() / f"{version}.json"


def version_in_use() -> str:
    """The promoted model's version, ``""`` when the rule-based scorer is in use."""
    try:
        return (models_dir() / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def model_in_use() -> Model | None:
    """The promoted model (``None``: the rule-based scorer), re-read when the pointer moves."""
    pointer = models_dir() / POINTER
    try:
        stamp = pointer.stat().st_mtime_ns
    except OSError:
        return None
    key = str(pointer)
    cached = _cache.get(key)
    if cached is None or cached[0] != stamp:
        try:
            model: Model | None = Model.load(model_path(version_in_use()))
        except (OSError, ValueError):
            model = None  # a broken or missing file: fall back, never fail scoring
        _cache[key] = cached = (stamp, model)
    return cached[1]
