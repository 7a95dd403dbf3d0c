"""Learning from the review queue: train a candidate scorer, promote it.

``model_train`` takes the decided registry-duplicate pairs (``match`` / ``not_match``) as
training rows on top of the model in use (or the one shipped with ``mawa.names``) as a
prior, holds every fifth decision out, writes the candidate to ``VAR_DIR/matching-models``
and records its version, training set size and held-out figures (beside the current
model's on the same pairs) on the ledger. ``model_promote`` makes a candidate the one the
matching app scores with; nothing else changes the model in use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.matching import engine
from mawa.matching.models import Decision, MatchPair, PairKind
from mawa.matching.scoring_model import (
    POINTER,
    model_in_use,
    model_path,
    models_dir,
    version_in_use,
)
from mawa.matching.selectors import prepared_record, scorer_for
from mawa.names import Model, Prepared, Scorer, default_model, train_model

STREAM = "matching/models"
SYSTEM = "system:cli"
HOLD_OUT_EVERY = 5


@dataclass(frozen=True)
class Candidate:
    model: Model
    version: str
    trained_on: int
    held_out: dict
    current_held_out: dict


def _require(actor, perm: str) -> None:
    if actor is not None:
        access.require(actor, perm)


def decided_pairs() -> list[tuple[Prepared, Prepared, int]]:
    """The review queue's decided duplicate pairs as ``(a, b, 1 = same person)``, oldest first."""
    qs = (MatchPair.objects.filter(kind=PairKind.DUPLICATE,
                                   decision__in=[Decision.MATCH, Decision.NOT_MATCH])
          .select_related("person_a", "person_b").order_by("decided_at", "id"))
    return [(prepared_record(engine.person_record(p.person_a)),
             prepared_record(engine.person_record(p.person_b)),
             int(p.decision == Decision.MATCH)) for p in qs]


def figures(model: Model | None, freqs_from: Scorer, pairs) -> dict:
    """Accuracy at probability 0.5 and log loss of ``model`` (``None``: rule-based) on pairs."""
    scorer = Scorer(freqs_from.freqs, model=model)
    right, loss = 0, 0.0
    for a, b, y in pairs:
        p = min(max(scorer.probability(scorer.bits(a, b, False)[0]), 1e-6), 1 - 1e-6)
        right += int((p >= 0.5) == bool(y))
        loss -= math.log(p if y else 1 - p)
    n = max(len(pairs), 1)
    return {"pairs": len(pairs), "accuracy": round(right / n, 4), "log_loss": round(loss / n, 4)}


def model_train(*, actor, version: str = "") -> Candidate:
    """Train a candidate model from the queue's decisions; it is not put in use."""
    _require(actor, Perm.MATCH_RUN)
    pairs = decided_pairs()
    held = pairs[HOLD_OUT_EVERY - 1::HOLD_OUT_EVERY]
    fit = [x for i, x in enumerate(pairs) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1]
    if not fit:
        raise ValidationFailed(_("No decided pairs to learn from yet."), code="no_decisions")
    rules = scorer_for([p for a, b, _y in pairs for p in (a, b)])  # registry frequencies
    current = model_in_use()
    prior = current or default_model()
    version = version or f"review-{timezone.now():%Y%m%d%H%M%S}-{len(fit)}"
    model = train_model([(rules.features(a, b), y) for a, b, y in fit], prior=prior, l2=0.1,
                        meta={"version": version, "prior": prior.version if prior else "",
                              "trained_on": len(fit)})
    held_out, current_held_out = figures(model, rules, held), figures(current, rules, held)
    model.meta.update(held_out=held_out, current_held_out=current_held_out)
    models_dir().mkdir(parents=True, exist_ok=True)
    model_path(version).write_text(model.to_json() + "\n", encoding="utf-8")
    ledger_append(stream=STREAM, kind="matching.model_trained", actor=actor or SYSTEM,
                  payload={"version": version, "prior": model.meta["prior"],
                           "trained_on": len(fit), "held_out": held_out,
                           "current": version_in_use(), "current_held_out": current_held_out})
    return Candidate(model, version, len(fit), held_out, current_held_out)


def model_promote(*, actor, version: str) -> Model:
    """Make the candidate ``version`` the model the matching app scores with."""
    _require(actor, Perm.ADMIN_SITE)
    try:
        model = Model.load(model_path(version))
    except (OSError, ValueError):
        raise NotFound(_("No such candidate model."), code="no_model") from None
    previous = version_in_use()
    pointer = models_dir() / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(pointer)
    ledger_append(stream=STREAM, kind="matching.model_promoted", actor=actor or SYSTEM,
                  payload={"version": version, "previous": previous,
                           "held_out": model.meta.get("held_out", {})})
    return model
