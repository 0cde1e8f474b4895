"""``select_chunks``: rerank, deduplicate and trim retrieved chunks to a token budget.

Pipeline: read chunks -> split sentences -> score sentences and chunks (ranker + title match +
multi-hop) -> drop near-duplicates -> pack greedily under the budget (whole chunks, or the best
sentences plus their neighbours) -> order -> render with the template and count exactly.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import replace
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
_MIN_SENTENCE_TOKENS = 6  # less room than this is not worth splitting another chunk for
_MAX_TRIM_MISSES = 3  # consecutive chunks that could not be trimmed into the room left


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

    def _opens_duplicate(self, d: int) -> bool:
        """True (and recorded) when doc ``d`` is not kept yet and near-duplicates a kept doc."""
        if d in self.dups:
            return True
        if self.sim is None or d in self.kept_docs:
            return False
        for k in self.kept_docs:
            v = self.sim.dup_score(d, k)
            if v is not None:
                self.dups[d] = (k, v)
                return True
        return False

    def _doc_cost(self, d: int, estimate: int) -> int:
        return estimate + (self.sep if self.kept_docs and d not in self.kept_docs else 0)

    def try_whole(self, d: int) -> bool:
        doc = self.docs[d]
        cost = self._doc_cost(d, doc.full_tokens)
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
        if i in doc.kept or self._opens_duplicate(d):
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


def _count_each(tok: Tokenizer, texts: list[str]) -> list[int]:
    """Token counts of many short texts: one encode call each (tiktoken's batch API pays a thread
    pool round trip per text, which costs more than it saves on sentence-sized texts)."""
    count = tok.count
    return [count(t) for t in texts]


def _prepare(recs: list[Chunk], tok: Tokenizer, template: str, backend: str, split: bool
             ) -> tuple[list[Doc], list[int]]:
    """Docs for the non-empty chunks and the indices of the empty ones.

    With ``split`` (sentence granularity) every chunk is split and its sentences counted now, and
    its rendered size is estimated as header + sentences; otherwise each chunk is counted whole and
    split later only if it has to be trimmed. The final context is always counted exactly.
    """
    docs: list[Doc] = []
    empty: list[int] = []
    header_counts: dict[str, int] = {}
    for rec in recs:
        if not rec.text.strip():
            empty.append(rec.index)
            continue
        header = render_chunk(replace(rec, text=""), template)
        header_tokens = header_counts.get(header, -1)
        if header_tokens < 0:
            header_tokens = header_counts[header] = tok.count(header) + 1 if header else 0
        doc = Doc(rec, [], [], header_tokens, 0)
        if split:
            _split(doc, tok, backend)
            doc.full_tokens = header_tokens + sum(doc.sent_tokens)
        else:
            doc.full_tokens = tok.count(render_chunk(rec, template))
        docs.append(doc)
    return docs, empty


def _split(doc: Doc, tok: Tokenizer, backend: str) -> None:
    """Fill in the doc's sentence spans and their token counts (once)."""
    if doc.spans:
        return
    text = doc.text
    doc.spans = sentence_spans(text, backend) or [(0, len(text))]
    doc.sent_tokens = _count_each(tok, [text[a:b] for a, b in doc.spans])


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
    neighbours: float = 0.25,
    hops: int = 2,
    title_weight: float = 1.0,
    allow_truncate: bool = False,
    sentence_backend: str = "rules",
    model: Any = None,
    gap: str | None = None,
    scoring: ScoreParams | None = None,
) -> Result[list[Chunk]]:
    """Rerank, deduplicate and trim ``chunks`` so that their formatted context fits ``budget`` tokens.

    Returns ``Result(value=[Chunk, ...])`` in context order; ``format_context(result.value,
    template, separator)`` is the exact text that was counted. ``changes`` say why each dropped
    chunk went (duplicate, over budget, empty) and which chunks were trimmed to sentences.
    ``granularity="sentence"`` keeps the most relevant sentences (plus neighbours, weighted by
    ``neighbours``) of every chunk; ``"chunk"`` keeps whole chunks and trims only one that does not
    fit whole. ``hops=2`` adds multi-hop expansion; ``mmr`` (a lambda in [0, 1]) trades relevance
    for diversity. ``scoring`` overrides the remaining scoring weights (:class:`ScoreParams`; its
    ``title_weight`` and ``hops`` are taken from the arguments). See docs/rag.md for measured effects.
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
    split = granularity == "sentence"
    docs, empty = _prepare(recs, tok, template, sentence_backend, split)
    params = replace(scoring or ScoreParams(), title_weight=title_weight, hops=hops)
    scorer = _Scorer(query, docs, rk, params, tok, sentence_backend)
    if split:
        scorer.score_sentences(range(len(docs)))
    scorer.score_chunks()
    sim = make_similarity(docs, rk, dedupe, mmr is not None)
    ranked = sorted(range(len(docs)), key=lambda d: (-docs[d].score, docs[d].chunk.index))
    packer = _Packer(docs, budget, tok.count(separator), tok.count(gap) if gap else 0,
                     sim if dedupe is not False else None, neighbours, params.coverage, params.sentence_weight,
                     scorer.score_sentences)
    if granularity == "sentence":
        packer.fill_sentences(_mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked)
    else:
        _pack_chunks(packer, ranked, docs, sim, mmr)
    if not packer.kept_docs and allow_truncate and ranked:
        packer.truncate_best(ranked[0], tok)
    value, after = _finish(packer, docs, tok, template, separator, gap, order, budget)
    changes = _changes(recs, docs, value, empty, packer.dups, tok, template)
    return Result(value, Savings(before, after, tok.name, tok.exact), changes)


def _term_matrix(query: str, sent_tok: list[list[str]], rk: Ranker) -> dict[str, list[float]]:
    """BM25 score of every sentence for each query term alone (BM25 is a sum over query terms)."""
    if not isinstance(rk, BM25Ranker) or rk.backend == "bm25s":
        return {}
    return rk.term_scores(list(dict.fromkeys(bm25_tokens(query))), sent_tok)


class _Scorer:
    """Relevance of chunks and of their sentences for one query (sentences scored on demand)."""

    def __init__(self, query: str, docs: list[Doc], rk: Ranker, params: ScoreParams, tok: Tokenizer,
                 backend: str) -> None:
        self.query, self.docs, self.rk, self.params = query, docs, rk, params
        self.tok, self.backend = tok, backend
        self.sent_scores: dict[int, list[float]] = {}
        self.sent_tok: dict[int, list[list[str]]] = {}
        self.chunk_norm: list[float] = []

    def score_sentences(self, subset: Sequence[int]) -> None:
        """Score the sentences of ``docs[subset]`` against the query, pooled (BM25 IDF over the pool)."""
        todo = [d for d in subset if d not in self.sent_scores]
        if not todo:
            return
        for d in todo:
            _split(self.docs[d], self.tok, self.backend)
        sents = [self.docs[d].text[a:b] for d in todo for a, b in self.docs[d].spans]
        sent_tok = [bm25_tokens(x) for x in sents]
        pos = 0
        for d in todo:
            n = len(self.docs[d].spans)
            self.sent_tok[d] = sent_tok[pos:pos + n]
            pos += n
        matrix = _term_matrix(self.query, sent_tok, self.rk)
        if matrix:
            raw = [sum(col) for col in zip(*matrix.values(), strict=True)]
            top = max(raw, default=0.0) or 1.0
            scores = [x / top for x in raw]
        else:
            top = 1.0
            scores = sentence_scores(self.query, sents, self.rk, sent_tok)
        pos = 0
        for d in todo:
            doc = self.docs[d]
            n = len(doc.spans)
            self.sent_scores[d] = scores[pos:pos + n]
            if matrix:
                doc.sent_terms = [{t: col[k] / top for t, col in matrix.items() if col[k] > 0}
                                  for k in range(pos, pos + n)]
            pos += n
            if self.chunk_norm:
                self._priorities(d)

    def _priorities(self, d: int) -> None:
        doc, p = self.docs[d], self.params
        cn, ps = self.chunk_norm[d], self.sent_scores[d]
        lead = [p.lead_weight * cn if i == 0 else 0.0 for i in range(len(ps))]
        w = p.sentence_weight
        # with per-term relevance, the packer adds the (coverage-weighted) sentence part itself
        doc.sent_base = lead if doc.sent_terms else [w * x + b for x, b in zip(ps, lead, strict=True)]
        doc.prior = (1 - w) * cn
        doc.sent_priority = [w * x + b + doc.prior for x, b in zip(ps, lead, strict=True)]

    def best_sentences(self, top: Sequence[int]) -> dict[int, list[tuple[float, str]]]:
        """``(score, sentence)`` of each chunk in ``top``, best first (seeds multi-hop expansion)."""
        self.score_sentences(top)
        out = {}
        for d in top:
            doc = self.docs[d]
            pairs = zip(self.sent_scores[d], doc.spans, strict=True)
            out[d] = sorted(((x, doc.text[a:b]) for x, (a, b) in pairs), key=lambda y: -y[0])
        return out

    def score_chunks(self) -> None:
        """Set ``doc.score`` for every doc, and sentence priorities for docs already scored."""
        docs = self.docs
        doc_tokens = []
        for k, d in enumerate(docs):
            parts = self.sent_tok.get(k)
            if parts is None:
                doc_tokens.append(bm25_tokens(f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text))
            else:  # reuse the sentences' tokens
                toks = bm25_tokens(d.chunk.title) if d.chunk.title else []
                for p in parts:
                    toks.extend(p)
                doc_tokens.append(toks)
        texts = [f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text for d in docs]
        scores = chunk_scores(self.query, texts, [d.chunk.title for d in docs], self.rk, self.params,
                              doc_tokens, self.best_sentences)
        self.chunk_norm = normalize(scores)
        for doc, s in zip(docs, scores, strict=True):
            doc.score = s
        for k in self.sent_scores:
            self._priorities(k)


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
    """Whole chunks in order while they fit; a chunk that does not fit is trimmed to its best sentences.

    Trimming splits and scores a chunk, so it is tried only while the room left could hold a short
    sentence under the chunk's header, and given up after a few chunks in a row yield nothing.
    """
    misses = 0
    for d in _mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked:
        if packer.try_whole(d) or d in packer.dups:
            continue
        room = packer.budget - packer.used - (packer.sep if packer.kept_docs else 0) - docs[d].header_tokens
        if room < _MIN_SENTENCE_TOKENS or misses >= _MAX_TRIM_MISSES:
            continue
        before = packer.used
        packer.fill_sentences([d])
        misses = 0 if packer.used > before else misses + 1


def _finish(packer: _Packer, docs: list[Doc], tok: Tokenizer, template: str, separator: str, gap: str,
            order: str, budget: int) -> tuple[list[Chunk], int]:
    """Build, order and render the kept chunks; trim the weakest sentence until the exact count fits."""
    by_rank = sorted(packer.kept_docs, key=lambda d: (-docs[d].score, docs[d].chunk.index))
    if packer.prepare is not None:  # whole chunks are split only now, to report their sentences
        packer.prepare(by_rank)
    for d in by_rank:
        if docs[d].whole and not docs[d].kept:
            for i, span in enumerate(docs[d].spans):
                docs[d].keep(i, span)
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
