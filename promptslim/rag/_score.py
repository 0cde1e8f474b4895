"""Relevance scoring of chunks and sentences: ranker scores plus title-aware and multi-hop signals.

* Title-aware: a chunk whose title (without a trailing parenthetical qualifier) occurs in the
  query as a phrase gets ``title_weight`` added to its normalized score. Titles name what a chunk
  is about; questions that name two entities ("Which is older, X or Y?") need both chunks.
* Multi-hop (``hops=2``): the best sentences of the best chunks are read for entities; a chunk
  whose title they mention is boosted (link following), and the query is re-run with those
  sentences appended (pseudo-relevance feedback). This finds the second hop of a bridge question,
  whose entity is not in the question ("the director of film X was born where?").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ._rankers import BM25Ranker, HybridRanker, Ranker, rank_order
from ._text import all_words, bm25_tokens, contains_phrase, title_key

__all__ = ["normalize", "ScoreParams", "chunk_scores", "sentence_scores", "title_in"]


def normalize(scores: Sequence[float]) -> list[float]:
    """Scores divided by the maximum (all zeros when nothing scores above zero)."""
    top = max(scores, default=0.0)
    if top <= 0:
        return [0.0] * len(scores)
    return [max(s, 0.0) / top for s in scores]


def spread(scores: Sequence[float]) -> list[float]:
    """Scores mapped linearly onto [0, 1] (min to max): cosine similarities and fused ranks of a pool
    sit in a narrow band, and dividing by the maximum alone would leave them nearly flat."""
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    return [(s - lo) / (hi - lo) if hi > lo else 0.0 for s in scores]


@dataclass(frozen=True)
class ScoreParams:
    """Knobs of the scoring stage (defaults chosen on the eval suites; see docs/rag.md)."""

    title_weight: float = 1.0  # added to the max-normalized ranker score when the title is in the query
    hops: int = 2  # 1 = no expansion
    hop_chunks: int = 2  # chunks whose best sentences seed the next hop
    hop_sentences: int = 2  # best sentences read per seed chunk
    link_weight: float = 0.9  # a chunk whose title those sentences name gets this share of the seed's score
    feedback_weight: float = 0.3  # weight of the re-query with the seed sentences appended
    sentence_weight: float = 0.7  # sentence priority: this share from the sentence, the rest from its chunk
    lead_weight: float = 0.1  # bonus (times chunk relevance) for a chunk's first sentence
    coverage: float = 0.2  # a query term already covered by a kept sentence counts this much afterwards
    answer_type: float = 0.2  # bonus for a sentence holding a candidate of the asked answer type
    context: float = 0.0  # a query term in the previous sentence counts this much (pronoun subjects)
    hybrid_share: float = 0.5  # share of the non-lexical rankers in a hybrid's sentence score


def title_in(title: str | None, words: Sequence[str]) -> bool:
    """True when the title's key words occur as a phrase in ``words`` (stopword-only titles never)."""
    if not title:
        return False
    key = _content_title_key(title)
    return bool(key) and contains_phrase(words, key)


@lru_cache(maxsize=4096)
def _content_title_key(title: str) -> tuple[str, ...]:
    """:func:`title_key`, or ``()`` for a title made only of stopwords ("The", "It")."""
    key = title_key(title)
    return key if key and bm25_tokens(" ".join(key)) else ()


def scorer(ranker: Ranker, docs: Sequence[str], doc_tokens: Sequence[list[str]] | None = None
           ) -> Callable[[str], list[float]]:
    """``query -> scores`` over one pool; BM25 indexes the pool once for all the queries of a call."""
    if isinstance(ranker, BM25Ranker) and doc_tokens is not None:
        run = ranker.index(doc_tokens)
        return lambda query: run(bm25_tokens(query))
    return lambda query: ranker.score(query, docs)


def chunk_scores(
    query: str,
    docs: Sequence[str],
    titles: Sequence[str | None],
    ranker: Ranker,
    params: ScoreParams,
    doc_tokens: Sequence[list[str]] | None = None,
    best_sentences: Callable[[Sequence[int]], dict[int, list[tuple[float, str]]]] | None = None,
) -> list[float]:
    """Final chunk relevance: normalized ranker score + title match (+ multi-hop signals).

    ``best_sentences(top)`` maps each chunk in ``top`` to its ``(score, sentence)`` pairs, best
    first; it feeds the multi-hop step (without it the chunk's own text is used).
    """
    score = scorer(ranker, docs, doc_tokens)
    # fused ranks (1/61, 1/62, ...) are nearly flat once divided by the maximum: spread them instead
    norm = spread if isinstance(ranker, HybridRanker) else normalize
    base = norm(score(query))
    qwords = all_words(query)
    scores = [b + (params.title_weight if title_in(t, qwords) else 0.0) for b, t in zip(base, titles, strict=False)]
    if params.hops < 2 or len(docs) < 2:
        return scores
    for _ in range(params.hops - 1):
        top = rank_order(scores)[: params.hop_chunks]
        evidence: list[str] = []
        link = [0.0] * len(docs)
        best = best_sentences(top) if best_sentences is not None else {i: [(1.0, docs[i])] for i in top}
        for i in top:
            sents = best[i]
            ev = [s for _, s in list(sents)[: params.hop_sentences]]
            evidence.extend(ev)
            ev_words = all_words(" ".join(ev))
            for j, t in enumerate(titles):
                if j not in top and title_in(t, ev_words) and not title_in(t, qwords):
                    link[j] = max(link[j], params.link_weight * scores[i])
        if not evidence:
            break
        feedback = norm(score(query + "\n" + "\n".join(evidence)))
        scores = [s + params.feedback_weight * f + lk for s, f, lk in zip(scores, feedback, link, strict=False)]
    return scores


def sentence_scores(
    query: str,
    sentences: Sequence[str],
    ranker: Ranker,
    sent_tokens: Sequence[list[str]] | None = None,
) -> list[float]:
    """Normalized ranker score of each sentence for ``query``."""
    if not sentences:
        return []
    return normalize(scorer(ranker, sentences, sent_tokens)(query))
