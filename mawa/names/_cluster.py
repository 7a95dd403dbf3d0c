"""De-duplication: blocking, pair scoring and clustering into persons."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._blocking import dedupe_keys, phonetic_key
from ._learned import Model
from ._model import DEFAULT_MODEL, NameFrequencies, Scorer, _Default
from ._record import NameRecord, Prepared, prepare


class Progress(Protocol):
    """What a progress bar must offer (tqdm does)."""

    def update(self, n: int = 1) -> Any: ...  # noqa: D102
    def close(self) -> Any: ...  # noqa: D102


ProgressFactory = Callable[..., Progress]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def _no_progress(**_: Any) -> Progress:
    return _NoProgress()


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where de-duplication put one record.

    ``cluster_id`` is the ``record_id`` of the cluster's first record in input order, so it
    is stable for the same input. ``confidence`` is, for a record in a cluster with others,
    the probability of its strongest link inside the cluster; for a record alone, the
    probability that it is not one of its candidates.
    """

    record_id: str
    cluster_id: str
    confidence: float


def dedupe(
    records: Sequence[NameRecord | Prepared],
    threshold: float = 0.5,
    max_block: int = 150,
    max_cluster: int = 30,
    progress: ProgressFactory | None = None,
    workers: int | None = None,
    model: Model | None | _Default = DEFAULT_MODEL,
) -> list[Assignment]:
    """Group records into persons; return one :class:`Assignment` per record, in order.

    Steps: prepare records; learn name frequencies from them; generate candidate pairs from
    blocking keys (blocks larger than ``max_block`` are skipped: their records meet through
    more specific keys); score each pair once; then merge clusters along edges with
    probability ≥ ``threshold``, strongest first. The guard against chaining: two clusters
    merge only if every scored pair across them is at least plausible (≥ 0.05) and their
    average is ≥ ``threshold`` — so brothers A and B never end up together because each
    resembles an ambiguous record C.

    ``model`` is the learned scorer (default: the one shipped with the package; ``None``
    for the rule-based scorer alone). ``workers`` processes score the blocks (default: all
    cores for more than 20,000 records, one otherwise); they are forked, so the prepared
    records are shared, not copied.
    """
    bar = progress or _no_progress
    prepared: list[Prepared] = []
    pb = bar(desc="prepare", total=len(records), unit="rec")
    for r in records:
        prepared.append(r if isinstance(r, Prepared) else prepare(r))
        pb.update(1)
    pb.close()
    freqs = NameFrequencies.from_records(prepared)
    scorer = Scorer(freqs, model=model)
    n = len(prepared)

    usable = candidate_blocks(prepared, max_block)

    pb = bar(desc="score", total=len(usable), unit="block")
    edges, best_any = _score_blocks(prepared, scorer, usable, threshold, workers, pb)
    pb.close()

    clusters = _cluster(prepared, scorer, edges, threshold, max_cluster)
    conf = [0.0] * n
    for prob, i, j in edges:
        if clusters.find(i) == clusters.find(j):
            conf[i] = max(conf[i], prob)
            conf[j] = max(conf[j], prob)
    first: dict[int, int] = {}
    out: list[Assignment] = []
    for i, p in enumerate(prepared):
        root = clusters.find(i)
        head = first.setdefault(root, i)
        c = conf[i] if clusters.size[root] > 1 else 1.0 - best_any[i]
        out.append(Assignment(p.record_id, prepared[head].record_id, round(c, 4)))
    return out


