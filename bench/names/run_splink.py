"""Splink 5 (DuckDB) through the same CSV contract: ``dedupe INPUT.csv --output OUT.csv``.

A standard configuration as a competent user would write it from the Splink tutorials:
names lower-cased and trimmed; NameComparison (Jaro-Winkler 0.92/0.88/0.70) on given,
father, family and mother names with term-frequency adjustments on given and family names;
exact match on grandfather, birth place, sex and identifiers; DateOfBirthComparison on full
dates plus exact birth year; blocking on pairs of name parts, year and identifiers; u by
random sampling, m by EM; connected components at match probability 0.9.
Runs in its own venv (bench/names/requirements-bench.txt); not a Mawa dependency.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def dedupe(src: Path, out: Path, threshold: float) -> None:
    con = duckdb.connect()
    con.execute(f"SET threads TO {2}")
    con.execute(
        """
        CREATE TABLE people AS
        SELECT record_id AS unique_id,
            NULLIF(lower(trim(given_name)), '') AS given_name,
            NULLIF(lower(trim(father_name)), '') AS father_name,
            NULLIF(lower(trim(grandfather_name)), '') AS grandfather_name,
            NULLIF(lower(trim(family_name)), '') AS family_name,
            NULLIF(lower(trim(mother_name)), '') AS mother_name,
            NULLIF(trim(sex), '') AS sex,
            CASE WHEN length(birth_date) = 10 THEN birth_date END AS birth_date,
            NULLIF(substr(birth_date, 1, 4), '') AS birth_year,
            NULLIF(lower(trim(birth_place)), '') AS birth_place,
            NULLIF(trim(military_id), '') AS military_id,
            NULLIF(trim(national_id), '') AS national_id
        FROM read_csv(?, all_varchar = true, header = true)
        """,
        [str(src)],
    )
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("father_name"),
            cl.ExactMatch("grandfather_name"),
            cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("mother_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("birth_year"),
            cl.ExactMatch("birth_place"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("military_id"),
            cl.ExactMatch("national_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "family_name"),
            block_on("given_name", "father_name"),
            block_on("father_name", "family_name", "birth_year"),
            block_on("given_name", "birth_year"),
            block_on("military_id"),
            block_on("national_id"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db_api.register("people"), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "father_name", "family_name", "birth_date")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("family_name", "father_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_year", "given_name")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    con.execute(
        f"COPY (SELECT unique_id AS record_id, cluster_id FROM {clusters.physical_name}) "
        f"TO '{out}' (HEADER, DELIMITER ',')"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Splink dedupe on the Mawa CSV contract")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dedupe")
    d.add_argument("input", type=Path)
    d.add_argument("--output", type=Path, required=True)
    d.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dedupe(args.input, args.output, args.threshold)
    print(f"splink dedupe: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
