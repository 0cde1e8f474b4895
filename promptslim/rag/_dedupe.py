"""Similarity between chunks (and sentences) for near-duplicate removal and MMR diversity.

Text mode: Jaccard similarity of word 3-shingles (threshold 0.8 by default), computed lazily and
only against chunks already kept, so it costs little on large pools. Embedding mode (when the
ranker embeds): cosine similarity of the chunk embeddings (threshold 0.95 by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ._text import RAG_DEFAULTS, jaccard, shingles

if TYPE_CHECKING:
    from ._pack import Doc

__all__ = ["Similarity", "make_similarity", "near_duplicates"]


class Similarity:
    """Pairwise similarity of docs (by position) and of sentences ``(doc, sentence)``."""

    def __init__(self, docs: list[Doc], threshold: float, size: int, vectors: Any = None) -> None:
        self.docs = docs
        self.threshold = threshold
        self.size = size
        self.vectors = vectors
        self._doc_sh: dict[int, frozenset[str]] = {}
        self._sent_sh: dict[tuple[int, int], frozenset[str]] = {}

    def _shingles(self, d: int) -> frozenset[str]:
        sh = self._doc_sh.get(d)
        if sh is None:
            sh = self._doc_sh[d] = shingles(self.docs[d].text, self.size)
        return sh

    def doc_sim(self, a: int, b: int) -> float:
        """Similarity of docs ``a`` and ``b`` in [0, 1]."""
        if self.vectors is not None:
            return float(max(0.0, min(1.0, self.vectors[a] @ self.vectors[b])))
        return jaccard(self._shingles(a), self._shingles(b))

    def dup_score(self, a: int, b: int) -> float | None:
        """The similarity of docs ``a`` and ``b`` when it reaches the threshold, else None.

        For shingle sets, Jaccard is at most ``min(|A|, |B|) / max(|A|, |B|)``, so most pairs are
        ruled out by their sizes without intersecting the sets.
        """
        if self.vectors is None:
            na, nb = len(self._shingles(a)), len(self._shingles(b))
            if max(na, nb) == 0 or min(na, nb) / max(na, nb) < self.threshold:
                return None
        v = self.doc_sim(a, b)
        return v if v >= self.threshold else None

    def _sent(self, key: tuple[int, int]) -> frozenset[str]:
        sh = self._sent_sh.get(key)
        if sh is None:
            d, i = key
            a, b = self.docs[d].spans[i]
            sh = self._sent_sh[key] = shingles(self.docs[d].text[a:b], self.size)
        return sh

    def sentence_dup(self, a: tuple[int, int], b: tuple[int, int]) -> bool:
        """True when two sentences are near-duplicates (word-shingle Jaccard over the text threshold)."""
        thr = float(RAG_DEFAULTS["jaccard_threshold"])
        sa, sb = self._sent(a), self._sent(b)
        small, large = sorted((len(sa), len(sb)))
        if not large or small / large < thr:  # Jaccard <= |small| / |large|
            return False
        return jaccard(sa, sb) >= thr


def make_similarity(docs: list[Doc], ranker: Any, dedupe: bool | float, need: bool) -> Similarity | None:
    """The similarity to use, or None when neither dedupe nor MMR asks for one."""
    if dedupe is False and not need:
        return None
    if not isinstance(dedupe, (bool, int, float)) or (not isinstance(dedupe, bool) and not 0 < dedupe <= 1):
        raise InputError(f"dedupe must be True, False or a similarity threshold in (0, 1], got {dedupe!r}")
    size = int(RAG_DEFAULTS["shingle_size"])
    embed = getattr(ranker, "embed", None)
    if embed is None:
        for sub in getattr(ranker, "rankers", ()):
            embed = getattr(sub, "embed", None) or embed
    if callable(embed):
        threshold = float(RAG_DEFAULTS["cosine_threshold"]) if isinstance(dedupe, bool) else float(dedupe)
        texts = [f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text for d in docs]  # as scored
        return Similarity(docs, threshold, size, embed(texts))
    threshold = float(RAG_DEFAULTS["jaccard_threshold"]) if isinstance(dedupe, bool) else float(dedupe)
    return Similarity(docs, threshold, size)


def near_duplicates(texts: list[str], threshold: float | None = None) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` with ``i < j`` whose word-shingle Jaccard is at least ``threshold``."""
    thr = float(RAG_DEFAULTS["jaccard_threshold"]) if threshold is None else threshold
    size = int(RAG_DEFAULTS["shingle_size"])
    sh = [shingles(t, size) for t in texts]
    return [(i, j, v) for i in range(len(sh)) for j in range(i + 1, len(sh)) if (v := jaccard(sh[i], sh[j])) >= thr]
