"""Command line on CSV files: ``dedupe`` and ``screen``.

Wired as ``mawa names …``; the Django side calls :func:`main` with the arguments after
``names``. The contract (columns, exit codes) is fixed so any engine can be run and compared
on the same files:

* ``dedupe INPUT.csv --output OUT.csv`` → ``record_id,cluster_id,confidence``
* ``screen INPUT.csv --watchlist LIST --output HITS.csv --top 5`` →
  ``record_id,entity_id,score,rank`` (LIST: FollowTheMoney JSON lines or the INPUT CSV format)

Exit codes: 0 done (bad rows, if any, reported on stderr), 2 unusable input.
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from ._blocking import _COARSE
from ._cluster import dedupe
from ._index import NameIndex
from ._io import Report, UnusableInput, read_ftm, read_records_csv
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
    return parser


def main(argv: list[str]) -> int:
    """Run ``dedupe`` or ``screen`` with ``argv`` (the arguments after ``names``).

    Returns the exit code instead of exiting, so the caller decides what to do with it.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_UNUSABLE
    progress = functools.partial(
        tqdm, file=sys.stderr, disable=args.quiet, mininterval=0.5, leave=False
    )
    try:
        if args.command == "dedupe":
            return _dedupe(args, progress)
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
    assignments = {a.record_id: a for a in dedupe(usable, args.threshold, progress=progress)}
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
    people, report = _load_csv(args.input, progress)
    watch, wreport = _load_watchlist(args.watchlist, progress, _Prefilter(people))
    index = NameIndex()
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


if __name__ == "__main__":  # pragma: no cover - convenience for running the module alone
    raise SystemExit(main(sys.argv[1:]))