def candidate_blocks(
    prepared: Sequence[Prepared], max_block: int = 150, window: int = 4
) -> list[list[int]]:
    """Blocks of record indexes whose pairs dedupe scores (every pair in a block once).

    Records sharing a blocking key (:func:`mawa.names._blocking.dedupe_keys`) form a
    block; blocks larger than ``max_block`` are skipped (their records meet through more
    specific keys), which bounds the comparisons per record. A sorted-neighbourhood pass
    (:func:`sorted_neighbourhood`) adds blocks of ``window`` records.
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        for key in dedupe_keys(p):
            blocks[key].append(i)
    # The loose given+family key ("G|…") only rescues records with little else; its blocks
    # get a tighter cap because common name pairs make them large and mostly negative.
    out = [b for k, b in blocks.items() if 1 < len(b) <= (max_block if k[0] != "G" else 60)]
    del blocks
    out += sorted_neighbourhood(prepared, window)
    return out


def sorted_neighbourhood(prepared: Sequence[Prepared], window: int = 4) -> list[list[int]]:
    """Blocks of records that sort near each other on three phonetic name strings.

    Each record's given–father–family, family–given–father and father–family–given
    phonetic keys are sorted; windows of ``window`` records, overlapping by half, become
    blocks, so records within ``window // 2`` places of each other are compared. This
    finds pairs whose every key shares an error (a typo in the first name and a wrong year)
    as long as one of the three orders starts with parts that agree; it costs at most
    ``3 * window`` comparisons per record, whatever the population size.
    """
    n = len(prepared)
    if n < 2 or window < 2:
        return []
    rows = [
        (phonetic_key(p.given), phonetic_key(p.father), phonetic_key(p.family)) for p in prepared
    ]
    out: list[list[int]] = []
    step = max(window // 2, 1)
    for order in ((0, 1, 2), (2, 0, 1), (1, 2, 0)):
        keyed = sorted(
            (" ".join(r[k] for k in order), i) for i, r in enumerate(rows) if r[order[0]]
        )
        idx = [i for _, i in keyed]
        for start in range(0, max(len(idx) - step, 1), step):
            block = idx[start : start + window]
            if len(block) > 1:
                out.append(block)
    return out


def _score_range(
    prepared: list[Prepared],
    scorer: Scorer,
    blocks: list[list[int]],
    threshold: float,
    tick: Callable[[int], Any] | None = None,
) -> tuple[list[tuple[float, int, int]], dict[int, float]]:
    """Score every new pair in ``blocks``; return edges ≥ threshold and best scores ≥ 0.01."""
    n = len(prepared)
    seen: set[int] = set()
    edges: list[tuple[float, int, int]] = []
    best: dict[int, float] = {}
    bits, probability = scorer.bits, scorer.probability
    for count, block in enumerate(blocks):
        m = len(block)
        for x in range(m):
            i = block[x]
            pi = prepared[i]
            for y in range(x + 1, m):
                j = block[y]
                if i == j:
                    continue
                code = i * n + j if i < j else j * n + i
                if code in seen:
                    continue
                seen.add(code)
                prob = probability(bits(pi, prepared[j], False)[0])
                if prob >= 0.01:
                    if prob > best.get(i, 0.0):
                        best[i] = prob
                    if prob > best.get(j, 0.0):
                        best[j] = prob
                    if prob >= threshold:
                        edges.append((prob, i, j))
        if tick is not None and count % 1000 == 999:
            tick(1000)
    return edges, best


# Shared with forked workers (copy-on-write), never pickled.
_SHARED: tuple[list[Prepared], Scorer, list[list[int]], float] | None = None


def _worker(part: tuple[int, int]) -> tuple[list[tuple[float, int, int]], dict[int, float]]:
    assert _SHARED is not None
    prepared, scorer, blocks, threshold = _SHARED
    return _score_range(prepared, scorer, blocks[part[0] : part[1]], threshold)


def _score_blocks(
    prepared: list[Prepared],
    scorer: Scorer,
    blocks: list[list[int]],
    threshold: float,
    workers: int | None,
    pb: Progress,
) -> tuple[list[tuple[float, int, int]], list[float]]:
    global _SHARED
    n = len(prepared)
    if workers is None:
        workers = (os.cpu_count() or 1) if n > 20_000 else 1
    best_any = [0.0] * n
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        edges, best = _score_range(prepared, scorer, blocks, threshold, pb.update)
    else:
        # A pair may sit in blocks given to two workers and be scored twice; the duplicate
        # edge is harmless to clustering and cheaper than sharing a seen-set.
        # Interleave blocks by size so every chunk costs about the same: sorted chunks left
        # the largest blocks to one worker at the end.
        chunks = workers * 8
        by_size = sorted(blocks, key=len, reverse=True)
        blocks = [b for k in range(chunks) for b in by_size[k::chunks]]
        bounds = [0]
        for k in range(chunks):
            bounds.append(bounds[-1] + len(by_size[k::chunks]))
        parts = [(bounds[k], bounds[k + 1]) for k in range(chunks)]
        _SHARED = (prepared, scorer, blocks, threshold)
        edges, best = [], {}
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                for (lo, hi), (e, b) in zip(parts, pool.imap(_worker, parts), strict=True):
                    edges.extend(e)
                    for i, p in b.items():
                        if p > best.get(i, 0.0):
                            best[i] = p
                    pb.update(hi - lo)
        finally:
            _SHARED = None
    for i, p in best.items():
        best_any[i] = p
    return edges, best_any


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def members_of(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def union(self, a: int, b: int) -> None:
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        self.members[a] = self.members_of(a) + self.members_of(b)
        self.members.pop(b, None)


def _cluster(
    prepared: list[Prepared],
    scorer: Scorer,
    edges: Iterable[tuple[float, int, int]],
    threshold: float,
    max_cluster: int,
) -> _UnionFind:
    uf = _UnionFind(len(prepared))
    cache: dict[tuple[int, int], float] = {}

    def prob(i: int, j: int) -> float:
        key = (i, j) if i < j else (j, i)
        if key not in cache:
            cache[key] = scorer.probability(scorer.bits(prepared[i], prepared[j], False)[0])
        return cache[key]

    for _p, i, j in sorted(edges, reverse=True):
        ra, rb = uf.find(i), uf.find(j)
        if ra == rb:
            continue
        if uf.size[ra] + uf.size[rb] > max_cluster:
            continue
        if uf.size[ra] + uf.size[rb] > 2:
            cross = [prob(x, y) for x in uf.members_of(ra) for y in uf.members_of(rb)]
            if min(cross) < 0.05 or sum(cross) / len(cross) < threshold:
                continue
        uf.union(ra, rb)
    return uf
