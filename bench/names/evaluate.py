"""Evaluate a dedupe output or screening hits against the generator's truth files.

    python bench/names/evaluate.py dedupe DATA_DIR OUT.csv [--json]
    python bench/names/evaluate.py screen DATA_DIR HITS.csv [--json]

Dedupe: pairwise and B-cubed precision/recall, broken down by script pair (ar-ar, la-la,
ar-la) and by perturbation, recall on names the engine's lexicon does not contain
(held out), and false-merge rates of the hard negatives (brothers, father/son, Omar/Amr).
Screening: recall@1 and @5 of listed people, and alerts per 1,000 people screened at the
lowest threshold that keeps recall@5 ≥ 0.95 (and at 0.5).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        if len(members) > 1:
            for a, b in itertools.combinations(sorted(members), 2):
                out.add((a, b))
    return out


def _pr(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def lexicon_arabic() -> set[str]:
    """Arabic forms the engine's lexicon knows (for the held-out breakdown)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        from mawa.names._text import normalize_arabic
        from mawa.names._units import ABD, GIVEN

        known = set(GIVEN.ids_by_arabic)
        known |= {"عبد " + k for k in ABD.ids_by_arabic} | {"عبد ال" + k for k in ABD.ids_by_arabic}
        return {normalize_arabic(k) for k in known}
    except Exception:  # noqa: BLE001 - evaluation must run even without the engine
        return set()


def _separable(a: dict[str, str], b: dict[str, str]) -> bool:
    """True if two records of namesakes disagree on some field both hold (evidence exists)."""
    from mawa.names import names_match, parse_birth_date, place_key
    from mawa.names._record import InvalidDate

    if (
        a["birth_place"]
        and b["birth_place"]
        and place_key(a["birth_place"]) != place_key(b["birth_place"])
    ):
        return True
    try:
        da, db = parse_birth_date(a["birth_date"]), parse_birth_date(b["birth_date"])
    except InvalidDate:
        da = db = None
    if da and db and abs(da.year - db.year) >= 2:
        return True
    for f in ("military_id", "national_id"):
        x, y = a[f], b[f]
        if x and y and sum(c1 != c2 for c1, c2 in zip(x, y, strict=False)) > 2:
            return True
    for f in ("grandfather_name", "mother_name"):
        if a[f] and b[f] and names_match(a[f], b[f]) in ("diff", "weak"):
            return True
    return False


