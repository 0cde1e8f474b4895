"""Rankers: score a pool of texts against a query (higher is more relevant).

* ``BM25Ranker`` - Okapi BM25 from ``rank-bm25`` with Lucene's always-positive IDF,
  ``log(1 + (N - n + 0.5) / (n + 0.5))``. Robertson's IDF (rank-bm25's default) is zero or negative
  for a term in half of the pool or more, which on the 2-10 chunk pools RAG selection sees wipes out
  the query's best words. ``backend="bm25s"`` (extra ``fast``) uses bm25s' ``lucene`` method, the
  same scores divided by ``k1 + 1`` (multiplied back here). It is not the default: bm25s is fast at
  querying a prebuilt index, but RAG selection indexes a fresh pool for every call, and measured
  here (benchmarks/bench_rag.py) indexing plus one query is slower with bm25s at 100-5,000 chunks.
* ``EmbeddingRanker`` - cosine similarity of sentence embeddings (extra ``semantic``).
* ``HybridRanker`` - reciprocal rank fusion of several rankers.

A ranker is any object with ``name`` and ``score(query, docs) -> list[float]``; pass one as
``select_chunks(ranker=...)`` to plug in your own (a cross-encoder, a hosted reranker).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from ..errors import InputError, MissingExtraError
from ..sentences import sentence_spans
from ._text import RAG_DEFAULTS, bm25_tokens

__all__ = [
    "Ranker",
    "BM25Ranker",
    "EmbeddingRanker",
    "HybridRanker",
    "get_ranker",
    "RANKERS",
    "rank_order",
]

RANKERS = ("bm25", "bm25s", "embedding", "hybrid")


@runtime_checkable
class Ranker(Protocol):
    """What ``select_chunks`` needs from a ranker."""

    name: str

    def score(self, query: str, docs: Sequence[str]) -> list[float]:
        """One relevance score per doc, higher is better."""
        ...


def rank_order(scores: Sequence[float]) -> list[int]:
    """Indices by descending score, ties broken by position (deterministic)."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


