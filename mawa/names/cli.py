"""Command line on CSV files: ``dedupe`` and ``screen``.

Wired as ``mawa names …``; the Django side calls :func:`main` with the arguments after
``names``. The contract (columns, exit codes) is fixed so any engine can be run and compared
on the same files:

* ``dedupe INPUT.csv --output OUT.csv`` → ``record_id,cluster_id,confidence``
* ``screen INPUT.csv --watchlist LIST --output HITS.csv --top 5`` →
  ``record_id,entity_id,score,rank`` (LIST: FollowTheMoney JSON lines or the INPUT CSV format)
* ``train DECISIONS.csv --output MODEL.json`` → a learned scorer retrained from reviewers'
  decisions, with the shipped model as its prior; its figures on held-out decisions beside
  the prior's are printed as JSON on stdout. DECISIONS has, for each record column ``c``
  of the CSV contract, ``a_c`` and ``b_c``, and a ``decision`` column (``match`` or
  ``not_match``). ``dedupe`` and ``screen`` take ``--model MODEL.json`` (or ``rules``).

Exit codes: 0 done (bad rows, if any, reported on stderr), 2 unusable input.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ._blocking import _COARSE
from ._cluster import dedupe
from ._index import NameIndex
from ._io import CSV_COLUMNS, Report, UnusableInput, read_ftm, read_records_csv
from ._learned import Model, default_model, train_model
from ._model import DEFAULT_MODEL, NameFrequencies, Scorer, _Default
from ._record import NameRecord, Prepared, _ident, prepare
from ._units import split_units

EXIT_OK, EXIT_UNUSABLE = 0, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mawa names", description="Arabic-aware de-duplication and watch-list screening."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dedupe", help="group the records of a CSV into persons")
    d.add_argument("input", type=Path)
    d.add_argument("--output", type=Path, required=True)
    d.add_argument(
        "--threshold", type=float, default=0.5, help="minimum probability for a link (default 0.5)"
    )
    d.add_argument("--quiet", action="store_true", help="no progress bars")
    s = sub.add_parser("screen", help="screen the records of a CSV against a watch list")
    s.add_argument("input", type=Path)
    s.add_argument("--watchlist", type=Path, required=True)
    s.add_argument("--output", type=Path, required=True)
    s.add_argument("--top", type=int, default=5)
    s.add_argument(
        "--min-score",
        type=float,
        default=0.001,
        help="leave out hits scoring below this (default 0.001)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    for p in (d, s):
        p.add_argument(
            "--model",
            default="",
            help="learned scorer file, or 'rules' for the rule-based scorer "
            "(default: the model shipped with mawa.names)",
        )
    t = sub.add_parser("train", help="retrain the learned scorer from review decisions")
    t.add_argument("decisions", type=Path)
    t.add_argument("--output", type=Path, required=True)
    t.add_argument("--version", default="", help="version recorded in the model")
    t.add_argument("--no-prior", action="store_true", help="start from zero, not the shipped model")
    return parser


def _model_arg(value: str) -> Model | None | _Default:
    if not value:
        return DEFAULT_MODEL
    if value == "rules":
        return None
    try:
        return Model.load(value)
    except (OSError, ValueError) as exc:
        raise UnusableInput(f"cannot read model {value}: {exc}") from None


def main(argv: list[str]) -> int:
    """Run ``dedupe``, ``screen`` or ``train`` with ``argv`` (the arguments after ``names``).

    Returns the exit code instead of exiting, so the caller decides what to do with it.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_UNUSABLE
    progress = functools.partial(
        tqdm, file=sys.stderr, disable=getattr(args, "quiet", True), mininterval=0.5, leave=False
    )
    try:
        if args.command == "dedupe":
            return _dedupe(args, progress)
        if args.command == "train":
            return _train(args)
        return _screen(args, progress)
    except UnusableInput as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_UNUSABLE


def _open(path: Path) -> IO[str]:
    try:
        return path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise UnusableInput(f"cannot read {path}: {exc.strerror}") from None