def evaluate_dedupe(data: Path, output: Path) -> dict[str, object]:
    truth = {r["record_id"]: r for r in _read(data / "truth.csv")}
    pred = {r["record_id"]: r["cluster_id"] for r in _read(output)}
    missing = [rid for rid in truth if rid not in pred]
    for rid in missing:  # a record an engine dropped counts as its own cluster
        pred[rid] = "missing:" + rid
    true_groups: dict[str, list[str]] = defaultdict(list)
    pred_groups: dict[str, list[str]] = defaultdict(list)
    for rid, t in truth.items():
        true_groups[t["entity_id"]].append(rid)
        pred_groups[pred[rid]].append(rid)
    true_pairs = _pairs(true_groups)
    pred_pairs = {p for p in _pairs(pred_groups) if p[0] in truth and p[1] in truth}
    tp = true_pairs & pred_pairs

    def script_pair(p: tuple[str, str]) -> str:
        return "-".join(sorted((truth[p[0]]["script"], truth[p[1]]["script"])))

    def habits(p: tuple[str, str]) -> str:
        sp = script_pair(p)
        if sp != "la-la":
            return sp
        fr = sum("habit_fr" in truth[x]["perturbations"].split(";") for x in p)
        return "la-la en/fr" if fr == 1 else "la-la same habit"

    by_script: dict[str, dict[str, float | int]] = {}
    for sp in ("ar-ar", "la-la", "ar-la"):
        t = {p for p in true_pairs if script_pair(p) == sp}
        pr = {p for p in pred_pairs if script_pair(p) == sp}
        by_script[sp] = _pr(len(t & pr), len(pr - t), len(t - pr))
    for sp in ("la-la same habit", "la-la en/fr"):
        t = {p for p in true_pairs if habits(p) == sp}
        pr = {p for p in pred_pairs if habits(p) == sp}
        by_script[sp] = _pr(len(t & pr), len(pr - t), len(t - pr))

    by_pert: dict[str, dict[str, float | int]] = {}
    labels = Counter()
    for t in truth.values():
        for lab in filter(None, t["perturbations"].split(";")):
            labels[lab] += 1
    for lab in sorted(labels):
        t = {
            p
            for p in true_pairs
            if lab in truth[p[0]]["perturbations"].split(";")
            or lab in truth[p[1]]["perturbations"].split(";")
        }
        found = len(t & pred_pairs)
        by_pert[lab] = {"recall": round(found / len(t), 4) if t else 1.0, "pairs": len(t)}

    known = lexicon_arabic()
    held = {p for p in true_pairs if truth[p[0]]["given_arabic"] not in known}
    held_out = {
        "pairs": len(held),
        "recall": round(len(held & pred_pairs) / len(held), 4) if held else 1.0,
    }

    # Hard negatives: pairs of records of different people in one family.
    fam_records: dict[str, list[str]] = defaultdict(list)
    for rid, t in truth.items():
        fam_records[t["family_id"]].append(rid)
    hard: dict[str, list[int]] = {
        "brothers": [0, 0],
        "father_son": [0, 0],
        "omar_amr": [0, 0],
        "other_family": [0, 0],
    }
    for members in fam_records.values():
        for a, b in itertools.combinations(members, 2):
            ta, tb = truth[a], truth[b]
            if ta["entity_id"] == tb["entity_id"]:
                continue
            rels = (ta["relation"], tb["relation"])
            if any(r.startswith("lookalike_of") for r in rels):
                kind = "omar_amr"
            elif any(r.startswith("father_of") for r in rels):
                kind = "father_son"
            elif rels == ("brother", "brother"):
                kind = "brothers"
            else:
                kind = "other_family"
            hard[kind][1] += 1
            if pred[a] == pred[b]:
                hard[kind][0] += 1
    # Namesakes: unrelated people with a common given, father's and family name.
    by_entity: dict[str, list[str]] = defaultdict(list)
    for rid, t in truth.items():
        by_entity[t["entity_id"]].append(rid)
    rows = {r["record_id"]: r for r in _read(data / "records.csv")}
    hard["namesake"] = [0, 0]
    hard["namesake_inseparable"] = [0, 0]
    for rid, t in truth.items():
        if not t["relation"].startswith("namesake_of:"):
            continue
        other = t["relation"].split(":", 1)[1]
        for b in by_entity.get(other, []):
            kind = "namesake" if _separable(rows[rid], rows[b]) else "namesake_inseparable"
            hard[kind][1] += 1
            if pred[rid] == pred[b]:
                hard[kind][0] += 1
    false_merge = {
        k: {"merged": v[0], "pairs": v[1], "rate": round(v[0] / v[1], 4) if v[1] else 0.0}
        for k, v in hard.items()
    }

    # B-cubed over records.
    bp = br = 0.0
    for rid in truth:
        c = set(pred_groups[pred[rid]])
        e = set(true_groups[truth[rid]["entity_id"]])
        inter = len(c & e)
        bp += inter / len(c)
        br += inter / len(e)
    n = len(truth)
    return {
        "records": n,
        "entities": len(true_groups),
        "missing_in_output": len(missing),
        "pairwise": _pr(len(tp), len(pred_pairs - true_pairs), len(true_pairs - pred_pairs)),
        "bcubed": {"precision": round(bp / n, 4), "recall": round(br / n, 4)},
        "by_script_pair": by_script,
        "by_perturbation": by_pert,
        "held_out_given_names": held_out,
        "false_merges": false_merge,
    }


