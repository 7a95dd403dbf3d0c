"""The learned scorer: shipped model, explanation, fallback, retraining from decisions."""

import csv
import json
import math

import pytest

from mawa.names import (
    CSV_COLUMNS,
    DEFAULT_MODEL,
    Model,
    NameFrequencies,
    NameRecord,
    Scorer,
    default_model,
    prepare,
    score_pair,
    train_model,
)
from mawa.names.cli import main

GIVEN = ["Wissam", "Ghassan", "Firas", "Bashar", "Ziad", "Tarek", "Maher", "Rami", "Samer",
         "Shadi", "Qasim", "Yusuf", "Ibrahim", "Mahmoud", "Hassan", "Hussein", "Khaled",
         "Omar", "Ahmad", "Ali", "Jamal", "Nabil", "Walid", "Adel", "Karim", "Fadi", "Hani",
         "Imad", "Munir", "Rashid"]
FAMILY = ["Najjar", "Haddad", "Khatib", "Shami", "Tamimi", "Zoubi", "Homsi", "Hamawi",
          "Halabi", "Jubouri", "Dulaimi", "Obaidi", "Kubaisi", "Rawi", "Ani", "Saadi"]


def test_the_shipped_model_is_loaded_and_used_by_default():
    model = default_model()
    assert model is not None and model.version
    a = NameRecord("1", given_name="محمد", father_name="أحمد", family_name="الحلبي",
                   birth_date="1990-03-05")
    b = NameRecord("2", given_name="Mohammed", father_name="Ahmed", family_name="Al-Halabi",
                   birth_date="1990-03-05")
    m = score_pair(a, b)
    assert "model.rule_score" in {r.code for r in m.reasons}
    rules = score_pair(a, b, model=None)
    assert rules.probability > 0.5 and m.probability > 0.5


def test_each_reason_carries_its_share_and_the_shares_add_up():
    a = prepare(NameRecord("1", given_name="Omar", father_name="Khaled", family_name="Homsi",
                           birth_date="1990-02-01", birth_place="Homs", military_id="123456"))
    b = prepare(NameRecord("2", given_name="عمر", father_name="خالد", family_name="الحمصي",
                           birth_date="1990", birth_place="Aleppo", military_id="654321"))
    scorer = Scorer(model=DEFAULT_MODEL)
    bits, reasons = scorer.bits(a, b)
    assert sum(r.weight for r in reasons) == pytest.approx(bits, abs=0.05)
    codes = {r.code for r in reasons}
    assert {"birth_place.diff", "military_id.diff", "given_name.exact"} <= codes
    assert scorer.probability(bits) == pytest.approx(1 / (1 + 2 ** -bits))


def test_without_a_model_the_rule_based_scorer_decides():
    a = prepare(NameRecord("1", given_name="Omar", family_name="Homsi"))
    b = prepare(NameRecord("2", given_name="Omar", family_name="Homsi"))
    bits, reasons = Scorer(model=None).bits(a, b)
    assert "model.rule_score" not in {r.code for r in reasons}
    assert Scorer().model is None  # the class default: the Django side chooses its model


def test_a_model_file_round_trips_and_a_broken_one_is_refused(tmp_path):
    model = default_model()
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    again = Model.load(path)
    assert again.weights == pytest.approx(model.weights, abs=1e-4)
    assert again.meta == model.meta
    path.write_text("{}")
    with pytest.raises(ValueError):
        Model.load(path)


def _pair(i, place_b):
    g, f, fam = GIVEN[i % len(GIVEN)], GIVEN[(i * 7 + 3) % len(GIVEN)], FAMILY[i % len(FAMILY)]
    common = {"given_name": g, "father_name": f, "family_name": fam, "sex": "M"}
    a = NameRecord(f"a{i}", birth_date=f"{1970 + i % 30}", birth_place="Homs", **common)
    b = NameRecord(f"b{i}", birth_date=f"{1970 + i % 30}", birth_place=place_b, **common)
    return prepare(a), prepare(b)