def _load_csv(path: Path, progress: functools.partial[tqdm[Any]]) -> tuple[list[Prepared], Report]:
    report = Report(str(path))
    prepared: list[Prepared] = []
    with _open(path) as handle:
        bar = progress(desc=f"read {path.name}", unit="rows")
        for line, record in read_records_csv(handle, report):
            prepared.append(_prepare_reporting(line, record, report))
            bar.update(1)
        bar.close()
    return prepared, report


def _prepare_reporting(line: int, record: NameRecord, report: Report) -> Prepared:
    p = prepare(record)
    for problem in p.problems:
        report.warn(line, problem)
    if not p.has_name:
        report.warn(line, "no usable name; kept as its own person")
    return p


def _dedupe(args: argparse.Namespace, progress: functools.partial[tqdm[Any]]) -> int:
    prepared, report = _load_csv(args.input, progress)
    usable = [p for p in prepared if p.has_name or p.national_id or p.military_id]
    model = _model_arg(args.model)
    assignments = {
        a.record_id: a for a in dedupe(usable, args.threshold, progress=progress, model=model)
    }
    clusters: set[str] = set()
    with args.output.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "cluster_id", "confidence"])
        for p in prepared:
            a = assignments.get(p.record_id)
            if a is None:
                # No name and no identifier: nothing to match on, so its own person.
                writer.writerow([p.record_id, p.record_id, "0.0000"])
                clusters.add(p.record_id)
            else:
                writer.writerow([a.record_id, a.cluster_id, f"{a.confidence:.4f}"])
                clusters.add(a.cluster_id)
    report.write(sys.stderr)
    sys.stderr.write(f"{len(prepared)} records in {len(clusters)} persons -> {args.output}\n")
    return EXIT_OK


class _Prefilter:
    """Cheap test whether a watch-list entry can match any of the people being screened.

    Screening a few thousand people against a million entries must not parse every entry
    fully. An entry is kept if at least two of its name tokens (one, for a one-token name)
    have a coarse skeleton found among the people's names, or if it shares an identifier.
    Tokens are looked up one by one, so compound names are found through their parts;
    this keeps recall and only drops entries that could not share a blocking key.
    """

    def __init__(self, people: list[Prepared]) -> None:
        self.keys: set[str] = set()
        self.ids: set[str] = set()
        self._token_cache: dict[str, frozenset[str]] = {}
        for p in people:
            for slot in (p.given, p.father, p.grandfather, p.family, p.mother, p.kunya):
                for u in slot:
                    self.keys.add(_coarse(u.key))
            self.ids.update(x for x in (p.national_id, p.military_id) if x)

    def _token_keys(self, token: str) -> frozenset[str]:
        keys = self._token_cache.get(token)
        if keys is None:
            keys = frozenset(_coarse(u.key) for u in split_units(token))
            if len(self._token_cache) < 2_000_000:
                self._token_cache[token] = keys
        return keys

    def keep(self, record: NameRecord) -> bool:
        """True if ``record`` may match someone being screened."""
        if record.national_id and _ident(record.national_id) in self.ids:
            return True
        texts = (
            record.given_name,
            record.father_name,
            record.grandfather_name,
            record.family_name,
            *record.aliases,
        )
        tokens = {t for text in texts for t in text.split()}
        hits = 0
        for t in tokens:
            if self._token_keys(t) & self.keys:
                hits += 1
                if hits >= 2:
                    return True
        return hits >= 1 and len(tokens) == 1


def _coarse(key: str) -> str:
    return key.rsplit("|", 1)[-1].translate(_COARSE)


def _load_watchlist(
    path: Path, progress: functools.partial[tqdm[Any]], prefilter: _Prefilter | None = None
) -> tuple[list[Prepared], Report]:
    report = Report(str(path))
    with _open(path) as handle:
        head = handle.read(4096)
        handle.seek(0)
        is_jsonl = head.lstrip().startswith("{")
        reader = read_ftm(handle, report) if is_jsonl else read_records_csv(handle, report)
        out: list[Prepared] = []
        bar = progress(desc=f"read {path.name}", unit="entities")
        for line, record in reader:
            bar.update(1)
            if prefilter is not None and not prefilter.keep(record):
                continue
            out.append(_prepare_reporting(line, record, report))
        bar.close()
    return out, report


