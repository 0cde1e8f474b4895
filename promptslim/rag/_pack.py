"""Budget packing state: which sentences of which chunks are kept, what that costs, and the final
order of chunks in the context.

Costs are estimated from per-sentence token counts while packing (cheap), then the rendered
context is counted exactly and trimmed back if BPE merges at the joins made the estimate short, so
the budget invariant holds on the exact text that goes into the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..errors import InputError
from ._chunks import Chunk

__all__ = ["Doc", "join_spans", "order_chunks", "ORDERS", "build_chunk"]

ORDERS = ("relevance", "original", "edges")


@dataclass
class Doc:
    """A chunk under selection: its record, sentence spans and token counts, and what is kept."""

    chunk: Chunk
    spans: list[tuple[int, int]]
    sent_tokens: list[int]
    header_tokens: int  # -1 until counted (whole chunks are counted with their header included)
    full_tokens: int
    score: float = 0.0
    sent_priority: list[float] = field(default_factory=list)  # static: sentence part + chunk prior
    sent_base: list[float] = field(default_factory=list)  # the sentence's own part of the priority
    prior: float = 0.0  # the chunk's part, shrinking with each sentence already kept from the chunk
    sent_terms: list[dict[str, float]] = field(default_factory=list)  # per-query-term relevance (BM25)
    kept: dict[int, tuple[int, int]] = field(default_factory=dict)  # sentence index -> kept span
    kept_tokens: dict[int, int] = field(default_factory=dict)  # sentence index -> its tokens
    whole: bool = False
    header: str = ""  # the rendered chunk without its text (counted when the chunk is first split)
    sep_in_full: bool = False  # full_tokens already includes the separator that follows the chunk

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def is_kept(self) -> bool:
        return self.whole or bool(self.kept)

    def keep(self, i: int, span: tuple[int, int] | None = None, tokens: int | None = None) -> None:
        """Keep sentence ``i`` (or a truncated ``span`` of it costing ``tokens``)."""
        self.kept[i] = span or self.spans[i]
        self.kept_tokens[i] = self.sent_tokens[i] if tokens is None else tokens

    def unkeep(self, i: int) -> None:
        """Drop sentence ``i`` from the kept set."""
        self.kept.pop(i, None)
        self.kept_tokens.pop(i, None)

    def estimate(self, gap_tokens: int) -> int:
        """Estimated rendered tokens of the kept part (header included); 0 when nothing is kept."""
        if self.whole:
            return self.full_tokens
        if not self.kept:
            return 0
        idx = sorted(self.kept)
        gaps = sum(1 for a, b in zip(idx, idx[1:], strict=False) if b != a + 1)
        body = sum(self.kept_tokens[i] for i in idx)
        return self.header_tokens + body + gaps * gap_tokens


def join_spans(text: str, spans: Sequence[tuple[int, int]], gap: str) -> str:
    """Kept spans of ``text`` in order: adjacent spans keep the original text between them (when it is
    only whitespace), others are joined with ``gap``."""
    out: list[str] = []
    prev_end = None
    for a, b in sorted(spans):
        if prev_end is not None:
            between = text[prev_end:a]
            out.append(between if not between.strip() else gap)
        out.append(text[a:b])
        prev_end = b
    return "".join(out)


def build_chunk(doc: Doc, gap: str, rank: int) -> Chunk:
    """The output :class:`Chunk` for a kept doc (whole, or its kept sentences verbatim)."""
    text = doc.text
    if doc.whole or (len(doc.kept) == len(doc.spans) and all(doc.kept[i] == s for i, s in enumerate(doc.spans))):
        sents = tuple(text[a:b] for a, b in doc.spans)
        return replace(doc.chunk, score=doc.score, sentences=sents, spans=tuple(doc.spans), rank=rank,
                       trimmed=False)
    spans = tuple(doc.kept[i] for i in sorted(doc.kept))
    return replace(
        doc.chunk,
        text=join_spans(text, spans, gap),
        score=doc.score,
        sentences=tuple(text[a:b] for a, b in spans),
        spans=spans,
        rank=rank,
        trimmed=True,
    )


def order_chunks(chunks: Sequence[Chunk], order: str) -> list[Chunk]:
    """Chunks in context order: ``relevance`` (best first), ``original`` (input order) or ``edges``
    (best at the start and the end, weakest in the middle, against lost-in-the-middle)."""
    by_rank = sorted(chunks, key=lambda c: c.rank)
    if order == "relevance":
        return by_rank
    if order == "original":
        return sorted(chunks, key=lambda c: c.index)
    if order == "edges":
        front: list[Chunk] = []
        back: list[Chunk] = []
        for i, c in enumerate(by_rank):
            (front if i % 2 == 0 else back).append(c)
        return front + back[::-1]
    raise InputError(f"unknown order {order!r}; choose one of {ORDERS}")
