"""In-memory index of prepared records for duplicate suggestions and screening."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ._blocking import prepared_keys
from ._learned import Model
from ._model import DEFAULT_MODEL, Match, NameFrequencies, Scorer, _Default
from ._record import NameRecord, Prepared, prepare

WEAK_ALIAS_CAP = 0.5  # an alias-only kunya hit is weak evidence: never above even odds


@dataclass(frozen=True, slots=True)
class Candidate:
    """One query result: the indexed record id, its calibrated score and the explanation."""

    record_id: str
    score: float
    match: Match


class NameIndex:
    """An in-memory blocking index with name frequencies learnt from what was added.

    ``add`` costs a parse and a handful of dictionary inserts; ``query`` looks up the
    record's blocking keys, ranks the candidates by how many keys they share, scores at most
    ``max_candidates`` of them and returns the best ``top``. Very common keys (shared by more
    than ``max_block`` records) are skipped in favour of more specific ones, which keeps a
    query fast against a million records.
    """

    def __init__(
        self,
        max_block: int = 5000,
        max_candidates: int = 300,
        model: Model | None | _Default = DEFAULT_MODEL,
    ) -> None:
        self.records: list[Prepared] = []
        self.ids: list[str] = []
        self.blocks: dict[str, list[int]] = defaultdict(list)
        self.freqs = NameFrequencies()
        self.scorer = Scorer(self.freqs, model=model)
        self.max_block = max_block
        self.max_candidates = max_candidates

    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: NameRecord | Prepared) -> None:
        """Add one record (raw or already prepared) to the index."""
        p = record if isinstance(record, Prepared) else prepare(record)
        idx = len(self.records)
        self.records.append(p)
        self.ids.append(p.record_id)
        self.freqs.add(p)
        # prepared_keys includes the keys of the record's (non-weak) aliases.
        for key in prepared_keys(p):
            self.blocks[key].append(idx)

    def add_all(self, records: Iterable[NameRecord | Prepared]) -> None:
        """Add many records."""
        for r in records:
            self.add(r)

    def candidates(self, p: Prepared) -> list[int]:
        """Indexes of the records sharing most blocking keys with ``p``, best first."""
        counts: Counter[int] = Counter()
        keys = prepared_keys(p)
        for key in keys:
            block = self.blocks.get(key)
            if block and len(block) <= self.max_block:
                counts.update(block)
        if len(counts) <= self.max_candidates:
            return list(counts)
        return [i for i, _ in counts.most_common(self.max_candidates)]

    def query(self, record: NameRecord | Prepared, top: int = 5) -> list[Candidate]:
        """Return the ``top`` best-scoring indexed records for ``record``, best first.

        Each indexed record is scored on its main name and each alias; the best counts.
        An alias that is only a kunya scores at most ``WEAK_ALIAS_CAP``.
        """
        p = record if isinstance(record, Prepared) else prepare(record)
        results: list[Candidate] = []
        for idx in self.candidates(p):
            results.append(self._score(p, idx))
        results.sort(key=lambda c: -c.score)
        return results[:top]

    def _score(self, p: Prepared, idx: int) -> Candidate:
        target = self.records[idx]
        best = self.scorer.score(p, target)
        best_score = best.probability
        for alias in target.aliases:
            m = self.scorer.score(p, alias)
            score = min(m.probability, WEAK_ALIAS_CAP) if alias.weak else m.probability
            if score > best_score:
                best, best_score = m, score
        return Candidate(target.record_id, best_score, best)


def screen(
    records: Iterable[NameRecord],
    watchlist: Iterable[NameRecord],
    top: int = 5,
    min_score: float = 0.0,
    model: Model | None | _Default = DEFAULT_MODEL,
) -> Iterator[tuple[str, list[Candidate]]]:
    """Screen ``records`` against a ``watchlist``; yield (record_id, best hits) per record.

    Watch-list entries are :class:`NameRecord` with ``aliases``/``weak_aliases`` filled from
    FollowTheMoney ``alias``/``weakAlias``. Hits below ``min_score`` are left out. Scores are
    calibrated probabilities, so they can be ranked and thresholded.
    """
    index = NameIndex(model=model)
    index.add_all(watchlist)
    for r in records:
        hits = [c for c in index.query(r, top) if c.score >= min_score]
        yield r.record_id, hits