def test_retraining_on_reviewer_decisions_decides_held_out_pairs_of_that_class_their_way():
    # The class: same three names and birth year, another birth place. Reviewers (here)
    # decided every such pair is two people; the default model leans the other way.
    pairs = [_pair(i, "Aleppo") for i in range(60)]
    freqs = NameFrequencies.from_records([p for ab in pairs for p in ab])
    default = Scorer(freqs, model=DEFAULT_MODEL)
    train, held = pairs[:40], pairs[40:]
    before = [default.probability(default.bits(a, b, False)[0]) for a, b in held]
    assert sum(p >= 0.5 for p in before) > len(held) / 2
    rules = Scorer(freqs, model=None)
    # A few decisions of other classes keep the model honest about what it did not see.
    same = [_pair(i, "Homs") for i in range(100, 120)]
    examples = [(rules.features(a, b), 0) for a, b in train]
    examples += [(rules.features(a, b), 1) for a, b in same]
    retrained = train_model(examples, prior=default_model(), l2=0.1, epochs=30)
    after = Scorer(freqs, model=retrained)
    probs = [after.probability(after.bits(a, b, False)[0]) for a, b in held]
    assert all(p < 0.5 for p in probs)
    # Pairs that agree on the birth place still match.
    a, b = _pair(200, "Homs")
    assert after.probability(after.bits(a, b, False)[0]) > 0.5
    assert not math.isnan(retrained.intercept)


def _decision_row(a, b, decision):
    row = {}
    for side, rec in (("a", a), ("b", b)):
        for c in CSV_COLUMNS:
            row[f"{side}_{c}"] = getattr(rec, c)
    row["decision"] = decision
    return row


def _record(i, place):
    g, f, fam = GIVEN[i % len(GIVEN)], GIVEN[(i * 7 + 3) % len(GIVEN)], FAMILY[i % len(FAMILY)]
    return NameRecord(f"r{i}{place}", given_name=g, father_name=f, family_name=fam, sex="M",
                      birth_date=f"{1970 + i % 30}", birth_place=place)


def test_mawa_names_train_retrains_from_decisions_and_dedupe_uses_the_model(tmp_path, capsys):
    rows = [_decision_row(_record(i, "Homs"), _record(i, "Aleppo"), "not_match")
            for i in range(50)]
    rows += [_decision_row(_record(i, "Homs"), _record(i, "Homs"), "match")
             for i in range(100, 120)]
    decisions = tmp_path / "decisions.csv"
    with decisions.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    model_path = tmp_path / "model.json"
    assert main(["train", str(decisions), "--output", str(model_path), "--version", "t1"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["version"] == "t1" and meta["prior"] == default_model().version
    assert meta["held_out"]["pairs"] == 14
    assert meta["held_out"]["accuracy"] >= meta["prior_held_out"]["accuracy"]
    assert meta["held_out"]["accuracy"] == 1.0
    # Held-out pairs of the class (names never seen in the decisions), through dedupe.
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for i in range(60, 70):
            for rec in (_record(i, "Homs"), _record(i, "Aleppo")):
                w.writerow([getattr(rec, c) for c in CSV_COLUMNS])
    out = tmp_path / "out.csv"
    args = ["dedupe", str(src), "--output", str(out), "--quiet", "--model", str(model_path)]
    assert main(args) == 0
    with out.open(encoding="utf-8", newline="") as f:
        clusters = [r["cluster_id"] for r in csv.DictReader(f)]
    assert len(set(clusters)) == len(clusters)  # every namesake pair kept apart


def test_train_refuses_a_file_without_decisions(tmp_path, capsys):
    bad = tmp_path / "d.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    assert main(["train", str(bad), "--output", str(tmp_path / "m.json")]) == 2
    assert main(["dedupe", str(bad), "--output", str(tmp_path / "o.csv"),
                 "--model", str(tmp_path / "missing.json")]) == 2
