"""The records every transform returns: the new value, what it saved, and what it changed.

Consumers (CLI, linter, CI gate, eval harness) read these instead of re-counting or re-diffing.

>>> s = Savings(before=100, after=75, tokenizer="o200k_base")
>>> s.saved, s.percent
(25, 25.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Savings", "Change", "Result"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Savings:
    """Token counts before and after a transform, under one named tokenizer."""

    before: int
    after: int
    tokenizer: str = "o200k_base"
    exact: bool = True

    @property
    def saved(self) -> int:
        """Tokens saved (negative if the transform grew the input)."""
        return self.before - self.after

    @property
    def ratio(self) -> float:
        """after / before (1.0 for empty input): the share of tokens that remain."""
        return self.after / self.before if self.before else 1.0

    @property
    def percent(self) -> float:
        """Percent of tokens saved, 0..100."""
        return 100.0 * self.saved / self.before if self.before else 0.0

    def __add__(self, other: Savings) -> Savings:
        if not isinstance(other, Savings):
            return NotImplemented
        if other.tokenizer != self.tokenizer:
            raise ValueError(f"cannot add savings under {self.tokenizer} and {other.tokenizer}")
        return Savings(self.before + other.before, self.after + other.after, self.tokenizer,
                       self.exact and other.exact)

    def __str__(self) -> str:
        return f"{self.before} -> {self.after} tokens ({self.percent:.1f}% saved, {self.tokenizer})"


@dataclass(frozen=True, slots=True)
class Change:
    """One edit a transform made: what kind, where, the text before and after, and tokens saved.

    ``span`` is a half-open character range in the transform's *input* text when the input is text;
    ``location`` is a human-readable path for structured input (``"messages[3].content"``).
    """

    kind: str
    rule: str = ""
    location: str = ""
    span: tuple[int, int] | None = None
    before: str = ""
    after: str = ""
    tokens_saved: int = 0
    reason: str = ""

    def describe(self) -> str:
        """One line for humans: ``rewrite verbose-phrase at 12..24: 'in order to' -> 'to' (-2)``."""
        where = self.location or (f"{self.span[0]}..{self.span[1]}" if self.span else "")
        arrow = f": {self.before!r} -> {self.after!r}" if (self.before or self.after) else ""
        why = f" [{self.reason}]" if self.reason else ""
        return f"{self.kind} {self.rule} at {where}{arrow} ({-self.tokens_saved:+d}){why}".replace("  ", " ")


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """A transform's output: ``value`` plus ``savings`` and the ``changes`` that produced it."""

    value: T
    savings: Savings
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def by_kind(self, kind: str) -> tuple[Change, ...]:
        """The changes of one kind, in order."""
        return tuple(c for c in self.changes if c.kind == kind)