def pair_completeness(data: Path, max_block: int = 150) -> dict[str, float | int]:
    """Share of true pairs that blocking puts in one block (so they are scored at all).

    Also the number of distinct candidate pairs and candidate pairs per record, the cost
    that blocking bounds. Uses the engine's own blocking (``candidate_blocks``).
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from mawa.names import Report, prepare, read_records_csv
    from mawa.names._cluster import candidate_blocks

    truth = {r["record_id"]: r for r in _read(data / "truth.csv")}
    with (data / "records.csv").open(encoding="utf-8", newline="") as f:
        records = [r for _line, r in read_records_csv(f, Report("records.csv"))]
    prepared = [prepare(r) for r in records]
    ids = [p.record_id for p in prepared]
    cand: set[tuple[str, str]] = set()
    for block in candidate_blocks(prepared, max_block):
        for x, y in itertools.combinations(block, 2):
            a, b = ids[x], ids[y]
            cand.add((a, b) if a < b else (b, a))
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, t in truth.items():
        groups[t["entity_id"]].append(rid)
    true_pairs = _pairs(groups)
    found = len(true_pairs & cand)
    return {
        "true_pairs": len(true_pairs),
        "reached": found,
        "completeness": round(found / len(true_pairs), 4) if true_pairs else 1.0,
        "candidate_pairs": len(cand),
        "pairs_per_record": round(2 * len(cand) / max(len(prepared), 1), 1),
    }


def evaluate_screen(data: Path, hits_path: Path) -> dict[str, object]:
    truth = {r["record_id"]: r for r in _read(data / "truth.csv")}
    listed = {r["entity_id"]: r["watch_id"] for r in _read(data / "watch_truth.csv")}
    hits: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    for h in _read(hits_path):
        hits[h["record_id"]].append((int(h["rank"]), h["entity_id"], float(h["score"])))
    targets = {rid: listed[t["entity_id"]] for rid, t in truth.items() if t["entity_id"] in listed}
    r1 = r5 = 0
    true_scores: list[float] = []
    for rid, wid in targets.items():
        ranked = sorted(hits.get(rid, []))
        ids = [e for _, e, _ in ranked]
        r1 += bool(ids[:1] == [wid])
        r5 += wid in ids[:5]
        true_scores.append(max((s for _, e, s in ranked if e == wid), default=0.0))
    n = len(truth)

    def alerts(threshold: float) -> dict[str, float]:
        alerted = sum(1 for rid in truth if any(s >= threshold for _, _, s in hits.get(rid, [])))
        false_alerted = sum(
            1
            for rid in truth
            if any(s >= threshold and e != targets.get(rid) for _, e, s in hits.get(rid, []))
        )
        rec = (
            sum(1 for s in true_scores if s >= threshold) / len(true_scores) if true_scores else 1.0
        )
        return {
            "threshold": round(threshold, 4),
            "recall": round(rec, 4),
            "alerts_per_1000": round(1000 * alerted / n, 1),
            "false_alerts_per_1000": round(1000 * false_alerted / n, 1),
        }

    ordered = sorted(true_scores, reverse=True)
    k = max(int(0.95 * len(ordered)) - 1, 0)
    t95 = ordered[k] if ordered and ordered[k] > 0 else None
    return {
        "records": n,
        "listed_records": len(targets),
        "recall_at_1": round(r1 / len(targets), 4) if targets else None,
        "recall_at_5": round(r5 / len(targets), 4) if targets else None,
        "at_recall_0.95": alerts(t95) if t95 is not None else "recall 0.95 not reached",
        "at_score_0.5": alerts(0.5),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="evaluate dedupe or screening output")
    parser.add_argument("task", choices=("dedupe", "screen"))
    parser.add_argument("data", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    if args.task == "dedupe":
        result = evaluate_dedupe(args.data, args.output)
    else:
        result = evaluate_screen(args.data, args.output)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
