"""Greedy packing under the token budget: whole chunks, or sentences by priority with query-term
coverage and neighbours; MMR ordering for diversity."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from ..tokens import Tokenizer
from ._dedupe import Similarity
from ._pack import Doc
from ._score import normalize

__all__ = ["Packer", "pack_chunks", "mmr_order"]

MIN_SENTENCE_TOKENS = 6  # less room than this is not worth splitting another chunk for
MAX_TRIM_MISSES = 3  # consecutive chunks that could not be trimmed into the room left


class Packer:
    """Greedy packing of sentences (or whole docs) into the remaining budget."""

    def __init__(self, docs: list[Doc], budget: int, sep_tokens: int, gap_tokens: int,
                 sim: Similarity | None, neighbours: float, gamma: float = 1.0, weight: float = 0.7,
                 prepare: Callable[[Sequence[int]], None] | None = None) -> None:
        self.docs = docs
        self.prepare = prepare
        self.gamma = gamma
        self.weight = weight
        self.coverage: dict[str, float] = {}
        self.budget = budget
        self.sep = sep_tokens
        self.gap = gap_tokens
        self.sim = sim
        self.neighbours = neighbours
        self.kept_docs: list[int] = []  # doc positions in the order they were first kept
        self.used = 0
        self.kept_sents: list[tuple[int, int]] = []
        self.dups: dict[int, tuple[int, float]] = {}  # doc -> (kept doc it duplicates, similarity)
        self._checked: dict[int, int] = {}  # doc -> number of kept docs it is known to be distinct from

    def _opens_duplicate(self, d: int) -> bool:
        """True (and recorded) when doc ``d`` is not kept yet and near-duplicates a kept doc.

        Each pair is compared once: ``_checked[d]`` is how many kept docs ``d`` was already found
        distinct from (kept docs only ever get appended).
        """
        if d in self.dups:
            return True
        if self.sim is None or d in self.kept_docs:
            return False
        start = self._checked.get(d, 0)
        for k in self.kept_docs[start:]:
            v = self.sim.dup_score(d, k)
            if v is not None:
                self.dups[d] = (k, v)
                return True
        self._checked[d] = len(self.kept_docs)
        return False

    def _doc_cost(self, d: int, estimate: int) -> int:
        return estimate + (self.sep if self.kept_docs and d not in self.kept_docs else 0)

    def try_whole(self, d: int) -> bool:
        doc = self.docs[d]
        cost = doc.full_tokens if doc.sep_in_full else self._doc_cost(d, doc.full_tokens)
        if self.used + cost > self.budget or self._opens_duplicate(d):
            return False
        doc.whole = True
        for i, s in enumerate(doc.spans):
            doc.keep(i, s)
        self.kept_docs.append(d)
        self.used += cost
        return True

    def _sentence_dup(self, d: int, i: int) -> bool:
        if self.sim is None:
            return False
        return any(self.sim.sentence_dup((d, i), k) for k in self.kept_sents)

    def try_sentence(self, d: int, i: int) -> bool:
        doc = self.docs[d]
        # adding a sentence costs at least its tokens less one gap marker: most misses stop here,
        # and the (costlier) duplicate checks run only for a sentence that fits
        if i in doc.kept or d in self.dups or doc.sent_tokens[i] - self.gap > self.budget - self.used:
            return False
        old = doc.estimate(self.gap) if doc.is_kept else 0
        doc.keep(i)
        new = doc.estimate(self.gap)
        cost = new - old + (self.sep if self.kept_docs and d not in self.kept_docs else 0)
        if self.used + cost > self.budget or self._opens_duplicate(d) or self._sentence_dup(d, i):
            doc.unkeep(i)
            return False
        if d not in self.kept_docs:
            self.kept_docs.append(d)
        self.used += cost
        self.kept_sents.append((d, i))
        return True

    def _priority(self, d: int, i: int, nb: dict[tuple[int, int], float]) -> float:
        doc = self.docs[d]
        own = doc.sent_base[i] + doc.prior
        if doc.sent_terms:
            cov = self.coverage
            own += self.weight * sum(v * cov.get(t, 1.0) for t, v in doc.sent_terms[i].items())
        return max(own, nb.get((d, i), 0.0))

    def _cover(self, d: int, i: int) -> None:
        """Query terms of a kept sentence count less from now on (``coverage`` times each)."""
        terms = self.docs[d].sent_terms
        if terms and self.gamma < 1.0:
            for t in terms[i]:
                self.coverage[t] = self.coverage.get(t, 1.0) * self.gamma

    def fill_sentences(self, doc_ids: Sequence[int]) -> None:
        """Keep the best sentences of ``doc_ids`` while they fit (lazy greedy).

        A sentence's priority is its own relevance plus a share of its chunk's relevance (and a bonus
        for a chunk's first sentence, which usually names its subject). With BM25, relevance is a
        sum over query terms, and a term already covered by a kept sentence counts ``gamma`` times
        less afterwards, so the budget goes to sentences that answer the other parts of the query.
        A kept sentence lifts its neighbours to ``neighbours`` times its priority.
        """
        if self.prepare is not None:
            self.prepare(doc_ids)
        nb: dict[tuple[int, int], float] = {}
        heap: list[tuple[float, int, int, int]] = []
        rank_of = {d: r for r, d in enumerate(doc_ids)}
        for d in doc_ids:
            for i in range(len(self.docs[d].spans)):
                heap.append((-self._priority(d, i, nb), rank_of[d], i, d))
        heapq.heapify(heap)
        min_cost = min((t for d in doc_ids for t in self.docs[d].sent_tokens), default=0)
        while heap and self.budget - self.used >= min_cost:
            negp, r, i, d = heapq.heappop(heap)
            if i in self.docs[d].kept:
                continue
            p = self._priority(d, i, nb)
            if p < -negp - 1e-12:  # stale: its chunk gave sentences since; re-queue at the new priority
                heapq.heappush(heap, (-p, r, i, d))
                continue
            if not self.try_sentence(d, i):
                continue
            self._cover(d, i)
            if self.neighbours > 0:
                for j in (i - 1, i + 1):
                    if 0 <= j < len(self.docs[d].spans) and j not in self.docs[d].kept:
                        q = p * self.neighbours
                        if q > nb.get((d, j), 0.0):
                            nb[(d, j)] = q
                            heapq.heappush(heap, (-self._priority(d, j, nb), r, j, d))

    def truncate_best(self, d: int, tok: Tokenizer) -> bool:
        """Cut the best sentence of doc ``d`` at a token boundary to fill the remaining budget."""
        if self.prepare is not None:
            self.prepare([d])
        doc = self.docs[d]
        room = self.budget - self.used - doc.header_tokens - (self.sep if self.kept_docs else 0)
        if room <= 0 or not doc.spans:
            return False
        i = max(range(len(doc.spans)), key=lambda k: (doc.sent_priority[k], -k))
        a, b = doc.spans[i]
        ids = tok.encode(doc.text[a:b])[:room]
        cut = tok.decode(ids)
        while cut and not doc.text.startswith(cut, a):  # a multi-byte character split at the cut
            cut = cut[:-1]
        cut = cut.rstrip()
        if not cut:
            return False
        doc.keep(i, (a, a + len(cut)), tok.count(cut))
        self.kept_docs.append(d)
        self.used += doc.estimate(self.gap) + (self.sep if len(self.kept_docs) > 1 else 0)
        return True


def mmr_order(ranked: list[int], docs: list[Doc], sim: Similarity | None, lam: float) -> list[int]:
    """Maximal marginal relevance order: ``lam * relevance - (1 - lam) * max similarity to earlier picks``."""
    if sim is None or len(ranked) < 2:
        return ranked
    rel = dict(zip(ranked, normalize([docs[d].score for d in ranked]), strict=False))
    left = list(ranked)
    out: list[int] = []
    max_sim = dict.fromkeys(ranked, 0.0)
    while left:
        pick = max(left, key=lambda d: (lam * rel[d] - (1 - lam) * max_sim[d], -docs[d].chunk.index))
        out.append(pick)
        left.remove(pick)
        for d in left:
            max_sim[d] = max(max_sim[d], sim.doc_sim(d, pick))
    return out


def pack_chunks(packer: Packer, ranked: list[int], docs: list[Doc], sim: Similarity | None,
                 mmr: float | None) -> None:
    """Whole chunks in order while they fit; a chunk that does not fit is trimmed to its best sentences.

    Trimming splits and scores a chunk, so it is tried only while the room left could hold a short
    sentence under the chunk's header, and given up after a few chunks in a row yield nothing.
    """
    misses = 0
    for d in mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked:
        if packer.try_whole(d) or d in packer.dups:
            continue
        room = packer.budget - packer.used - (packer.sep if packer.kept_docs else 0) - max(docs[d].header_tokens, 0)
        if room < MIN_SENTENCE_TOKENS or misses >= MAX_TRIM_MISSES:
            continue
        before = packer.used
        packer.fill_sentences([d])
        misses = 0 if packer.used > before else misses + 1
