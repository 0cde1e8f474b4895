"""Moving span lists through a compression pass's edits (protected, constraint and dirty ranges).

>>> from promptslim.result import Change
>>> map_spans([(0, 4), (10, 14)], [Change("remove", span=(5, 8), after="")])
((0, 4), (7, 11))
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from .result import Change

__all__ = ["map_spans", "SpanMover"]

Span = tuple[int, int]


def map_spans(spans: Sequence[Span], changes: Sequence[Change], keep_empty: bool = False) -> tuple[Span, ...]:
    """Move ``spans`` of a pass's input to its output, given the pass's (non-overlapping) changes.

    Endpoints shift by the length change of every edit wholly before them; an edit inside a span
    shrinks or grows it; spans that become empty are dropped unless ``keep_empty``. Used to carry
    protected and constraint spans through a pipeline.
    """
    return SpanMover(changes).move(spans, keep_empty)


class SpanMover:
    """:func:`map_spans` for one pass's changes, prepared once to move several span lists."""

    __slots__ = ("starts", "ends", "deltas", "afters")

    def __init__(self, changes: Sequence[Change]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.afters: list[int] = []
        self.deltas = [0]
        d = 0
        for c in changes:
            if c.span:
                a, b = c.span
                self.starts.append(a)
                self.ends.append(b)
                self.afters.append(len(c.after))
                d += len(c.after) - (b - a)
                self.deltas.append(d)

    def move(self, spans: Sequence[Span], keep_empty: bool = False) -> tuple[Span, ...]:
        """``spans`` moved to the pass's output (see :func:`map_spans`)."""
        if not self.starts:
            return tuple(spans)
        starts, ends, deltas, afters = self.starts, self.ends, self.deltas, self.afters
        k = len(starts)
        br = bisect.bisect_right
        out = []
        for a, b in spans:
            i = br(ends, a)  # edits ending at or before a
            na = a + deltas[i]
            if i < k and starts[i] < a < ends[i]:  # inside an edit: clamp to its output
                na = starts[i] + deltas[i]
            i = br(ends, b)
            nb = b + deltas[i]
            if i < k and starts[i] < b < ends[i]:
                nb = starts[i] + deltas[i] + afters[i]
            if nb > na or (keep_empty and nb == na):
                out.append((na, nb))
        return tuple(out)
