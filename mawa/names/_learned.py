"""A learned pair scorer: logistic regression over the rule-based comparisons.

The features of a pair are what the rule-based scorer (:mod:`mawa.names._model`) already
computes: one indicator per reason code it gives (``given_name.exact``,
``birth_place.diff``, ``military_id.diff``, ``chain.shifted`` …), the evidence in bits of
the frequency-weighted ones (a shared rare name weighs more than a shared Mohammed), and
the rule-based total itself. A logistic regression over them gives a calibrated
probability; each reason's share of the log-odds (its weight times its value) is kept, so
the reviewer sees the same reasons, weighed as the model weighs them.

Pure Python (no numpy): the model is a few dozen weights, scoring is a dot product over
about a dozen non-zero features, and training on a hundred thousand pairs takes seconds.
A model is stored as a small JSON file; :func:`default_model` loads the one shipped with
the package (trained on the project's generator, see ``bench/names/train.py``).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

LN2 = math.log(2.0)
DEFAULT_MODEL_PATH = Path(__file__).with_name("model_default.json")

# Reason codes whose weight in bits varies with the names' frequency (or the capped
# amount); their value is a feature besides their indicator.
_GRADED_SUFFIXES = (".exact", ".variant")
_GRADED_CODES = frozenset({"birth_place.same", "family_group.capped"})
RULE_FEATURE = "rule.bits"
RULE_CODE = "model.rule_score"


def _rule_features(rule_bits: float) -> dict[str, float]:
    # The rule-based total, with hinges at 0, 10 and 20 bits so that the model can be more
    # (or less) sure of strong evidence than a straight line allows.
    x = max(-40.0, min(40.0, rule_bits))
    return {
        RULE_FEATURE: x / 10.0,
        RULE_FEATURE + "<0": min(x, 0.0) / 10.0,
        RULE_FEATURE + ">10": max(x - 10.0, 0.0) / 10.0,
        RULE_FEATURE + ">20": max(x - 20.0, 0.0) / 10.0,
    }


def pair_features(rule_bits: float, reasons: Iterable[Any]) -> dict[str, float]:
    """Features of a pair from the rule-based total and reasons (``code``, ``weight``)."""
    feats = _rule_features(rule_bits)
    for r in reasons:
        code = r.code
        feats[code] = feats.get(code, 0.0) + 1.0
        if code in _GRADED_CODES or ("_name." in code and code.endswith(_GRADED_SUFFIXES)):
            feats[code + "~bits"] = r.weight / 10.0
    return feats


@dataclass
class Model:
    """Logistic-regression weights (natural log-odds per unit of a feature) and metadata.

    ``meta`` records how the model was made: ``version``, training set size, held-out
    figures; it is shown to an administrator before a model is promoted.
    """

    weights: dict[str, float]
    intercept: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """The model's version string (from ``meta``), ``""`` if none was recorded."""
        return str(self.meta.get("version", ""))

    def log_odds(self, feats: dict[str, float]) -> float:
        """Natural log-odds that the pair with features ``feats`` is one person."""
        w = self.weights
        return self.intercept + sum(w.get(k, 0.0) * v for k, v in feats.items())

    def probability(self, feats: dict[str, float]) -> float:
        """Calibrated probability for the features ``feats``."""
        return _sigmoid(self.log_odds(feats))

    def contributions(self, rule_bits: float, reasons: Sequence[Any]) -> list[tuple[Any, float]]:
        """Each rule reason with its share of the model's evidence, in bits.

        The rule-based total's share and the intercept are returned as one more entry with
        reason ``None``. The shares add up to the model's total log-odds in bits.
        """
        w = self.weights
        out: list[tuple[Any, float]] = []
        for r in reasons:
            c = w.get(r.code, 0.0)
            graded = r.code + "~bits"
            if graded in w:
                c += w[graded] * r.weight / 10.0
            out.append((r, c / LN2))
        rule = self.intercept + sum(w.get(k, 0.0) * v for k, v in _rule_features(rule_bits).items())
        out.append((None, rule / LN2))
        return out

    def to_json(self) -> str:
        """The model as JSON text (weights rounded to 5 decimals)."""
        return json.dumps(
            {
                "meta": self.meta,
                "intercept": round(self.intercept, 5),
                "weights": {k: round(v, 5) for k, v in sorted(self.weights.items())},
            },
            indent=1,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Model:
        """Read a model written by :meth:`to_json`; ``ValueError`` if it is not one."""
        try:
            data = json.loads(text)
            weights = {str(k): float(v) for k, v in data["weights"].items()}
            return cls(weights, float(data["intercept"]), dict(data.get("meta") or {}))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a mawa.names model: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Read a model file."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_model() -> Model | None:
    """The model shipped with the package, or ``None`` if its file is missing or broken
    (scoring then falls back to the rule-based scorer)."""
    try:
        return Model.load(DEFAULT_MODEL_PATH)
    except (OSError, ValueError):
        return None


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def train_model(
    examples: Sequence[tuple[dict[str, float], int]],
    *,
    prior: Model | None = None,
    l2: float = 1.0,
    epochs: int = 40,
    seed: int = 0,
    sample_weights: Sequence[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> Model:
    """Fit a logistic regression on ``(features, label)`` pairs (label 1 = one person).

    L2 regularisation (``l2 / 1000`` on the mean loss) pulls every weight toward
    ``prior``'s (toward 0 without a prior) — so reviewer decisions move a default model
    where they disagree with it, and leave it alone on what they say nothing about.
    Mini-batch Adam, ``epochs`` passes, seeded: the same examples give the same model.
    """
    rng = random.Random(seed)
    base_w = dict(prior.weights) if prior else {}
    base_b = prior.intercept if prior else 0.0
    w: dict[str, float] = dict(base_w)
    b = base_b
    sw = list(sample_weights) if sample_weights is not None else [1.0] * len(examples)
    reg = l2 / 1000.0
    m: dict[str, float] = {}
    v: dict[str, float] = {}
    mb = vb = 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    order = list(range(len(examples)))
    batch = 256
    t = 0
    for _epoch in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            grad: dict[str, float] = {}
            gb = 0.0
            bw = 0.0
            for i in idx:
                feats, y = examples[i]
                z = b + sum(w.get(k, 0.0) * x for k, x in feats.items())
                err = (_sigmoid(z) - y) * sw[i]
                bw += sw[i]
                gb += err
                for k, x in feats.items():
                    grad[k] = grad.get(k, 0.0) + err * x
            if not bw:
                continue
            t += 1
            # Regularise the weights this batch touches toward the prior's.
            for k in grad:
                grad[k] = grad[k] / bw + reg * (w.get(k, 0.0) - base_w.get(k, 0.0))
            gb /= bw
            corr1, corr2 = 1 - beta1**t, 1 - beta2**t
            for k, g in grad.items():
                m[k] = beta1 * m.get(k, 0.0) + (1 - beta1) * g
                v[k] = beta2 * v.get(k, 0.0) + (1 - beta2) * g * g
                w[k] = w.get(k, 0.0) - lr * (m[k] / corr1) / (math.sqrt(v[k] / corr2) + eps)
            mb = beta1 * mb + (1 - beta1) * gb
            vb = beta2 * vb + (1 - beta2) * gb * gb
            b -= lr * (mb / corr1) / (math.sqrt(vb / corr2) + eps)
        lr *= 0.85
    info = {"examples": len(examples), "positives": sum(1 for _f, y in examples if y)}
    return Model(w, b, {**info, **(meta or {})})
