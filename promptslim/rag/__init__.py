"""RAG context selection: rerank, deduplicate and trim retrieved chunks to a token budget.

>>> from promptslim.rag import select_chunks, format_context
>>> r = select_chunks("capital of France", ["Paris is the capital of France.", "Bananas are yellow."], 10)
>>> format_context(r.value)
'Paris is the capital of France.'
"""

from __future__ import annotations

from ._chunks import Chunk as Chunk, read_chunks as read_chunks
from ._format import (
    DEFAULT_SEPARATOR as DEFAULT_SEPARATOR,
    DEFAULT_TEMPLATE as DEFAULT_TEMPLATE,
    format_context as format_context,
)
from ._rankers import (
    RANKERS as RANKERS,
    BM25Ranker as BM25Ranker,
    EmbeddingRanker as EmbeddingRanker,
    HybridRanker as HybridRanker,
    Ranker as Ranker,
    get_ranker as get_ranker,
)
from ._score import ScoreParams as ScoreParams
from ._select import GRANULARITIES as GRANULARITIES, select_chunks as select_chunks
from ._text import bm25_tokens as bm25_tokens

__all__ = [
    "BM25Ranker",
    "Chunk",
    "DEFAULT_SEPARATOR",
    "DEFAULT_TEMPLATE",
    "EmbeddingRanker",
    "GRANULARITIES",
    "HybridRanker",
    "RANKERS",
    "Ranker",
    "ScoreParams",
    "bm25_tokens",
    "format_context",
    "get_ranker",
    "read_chunks",
    "select_chunks",
]
