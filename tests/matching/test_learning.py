"""Learning from the review queue: train a candidate from decisions, promote it."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.matching import learning, scoring_model, selectors
from mawa.matching.engine import person_record
from mawa.matching.models import Decision, MatchPair, PairKind
from mawa.names import DEFAULT_MODEL, Scorer

GIVEN = ["Wissam", "Ghassan", "Firas", "Bashar", "Ziad", "Tarek", "Maher", "Rami", "Samer",
         "Shadi", "Qasim", "Yusuf", "Ibrahim", "Mahmoud", "Hassan", "Hussein", "Khaled",
         "Omar", "Ahmad", "Ali", "Jamal", "Nabil", "Walid", "Adel", "Karim", "Fadi", "Hani",
         "Imad", "Munir", "Rashid"]
FAMILY = ["Najjar", "Haddad", "Khatib", "Shami", "Tamimi", "Zoubi", "Homsi", "Hamawi",
          "Halabi", "Jubouri", "Dulaimi", "Obaidi", "Kubaisi", "Rawi", "Ani", "Saadi"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _values(i, place):
    return {"given_lat": GIVEN[i % len(GIVEN)], "father_lat": GIVEN[(i * 7 + 3) % len(GIVEN)],
            "family_lat": FAMILY[i % len(FAMILY)], "place_of_birth": place}


def _decided_pair(register, i, place_b, decision):
    a = register(birth=f"{1970 + i % 30}", **_values(i, "Homs"))
    b = register(birth=f"{1970 + i % 30}", **_values(i, place_b))
    a, b = sorted((a, b), key=lambda p: p.pk)
    # Registration may already have suggested the pair; either way a reviewer decides it.
    MatchPair.objects.update_or_create(
        kind=PairKind.DUPLICATE, person_a=a, person_b=b,
        defaults={"probability": 0.9, "decision": decision, "decided_at": timezone.now()})


def _p(scorer, a, b):
    return scorer.probability(scorer.bits(a, b, False)[0])


@pytest.mark.django_db
def test_decisions_in_the_queue_train_a_candidate_that_decides_that_class_their_way(
        register, capsys):
    # The class: same names and birth year, another birth place. Reviewers decided that such
    # pairs are two people; the shipped model leans the other way.
    for i in range(50):
        _decided_pair(register, i, "Aleppo", Decision.NOT_MATCH)
    for i in range(100, 120):  # a few decisions of another class keep the model honest
        _decided_pair(register, i, "Homs", Decision.MATCH)
    held = [(register(birth=f"{1970 + i % 30}", **_values(i, "Homs")),
             register(birth=f"{1970 + i % 30}", **_values(i, "Aleppo")))
            for i in range(200, 210)]
    held = [tuple(selectors.prepared_record(person_record(p)) for p in ab) for ab in held]
    freqs = selectors.scorer_for([p for ab in held for p in ab]).freqs
    shipped = Scorer(freqs, model=DEFAULT_MODEL)
    assert sum(_p(shipped, a, b) >= 0.5 for a, b in held) > len(held) / 2

    call_command("matching", "train", "--version", "queue-1")
    assert "candidate model queue-1: 56 decisions" in capsys.readouterr().out
    candidate = learning.Model.load(scoring_model.model_path("queue-1"))
    assert candidate.meta["trained_on"] == 56
    after = Scorer(freqs, model=candidate)
    assert all(_p(after, a, b) < 0.5 for a, b in held)
    entry = LedgerEntry.objects.get(stream=learning.STREAM, kind="matching.model_trained")
    assert '"version":"queue-1"' in entry.payload.replace(" ", "")
    assert '"held_out"' in entry.payload

    # Not in use until promoted: the matching app still scores with the rule-based scorer.
    assert scoring_model.model_in_use() is None
    assert selectors.scorer_for(held[0]).model is None

    call_command("matching", "promote-model", "queue-1")
    assert scoring_model.version_in_use() == "queue-1"
    in_use = selectors.scorer_for([p for ab in held for p in ab])
    assert in_use.model is not None and in_use.model.version == "queue-1"
    assert all(_p(in_use, a, b) < 0.5 for a, b in held)
    assert LedgerEntry.objects.filter(stream=learning.STREAM,
                                      kind="matching.model_promoted").count() == 1


@pytest.mark.django_db
def test_train_without_decisions_and_promote_of_an_unknown_model_are_refused():
    with pytest.raises(ValidationFailed):
        learning.model_train(actor=None)
    with pytest.raises(NotFound):
        learning.model_promote(actor=None, version="nope")
    assert scoring_model.model_in_use() is None
