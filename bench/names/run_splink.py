"""Splink 5 (DuckDB) through the same CSV contract: ``dedupe INPUT.csv --output OUT.csv``.

Set up as a competent user would from the Splink tutorials, for a mixed Arabic/Latin
register:

* every name part is transliterated to Latin with Unidecode, lower-cased, stripped of
  everything but letters, and an article ``al``/``el`` dropped; a second column holds its
  consonant skeleton (vowels, w and y dropped after the first letter, doubled letters
  collapsed), so that ``محمد`` (mhmd) and ``Mohammed`` (mhmd) meet across scripts;
* one comparison per name part (given, father, grandfather, family, mother): exact
  transliteration (term-frequency adjusted on given and family names), Jaro-Winkler ≥ 0.92,
  exact skeleton, Jaro-Winkler ≥ 0.80, skeleton Levenshtein ≤ 1, else;
  ``DateOfBirthComparison`` on full dates (year-only dates padded to 1 July), exact sex,
  birth place and nationality (transliterated), Levenshtein ≤ 1 on each identifier;
* blocking on skeleton pairs (given+family, given+father, father+family+year, given+year)
  and on each identifier;
* λ from deterministic rules, u by random sampling, m by EM on two blocking rules;
* connected components at a match-probability threshold. The threshold is not Splink's
  default: ``run_eval.py`` picks the one with the best F1 on the tuning set
  (``--threshold 0.5,0.8,...`` writes one clustering per threshold, OUTPUT must then
  contain ``{t}``) and applies it unchanged to the held-out set and configuration B.

Runs in its own venv, never a Mawa dependency::

    python3.11 -m venv /tmp/splink-venv
    /tmp/splink-venv/bin/pip install -r bench/names/requirements-splink.txt
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from unidecode import unidecode

PARTS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_name")
_NON_LETTERS = re.compile(r"[^a-z ]+")
_ARTICLE = re.compile(r"^(?:al|el)[ -]?(?=\w{3})")


def translit(text: str) -> str:
    s = _NON_LETTERS.sub("", unidecode(text or "").lower().replace("-", " "))
    s = " ".join(s.split())
    return _ARTICLE.sub("", s)


def skeleton(latin: str) -> str:
    if not latin:
        return ""
    s = latin.replace(" ", "")
    s = s[0] + re.sub("[aeiouwy]", "", s[1:])
    return re.sub(r"(.)\1+", r"\1", s)


def _date(text: str) -> str:
    text = (text or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    if re.fullmatch(r"\d{4}", text):
        return text + "-07-01"
    return ""


def prepare(src: Path, dst: Path) -> None:
    with src.open(encoding="utf-8", newline="") as f, dst.open("w", encoding="utf-8") as g:
        reader = csv.DictReader(f)
        cols = ["unique_id", *(c for p in PARTS for c in (p, p + "_sk"))]
        cols += ["sex", "birth_date", "birth_year", "birth_place", "nationality"]
        cols += ["military_id", "national_id"]
        w = csv.DictWriter(g, fieldnames=cols)
        w.writeheader()
        for r in reader:
            row = {"unique_id": r["record_id"]}
            for p in PARTS:
                t = translit(r.get(p, ""))
                row[p], row[p + "_sk"] = t, skeleton(t)
            row["sex"] = (r.get("sex") or "").strip().upper()[:1]
            row["birth_date"] = _date(r.get("birth_date", ""))
            row["birth_year"] = (r.get("birth_date") or "")[:4]
            row["birth_place"] = translit(r.get("birth_place", ""))
            row["nationality"] = translit(r.get("nationality", ""))
            row["military_id"] = (r.get("military_id") or "").strip()
            row["national_id"] = (r.get("national_id") or "").strip()
            w.writerow(row)


def _name(col: str, tf: bool) -> cl.CustomComparison:
    exact = cll.ExactMatchLevel(col)
    if tf:
        exact = exact.configure(tf_adjustment_column=col, tf_adjustment_weight=1.0)
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            exact,
            cll.JaroWinklerLevel(col, 0.92),
            cll.ExactMatchLevel(col + "_sk"),
            cll.JaroWinklerLevel(col, 0.80),
            cll.LevenshteinLevel(col + "_sk", 1),
            cll.ElseLevel(),
        ],
    )


def dedupe(src: Path, out: str, thresholds: list[float]) -> None:
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.csv"
        prepare(src, prepared)
        con.execute(
            "CREATE TABLE people AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(prepared)],
        )
    cols = [r[0] for r in con.execute("DESCRIBE people").fetchall() if r[0] != "unique_id"]
    for c in cols:  # empty cell = null, as Splink expects
        con.execute(f"UPDATE people SET {c} = NULL WHERE {c} = ''")
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            _name("given_name", tf=True),
            _name("father_name", tf=False),
            _name("grandfather_name", tf=False),
            _name("family_name", tf=True),
            _name("mother_name", tf=False),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("birth_place"),
            cl.ExactMatch("nationality"),
            cl.LevenshteinAtThresholds("military_id", [1]),
            cl.LevenshteinAtThresholds("national_id", [1]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name_sk", "family_name_sk"),
            block_on("given_name_sk", "father_name_sk"),
            block_on("father_name_sk", "family_name_sk", "birth_year"),
            block_on("given_name_sk", "birth_year"),
            block_on("military_id"),
            block_on("national_id"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db_api.register("people"), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name_sk", "father_name_sk", "family_name_sk", "birth_date"),
            block_on("national_id"),
        ],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("family_name_sk", "father_name_sk")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_year", "given_name_sk")
    )
    predictions = linker.inference.predict(threshold_match_probability=min(thresholds))
    for t in thresholds:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=t
        )
        path = out.replace("{t}", f"{t:g}")
        con.execute(
            f"COPY (SELECT unique_id AS record_id, cluster_id FROM {clusters.physical_name}) "
            f"TO '{path}' (HEADER, DELIMITER ',')"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Splink dedupe on the Mawa CSV contract")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dedupe")
    d.add_argument("input", type=Path)
    d.add_argument("--output", required=True, help="with several thresholds, contains {t}")
    d.add_argument("--threshold", default="0.9", help="one or more, comma-separated")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.threshold.split(",")]
    if len(thresholds) > 1 and "{t}" not in args.output:
        parser.error("--output must contain {t} when several thresholds are given")
    started = time.perf_counter()
    dedupe(args.input, args.output, thresholds)
    print(f"splink dedupe: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
