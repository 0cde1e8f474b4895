"""Optional heavy engines, each loaded lazily on first use: ``embeddings`` (sentence-transformers)
and ``llmlingua`` (LLMLingua-2). Importing this package imports none of them."""

from __future__ import annotations

__all__: list[str] = []
