"""``select_chunks``: rerank, deduplicate and trim retrieved chunks to a token budget.

Pipeline: read chunks -> split sentences -> score sentences and chunks (ranker + title match +
multi-hop) -> drop near-duplicates -> pack greedily under the budget (whole chunks, or the best
sentences plus their neighbours) -> order -> render with the template and count exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import InputError
from ..result import Change, Result, Savings
from ..sentences import SENTENCE_BACKENDS
from ..tokens import Tokenizer, get_tokenizer
from ._chunks import Chunk, ChunkInput, read_chunks
from ._dedupe import make_similarity
from ._format import (
    DEFAULT_SEPARATOR,
    DEFAULT_TEMPLATE,
    check_template,
    context_tokens,
    format_context,
    render_chunk,
)
from ._pack import ORDERS, Doc, build_chunk, order_chunks
from ._packer import Packer, mmr_order, pack_chunks
from ._rankers import Ranker, get_ranker
from ._score import ScoreParams
from ._scorer import Scorer, prepare
from ._text import RAG_DEFAULTS

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
    split = granularity == "sentence"
    rendered = [render_chunk(r, template, i + 1) for i, r in enumerate(recs)]
    before, costs = context_tokens(rendered, separator, tok, costs=not split)
    docs, empty = prepare(recs, tok, template, sentence_backend, split, costs)
    params = replace(scoring or ScoreParams(), title_weight=title_weight, hops=hops)
    scorer = Scorer(query, docs, rk, params, tok, sentence_backend)
    if split:
        scorer.score_sentences(range(len(docs)))
    scorer.score_chunks()
    sim = make_similarity(docs, rk, dedupe, mmr is not None)
    ranked = sorted(range(len(docs)), key=lambda d: (-docs[d].score, docs[d].chunk.index))
    packer = Packer(docs, budget, tok.count(separator), tok.count(gap) if gap else 0,
                     sim if dedupe is not False else None, neighbours, params.coverage, params.sentence_weight,
                     scorer.score_sentences)
    if granularity == "sentence":
        packer.fill_sentences(mmr_order(ranked, docs, sim, mmr) if mmr is not None else ranked)
    else:
        pack_chunks(packer, ranked, docs, sim, mmr)
    if not packer.kept_docs and allow_truncate and ranked:
        packer.truncate_best(ranked[0], tok)
    value, after = _finish(packer, docs, tok, template, separator, gap, order, budget)
    changes = _changes(recs, docs, value, empty, packer.dups, tok, template)
    return Result(value, Savings(before, after, tok.name, tok.exact), changes)


def _finish(packer: Packer, docs: list[Doc], tok: Tokenizer, template: str, separator: str, gap: str,
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
