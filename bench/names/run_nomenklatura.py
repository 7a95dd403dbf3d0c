"""nomenklatura logic-v2 through the same CSV contract (``dedupe`` and ``screen``).

Records become FollowTheMoney Person entities (``name`` = the full chain, plus firstName,
fatherName, lastName, motherName, birthDate, birthPlace, gender, nationality, idNumber) and
pairs are scored with ``LogicV2.compare`` and its default configuration. Candidate pairs come
from a simple name-token blocker in the spirit of nomenklatura's own index (records sharing
two name tokens, transliterated to ASCII consonants so scripts can meet; very frequent tokens
skipped); dedupe links pairs at logic-v2's documented
threshold 0.7 and takes connected components. Runs in its own venv; not a Mawa dependency.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from followthemoney import model
from nomenklatura.matching import LogicV2
from normality import ascii_text

CONFIG = LogicV2.default_config()
MAX_BUCKET = 200


def _tokens(text: str) -> set[str]:
    """Blocking tokens: transliterated to ASCII, vowels dropped, so scripts can meet.

    This is more generous than plain token blocking (which never pairs Arabic with Latin
    records), so that logic-v2's own cross-script name matching gets its chance.
    """
    out = set()
    for t in re.split(r"[\s\-'’]+", text.lower()):
        if len(t) < 2 or t in ("al", "el", "bin", "ibn", "abu", "abd", "ال", "بن", "ابو", "عبد"):
            continue
        a = ascii_text(t) or t
        a = re.sub(r"^(al|el)(?=..)", "", a)
        key = re.sub(r"(.)\1+", r"\1", re.sub(r"[^a-z]|[aeiouyw']", "", a))
        if key:
            out.add("~" + key)
        out.add(t)
    return out


def _entity(row: dict[str, str]):  # type: ignore[no-untyped-def]
    e = model.make_entity("Person")
    e.id = row["record_id"]
    parts = [
        row.get(k, "") for k in ("given_name", "father_name", "grandfather_name", "family_name")
    ]
    e.add("name", " ".join(p for p in parts if p))
    e.add("firstName", row.get("given_name") or None)
    e.add("fatherName", row.get("father_name") or None)
    e.add("lastName", row.get("family_name") or None)
    e.add("motherName", row.get("mother_name") or None)
    dob = row.get("birth_date", "")
    if re.fullmatch(r"\d{4}(-\d\d(-\d\d)?)?", dob):
        e.add("birthDate", dob)
    e.add("birthPlace", row.get("birth_place") or None)
    sex = row.get("sex", "")
    e.add("gender", {"M": "male", "F": "female"}.get(sex))
    if row.get("nationality"):
        e.add("nationality", row["nationality"].lower(), quiet=True)
    e.add("idNumber", row.get("national_id") or None)
    return e


def _ftm_entity(obj: dict):  # type: ignore[no-untyped-def,type-arg]
    e = model.make_entity("Person")
    e.id = obj["id"]
    for prop, values in (obj.get("properties") or {}).items():
        for v in values:
            e.add(prop, v, quiet=True)
    return e


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _blocks(entities: list, texts: list[str]) -> dict[str, list[int]]:  # type: ignore[type-arg]
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        for tok in _tokens(text):
            blocks[tok].append(i)
    return blocks


def dedupe(src: Path, out: Path, threshold: float) -> None:
    rows = _read_csv(src)
    entities = [_entity(r) for r in rows]
    texts = [
        " ".join(r.get(k, "") for k in ("given_name", "father_name", "family_name")) for r in rows
    ]
    shared: Counter[tuple[int, int]] = Counter()
    for block in _blocks(entities, texts).values():
        if len(block) <= MAX_BUCKET:
            for i, j in combinations(block, 2):
                shared[(i, j)] += 1
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    scored = 0
    for (i, j), n in shared.items():
        if n < 2:  # share at least two name tokens, as the index's ranking favours
            continue
        scored += 1
        if LogicV2.compare(entities[i], entities[j], CONFIG).score >= threshold:
            parent[find(i)] = find(j)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "cluster_id"])
        for i, r in enumerate(rows):
            w.writerow([r["record_id"], rows[find(i)]["record_id"]])
    print(f"nomenklatura: {scored} pairs scored", file=sys.stderr)


def screen(src: Path, watchlist: Path, out: Path, top: int) -> None:
    rows = _read_csv(src)
    queries = [_entity(r) for r in rows]
    listed = []
    with watchlist.open(encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if obj.get("schema") == "Person":
                listed.append(_ftm_entity(obj))
    index: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(listed):
        for name in e.get("name") + e.get("alias"):
            for tok in _tokens(name):
                index[tok].append(i)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "entity_id", "score", "rank"])
        for q, r in zip(queries, rows, strict=True):
            counts: Counter[int] = Counter()
            for tok in _tokens(" ".join(q.get("name"))):
                bucket = index.get(tok, [])
                if len(bucket) <= 5000:
                    counts.update(bucket)
            cands = [i for i, _ in counts.most_common(50)]
            scored = sorted(
                ((LogicV2.compare(q, listed[i], CONFIG).score, listed[i].id) for i in cands),
                reverse=True,
            )[:top]
            for rank, (score, eid) in enumerate(scored, start=1):
                w.writerow([r["record_id"], eid, f"{score:.4f}", rank])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="logic-v2 on the Mawa CSV contract")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dedupe")
    d.add_argument("input", type=Path)
    d.add_argument("--output", type=Path, required=True)
    d.add_argument("--threshold", type=float, default=0.7)
    s = sub.add_parser("screen")
    s.add_argument("input", type=Path)
    s.add_argument("--watchlist", type=Path, required=True)
    s.add_argument("--output", type=Path, required=True)
    s.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.command == "dedupe":
        dedupe(args.input, args.output, args.threshold)
    else:
        screen(args.input, args.watchlist, args.output, args.top)
    print(f"nomenklatura {args.command}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
