"""``select_chunks``: rerank, deduplicate and trim retrieved chunks to a token budget.

Pipeline: read chunks -> split sentences -> score sentences and chunks (ranker + title match +
multi-hop) -> drop near-duplicates -> pack greedily under the budget (whole chunks, or the best
sentences plus their neighbours) -> order -> render with the template and count exactly.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..result import Change, Result, Savings
from ..sentences import SENTENCE_BACKENDS, sentence_spans
from ..tokens import Tokenizer, get_tokenizer
from ._chunks import Chunk, ChunkInput, read_chunks
from ._dedupe import Similarity, make_similarity
from ._format import DEFAULT_SEPARATOR, DEFAULT_TEMPLATE, check_template, format_context, render_chunk
from ._pack import ORDERS, Doc, build_chunk, order_chunks
from ._rankers import BM25Ranker, Ranker, get_ranker
from ._score import ScoreParams, chunk_scores, normalize, sentence_scores
from ._text import RAG_DEFAULTS, bm25_tokens

__all__ = ["select_chunks", "GRANULARITIES"]

GRANULARITIES = ("chunk", "sentence")


def _check_args(query: Any, budget: Any, granularity: str, order: str, mmr: float | None,
                neighbours: float) -> None:
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise InputError(f"budget must be a positive int (tokens), got {budget!r}")
    if budget <= 0:
        raise InputError(f"budget must be > 0 tokens, got {budget}")
    if not isinstance(query, str):
        raise InputError(f"query must be a string, got {type(query).__name__}")
    if granularity not in GRANULARITIES:
        raise InputError(f"unknown granularity {granularity!r}; choose one of {GRANULARITIES}")
    if order not in ORDERS:
        raise InputError(f"unknown order {order!r}; choose one of {ORDERS}")
    if mmr is not None and not 0.0 <= mmr <= 1.0:
        raise InputError(f"mmr lambda must be in [0, 1], got {mmr}")
    if not 0.0 <= neighbours <= 1.0:
        raise InputError(f"neighbours must be in [0, 1], got {neighbours}")


class _Packer:
    """Greedy packing of sentences (or whole docs) into the remaining budget."""

    def __init__(self, docs: list[Doc], budget: int, sep_tokens: int, gap_tokens: int,
                 sim: Similarity | None, neighbours: float, gamma: float = 1.0, weight: float = 0.7) -> None:
        self.docs = docs
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

    def _doc_cost(self, d: int, estimate: int) -> int:
        return estimate + (self.sep if self.kept_docs and d not in self.kept_docs else 0)

    def try_whole(self, d: int) -> bool:
        doc = self.docs[d]
        cost = self._doc_cost(d, doc.full_tokens)
        if self.used + cost > self.budget:
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
        if i in doc.kept:
            return False
        old = doc.estimate(self.gap) if doc.is_kept else 0
        doc.keep(i)
        new = doc.estimate(self.gap)
        cost = new - old + (self.sep if self.kept_docs and d not in self.kept_docs else 0)
        if self.used + cost > self.budget or self._sentence_dup(d, i):
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


def _prepare(recs: list[Chunk], tok: Tokenizer, template: str, backend: str) -> tuple[list[Doc], list[int]]:
    """Docs for the non-empty chunks (with sentence spans and token counts) and the empty indices."""
    docs: list[Doc] = []
    empty: list[int] = []
    all_spans = []
    for rec in recs:
        spans = sentence_spans(rec.text, backend) if rec.text.strip() else []
        if not spans:
            empty.append(rec.index)
            continue
        all_spans.append((rec, spans))
    flat = [rec.text[a:b] for rec, spans in all_spans for a, b in spans]
    counts = tok.count_many(flat) if flat else []
    full = tok.count_many([render_chunk(rec, template) for rec, _ in all_spans]) if all_spans else []
    pos = 0
    for (rec, spans), full_tokens in zip(all_spans, full, strict=False):
        st = counts[pos:pos + len(spans)]
        pos += len(spans)
        docs.append(Doc(rec, list(spans), list(st), max(0, full_tokens - sum(st)), full_tokens))
    return docs, empty


def select_chunks(
    query: str,
    chunks: Sequence[ChunkInput],
    budget: int,
    ranker: str | Ranker = "bm25",
    granularity: str = "chunk",
    dedupe: bool | float = True,
    order: str = "relevance",
    tokenizer: str | Tokenizer | None = None,
    *,
    template: str = DEFAULT_TEMPLATE,
    separator: str = DEFAULT_SEPARATOR,
    mmr: float | None = None,
    neighbours: float = 0.5,
    hops: int = 2,
    title_weight: float = 1.0,
    allow_truncate: bool = False,
    sentence_backend: str = "rules",
    model: Any = None,
    gap: str | None = None,
) -> Result[list[Chunk]]:
    """Rerank, deduplicate and trim ``chunks`` so that their formatted context fits ``budget`` tokens.

    Returns ``Result(value=[Chunk, ...])`` in context order; ``format_context(result.value,
    template, separator)`` is the exact text that was counted. ``changes`` say why each dropped
    chunk went (duplicate, over budget, empty) and which chunks were trimmed to sentences.
    ``granularity="sentence"`` keeps the most relevant sentences (plus neighbours, weighted by
    ``neighbours``) of every chunk; ``"chunk"`` keeps whole chunks and trims only one that does not
    fit whole. ``hops=2`` adds multi-hop expansion; ``mmr`` (a lambda in [0, 1]) trades relevance
    for diversity. See docs/rag.md for measured effects.
    """
    _check_args(query, budget, granularity, order, mmr, neighbours)
    check_template(template)
    if sentence_backend not in SENTENCE_BACKENDS:
        raise InputError(f"unknown sentence backend {sentence_backend!r}; choose one of {SENTENCE_BACKENDS}")
    gap = str(RAG_DEFAULTS["gap"]) if gap is None else gap
    tok = get_tokenizer(tokenizer)
    recs = read_chunks(chunks)
    if not recs:
        return Result([], Savings(0, 0, tok.name, tok.exact))
    rk = get_ranker(ranker, model)
    before = tok.count(format_context(recs, template, separator))
    docs, empty = _prepare(recs, tok, template, sentence_backend)
    params = ScoreParams(title_weight=title_weight, hops=hops)
    _score(query, docs, rk, params)
    sim = make_similarity(docs, rk, dedupe, mmr is not None)
    ranked = sorted(range(len(docs)), key=lambda d: (-docs[d].score, docs[d].chunk.index))
    dups: dict[int, tuple[int, float]] = {}
    if sim is not None and dedupe is not False:
        ranked = _drop_duplicates(ranked, docs, sim, dups)
    packer = _Packer(docs, budget, tok.count(separator), tok.count(gap) if gap else 0,
                     sim if dedupe is not False else None, neighbours, params.coverage, params.sentence_weight)
    if granularity == "sentence":
        packer.fill_sentences(_mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked)
    else:
        _pack_chunks(packer, ranked, docs, sim, mmr)
    if not packer.kept_docs and allow_truncate and ranked:
        packer.truncate_best(ranked[0], tok)
    value, after = _finish(packer, docs, tok, template, separator, gap, order, budget)
    changes = _changes(recs, docs, value, empty, dups, tok, template)
    return Result(value, Savings(before, after, tok.name, tok.exact), changes)


def _term_matrix(query: str, sent_tok: list[list[str]], rk: Ranker) -> dict[str, list[float]]:
    """BM25 score of every sentence for each query term alone (BM25 is a sum over query terms)."""
    if not isinstance(rk, BM25Ranker):
        return {}
    terms = list(dict.fromkeys(bm25_tokens(query)))
    vocab = {t for toks in sent_tok for t in toks}
    return {t: rk.score_tokens([t], sent_tok) for t in terms if t in vocab}


def _score(query: str, docs: list[Doc], rk: Ranker, params: ScoreParams) -> None:
    """Set ``doc.score``, the sentence priorities and per-term sentence relevance for every doc."""
    sents = [d.text[a:b] for d in docs for a, b in d.spans]
    sent_tok = [bm25_tokens(s) for s in sents]
    matrix = _term_matrix(query, sent_tok, rk)
    if matrix:
        raw = [sum(col) for col in zip(*matrix.values(), strict=True)]
        top = max(raw, default=0.0) or 1.0
        s_scores = [x / top for x in raw]
    else:
        top = 1.0
        s_scores = sentence_scores(query, sents, rk, sent_tok)
    per_doc: list[list[float]] = []
    doc_tokens: list[list[str]] = []
    pos = 0
    for d in docs:
        n = len(d.spans)
        per_doc.append(s_scores[pos:pos + n])
        if matrix:
            d.sent_terms = [{t: col[k] / top for t, col in matrix.items() if col[k] > 0} for k in range(pos, pos + n)]
        toks = bm25_tokens(d.chunk.title) if d.chunk.title else []
        for t in sent_tok[pos:pos + n]:
            toks.extend(t)
        doc_tokens.append(toks)
        pos += n
    best = [sorted(((s, d.text[a:b]) for s, (a, b) in zip(ps, d.spans, strict=True)), key=lambda x: -x[0])
            for ps, d in zip(per_doc, docs, strict=True)]
    texts = [f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text for d in docs]
    scores = chunk_scores(query, texts, [d.chunk.title for d in docs], rk, params, doc_tokens, best)
    chunk_norm = normalize(scores)
    w = params.sentence_weight
    for d, s, cn, ps in zip(docs, scores, chunk_norm, per_doc, strict=True):
        d.score = s
        lead = [params.lead_weight * cn if i == 0 else 0.0 for i in range(len(ps))]
        # with per-term relevance, the packer adds the (coverage-weighted) sentence part itself
        d.sent_base = lead if d.sent_terms else [w * p + b for p, b in zip(ps, lead, strict=True)]
        d.prior = (1 - w) * cn
        d.sent_priority = [w * p + b + d.prior for p, b in zip(ps, lead, strict=True)]


def _drop_duplicates(ranked: list[int], docs: list[Doc], sim: Similarity, dups: dict[int, tuple[int, float]]
                     ) -> list[int]:
    kept: list[int] = []
    for d in ranked:
        hit = next(((k, v) for k in kept if (v := sim.doc_sim(d, k)) >= sim.threshold), None)
        if hit is None:
            kept.append(d)
        else:
            dups[d] = hit
    return kept


def _mmr_order(ranked: list[int], docs: list[Doc], sim: Similarity | None, lam: float) -> list[int]:
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


def _pack_chunks(packer: _Packer, ranked: list[int], docs: list[Doc], sim: Similarity | None,
                 mmr: float | None) -> None:
    """Whole chunks in order while they fit; a chunk that does not fit is trimmed to its best sentences."""
    for d in _mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked:
        if not packer.try_whole(d):
            packer.fill_sentences([d])


def _finish(packer: _Packer, docs: list[Doc], tok: Tokenizer, template: str, separator: str, gap: str,
            order: str, budget: int) -> tuple[list[Chunk], int]:
    """Build, order and render the kept chunks; trim the weakest sentence until the exact count fits."""
    by_rank = sorted(packer.kept_docs, key=lambda d: (-docs[d].score, docs[d].chunk.index))
    while True:
        kept = [d for d in by_rank if docs[d].is_kept]
        value = order_chunks([build_chunk(docs[d], gap, r) for r, d in enumerate(kept)], order)
        total = tok.count(format_context(value, template, separator)) if value else 0
        if total <= budget:
            return value, total
        worst = docs[kept[-1]]
        worst.whole = False
        drop = min(worst.kept, key=lambda i: (worst.sent_priority[i], -i))
        worst.unkeep(drop)


def _changes(recs: list[Chunk], docs: list[Doc], value: list[Chunk], empty: list[int],
             dups: dict[int, tuple[int, float]], tok: Tokenizer, template: str) -> tuple[Change, ...]:
    out_by_index = {c.index: c for c in value}
    doc_by_index = {d.chunk.index: (pos, d) for pos, d in enumerate(docs)}
    changes: list[Change] = []
    for rec in recs:
        loc = f"chunks[{rec.index}]"
        if rec.index in empty:
            changes.append(Change("drop", "rag.empty", loc, before=rec.text, reason="chunk has no text"))
            continue
        pos, doc = doc_by_index[rec.index]
        kept = out_by_index.get(rec.index)
        if kept is None:
            if pos in dups:
                other, v = dups[pos]
                reason = f"near-duplicate of chunks[{docs[other].chunk.index}] (similarity {v:.2f})"
                rule = "rag.duplicate"
            else:
                reason = f"over budget (score {doc.score:.3f})"
                rule = "rag.budget"
            changes.append(Change("drop", rule, loc, before=rec.text, tokens_saved=doc.full_tokens,
                                  reason=reason))
        elif kept.trimmed:
            saved = doc.full_tokens - tok.count(render_chunk(kept, template))
            changes.append(Change("trim", "rag.sentences", loc, before=rec.text, after=kept.text,
                                  tokens_saved=saved,
                                  reason=f"kept {len(kept.sentences)} of {len(doc.spans)} sentences"))
    return tuple(changes)