def _screen(args: argparse.Namespace, progress: functools.partial[tqdm[Any]]) -> int:
    model = _model_arg(args.model)
    people, report = _load_csv(args.input, progress)
    watch, wreport = _load_watchlist(args.watchlist, progress, _Prefilter(people))
    index = NameIndex(model=model)
    bar = progress(desc="index", total=len(watch), unit="entities")
    for p in watch:
        if p.has_name or p.aliases:
            index.add(p)
        bar.update(1)
    bar.close()
    hits = 0
    with args.output.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "entity_id", "score", "rank"])
        bar = progress(desc="screen", total=len(people), unit="rec")
        for p in people:
            if p.has_name:
                rank = 0
                for c in index.query(p, args.top):
                    if c.score < args.min_score:
                        continue
                    rank += 1
                    hits += 1
                    writer.writerow([p.record_id, c.record_id, f"{c.score:.4f}", rank])
            bar.update(1)
        bar.close()
    report.write(sys.stderr)
    wreport.write(sys.stderr)
    sys.stderr.write(
        f"{len(people)} records screened against {wreport.read - len(wreport.bad)} entities "
        f"({len(index)} passed the name prefilter): "
        f"{hits} hits -> {args.output}\n"
    )
    return EXIT_OK


def _read_decisions(path: Path) -> list[tuple[Prepared, Prepared, int]]:
    out: list[tuple[Prepared, Prepared, int]] = []
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        need = {f"{side}_{c}" for side in "ab" for c in ("record_id", "given_name")}
        if not reader.fieldnames or not need | {"decision"} <= set(reader.fieldnames):
            raise UnusableInput(f"{path}: expected columns a_<column>, b_<column>, decision")
        for row in reader:
            decision = (row.get("decision") or "").strip().lower()
            if decision not in ("match", "not_match"):
                continue
            sides: list[Prepared] = []
            for side in "ab":
                values: dict[str, Any] = {c: row.get(f"{side}_{c}") or "" for c in CSV_COLUMNS}
                sides.append(prepare(NameRecord(**values)))
            a, b = sides
            out.append((a, b, int(decision == "match")))
    if not out:
        raise UnusableInput(f"{path}: no match / not_match decisions")
    return out


def _figures(model: Model | None, scorer_rules: Scorer, pairs: list) -> dict[str, float]:  # type: ignore[type-arg]
    scorer = Scorer(scorer_rules.freqs, model=model)
    right, loss = 0, 0.0
    for a, b, y in pairs:
        p = min(max(scorer.probability(scorer.bits(a, b, False)[0]), 1e-6), 1 - 1e-6)
        right += int((p >= 0.5) == bool(y))
        loss -= math.log(p if y else 1 - p)
    n = max(len(pairs), 1)
    return {"pairs": len(pairs), "accuracy": round(right / n, 4), "log_loss": round(loss / n, 4)}


def _train(args: argparse.Namespace) -> int:
    pairs = _read_decisions(args.decisions)
    freqs = NameFrequencies.from_records([p for a, b, _y in pairs for p in (a, b)])
    rules = Scorer(freqs, model=None)
    # Every fifth decision is held out to show the new model's figures beside the prior's.
    held = pairs[4::5]
    fit = [x for i, x in enumerate(pairs) if i % 5 != 4]
    prior = None if args.no_prior else default_model()
    model = train_model(
        [(rules.features(a, b), y) for a, b, y in fit],
        prior=prior,
        l2=0.1,
        meta={
            "version": args.version or f"review-{len(fit)}",
            "prior": prior.version if prior else "",
            "trained_on": f"{len(fit)} review decisions",
        },
    )
    model.meta["held_out"] = _figures(model, rules, held)
    model.meta["prior_held_out"] = _figures(prior, rules, held)
    args.output.write_text(model.to_json() + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(model.meta, ensure_ascii=False) + "\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover - convenience for running the module alone
    raise SystemExit(main(sys.argv[1:]))