class BM25Ranker:
    """Okapi BM25 over :func:`bm25_tokens` words; ``backend`` is ``"rank-bm25"`` (default) or ``"bm25s"``."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, backend: str = "rank-bm25") -> None:
        if backend == "auto":  # the name of the default before rank-bm25 was made the default
            backend = "rank-bm25"
        if backend not in ("rank-bm25", "bm25s"):
            raise InputError(f"unknown BM25 backend {backend!r}; use 'rank-bm25' or 'bm25s'")
        self.k1 = k1
        self.b = b
        self.backend = backend
        self.name = "bm25s" if backend == "bm25s" else "bm25"

    def _use_bm25s(self) -> bool:
        if self.backend == "bm25s":
            if importlib.util.find_spec("bm25s") is None:
                raise MissingExtraError("the bm25s BM25 backend", "fast")
            return True
        return False

    def score(self, query: str, docs: Sequence[str]) -> list[float]:
        """BM25 score of each doc for ``query``."""
        return self.score_tokens(bm25_tokens(query), [bm25_tokens(d) for d in docs])

    def index(self, docs: Sequence[Sequence[str]]) -> Callable[[Sequence[str]], list[float]]:
        """Index a pool of pre-tokenized docs once; the returned function scores a tokenized query."""
        n = len(docs)
        if not n or not any(docs):
            return lambda query: [0.0] * n
        if self._use_bm25s():
            return _bm25s_index(docs, self.k1, self.b)
        model = _lucene_bm25()([list(d) for d in docs], k1=self.k1, b=self.b)
        return lambda query: [float(x) for x in model.get_scores(list(query))] if query else [0.0] * n

    def term_scores(self, terms: Sequence[str], docs: Sequence[Sequence[str]]) -> dict[str, list[float]]:
        """``{term: its BM25 contribution in every doc}`` for the terms that occur in the pool (first-seen
        order); BM25 is the sum of these, which lets the packer discount terms already covered."""
        if not docs or not any(docs):
            return {}
        model = _lucene_bm25()([list(d) for d in docs], k1=self.k1, b=self.b)
        return {t: [float(x) for x in model.get_scores([t])] for t in dict.fromkeys(terms) if t in model.idf}

    def score_tokens(self, query: Sequence[str], docs: Sequence[Sequence[str]]) -> list[float]:
        """BM25 scores on pre-tokenized input (lets callers reuse one tokenization)."""
        if not docs:
            return []
        if not query:
            return [0.0] * len(docs)
        return self.index(docs)(query)

    def __repr__(self) -> str:
        return f"BM25Ranker(k1={self.k1}, b={self.b}, backend={self.backend!r})"


@lru_cache(maxsize=1)
def _lucene_bm25() -> type:
    """rank-bm25's ``BM25Okapi`` with Lucene's IDF (the one bm25s calls ``lucene``)."""
    from rank_bm25 import BM25Okapi

    class LuceneBM25(BM25Okapi):  # type: ignore[misc]
        def _calc_idf(self, nd: dict[str, int]) -> None:
            n = self.corpus_size
            for word, freq in nd.items():
                self.idf[word] = math.log(1.0 + (n - freq + 0.5) / (freq + 0.5))

    return LuceneBM25


def _bm25s_index(docs: Sequence[Sequence[str]], k1: float, b: float) -> Callable[[Sequence[str]], list[float]]:
    import bm25s

    model = bm25s.BM25(method="lucene", k1=k1, b=b, dtype="float64")
    model.index([list(d) for d in docs], show_progress=False)
    scale = k1 + 1.0  # bm25s divides the term weight by k1 + 1
    n = len(docs)

    def scores(query: Sequence[str]) -> list[float]:
        known = [t for t in query if t in model.vocab_dict]
        if not known:
            return [0.0] * n
        return [float(x) * scale for x in model.get_scores(known)]

    return scores


class EmbeddingRanker:
    """Cosine similarity of normalized sentence embeddings from ``promptslim.backends.embeddings``.

    ``model`` is a sentence-transformers model name or local path (default: the offline
    all-MiniLM-L6-v2), or an embedder object with ``embed(texts)``. Embeddings are cached by text
    hash inside the embedder, so repeated chunks are embedded once.
    """

    name = "embedding"

    def __init__(self, model: Any = None) -> None:
        self._model = model
        self._embedder: Any = None

    @property
    def embedder(self) -> Any:
        """The embedder, loaded on first use."""
        if self._embedder is None:
            if self._model is not None and hasattr(self._model, "embed"):
                self._embedder = self._model
            else:
                from ..backends.embeddings import get_embedder

                self._embedder = get_embedder(self._model)
        return self._embedder

    def embed(self, texts: Sequence[str]) -> Any:
        """Normalized vectors for ``texts`` as a numpy array (rows).

        A text that fits the model's window (``embed_window_chars`` in data/rag.toml, about the 256
        word pieces all-MiniLM-L6-v2 reads) is embedded whole: the model was trained on passages, and
        on SQuAD paragraphs that ranks them better than averaging their sentences (embedding-chunk
        answer recall at 1/16: 0.750 -> 0.79, docs/rag.md). A longer text, of which the model would
        read only the head, is the sum of its whole (head) vector and the normalized mean of its
        sentences' vectors, so its tail still counts. Sentence vectors are cached and shared with
        sentence-level scoring.
        """
        import numpy as np

        if not texts:
            return np.zeros((0, 0))
        window = int(RAG_DEFAULTS["embed_window_chars"])
        pieces: list[list[str]] = []
        for t in texts:
            sents = [t[a:b] for a, b in sentence_spans(t)] if len(t) > window else []
            pieces.append([t, *sents] if len(sents) > 1 else [t])
        flat = [p for ps in pieces for p in ps]
        vecs = np.asarray(self.embedder.embed(flat), dtype=np.float64)
        out = np.zeros((len(texts), vecs.shape[1]))
        pos = 0
        for k, ps in enumerate(pieces):
            v = vecs[pos].copy()
            if len(ps) > 1:
                mean = vecs[pos + 1:pos + len(ps)].sum(axis=0)
                norm = float(np.linalg.norm(mean))
                v += mean / norm if norm > 0 else mean
            pos += len(ps)
            norm = float(np.linalg.norm(v))
            out[k] = v / norm if norm > 0 else v
        return out

    def score(self, query: str, docs: Sequence[str]) -> list[float]:
        """Cosine similarity of each doc to ``query``."""
        if not docs:
            return []
        vecs = self.embed([query, *docs])
        return [float(x) for x in vecs[1:] @ vecs[0]]


class HybridRanker:
    """Reciprocal rank fusion: ``sum(1 / (k + rank))`` over the component rankers (rank from 1)."""

    name = "hybrid"

    def __init__(self, rankers: Sequence[Ranker] | None = None, k: int | None = None) -> None:
        self.rankers: list[Ranker] = list(rankers) if rankers else [BM25Ranker(), EmbeddingRanker()]
        self.k = int(k if k is not None else RAG_DEFAULTS["rrf_k"])

    def score(self, query: str, docs: Sequence[str]) -> list[float]:
        """Fused score of each doc."""
        fused = [0.0] * len(docs)
        for ranker in self.rankers:
            for rank, i in enumerate(rank_order(ranker.score(query, docs)), start=1):
                fused[i] += 1.0 / (self.k + rank)
        return fused


def get_ranker(ranker: str | Ranker, model: Any = None) -> Ranker:
    """A ranker object from a name in :data:`RANKERS` (or the object itself)."""
    if not isinstance(ranker, str):
        if not callable(getattr(ranker, "score", None)):
            raise InputError(f"ranker must be one of {RANKERS} or an object with .score(query, docs)")
        return ranker
    if ranker == "bm25":
        return BM25Ranker()
    if ranker == "bm25s":
        return BM25Ranker(backend="bm25s")
    if ranker == "embedding":
        return EmbeddingRanker(model)
    if ranker == "hybrid":
        return HybridRanker([BM25Ranker(), EmbeddingRanker(model)])
    raise InputError(f"unknown ranker {ranker!r}; choose one of {RANKERS} or pass a ranker object")
