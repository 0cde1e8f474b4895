"""A prompt file as the linter sees it: the file's text plus the prompt text segments inside it.

A plain prompt is one segment covering the whole file. A chat-messages file (JSON or YAML) has one
segment per message content string; each keeps a map from its characters back to offsets in the
file, so a finding inside a message points at the right line and column and a fix edits the file
in place (re-escaped for JSON, verbatim-only for YAML).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .findings import Edit

__all__ = ["Segment", "Suppressions", "Document", "line_starts"]


@dataclass(frozen=True)
class Segment:
    """Prompt text inside a file. ``offsets[i]`` is the file offset of character ``i`` (one extra entry
    for the end); None means the text sits verbatim at ``base``. ``encode`` turns replacement text into
    its raw form in the file, or returns None when it cannot be written there safely."""

    text: str
    base: int = 0
    offsets: tuple[int, ...] | None = None
    role: str | None = None
    location: str = ""
    protected: tuple[tuple[int, int], ...] = ()
    encode: Callable[[str], str | None] | None = None
    verbatim_only: bool = False  # YAML: fix only where the raw slice equals the text
    verify: Callable[[str, str], bool] | None = None  # (new file text, expected segment text) -> ok

    def to_raw(self, i: int) -> int:
        """File offset of segment offset ``i``."""
        if self.offsets is None:
            return self.base + i
        return self.offsets[min(max(i, 0), len(self.offsets) - 1)]

    def raw_edit(self, start: int, end: int, content: str, file_text: str) -> Edit | None:
        """The file edit replacing ``text[start:end]`` with ``content``; None if it cannot be written safely."""
        rs, re_ = self.to_raw(start), self.to_raw(end)
        if self.offsets is None:
            return Edit(rs, re_, content)
        if self.verbatim_only and file_text[rs:re_] != self.text[start:end]:
            return None
        raw = self.encode(content) if self.encode is not None else content
        if raw is None:
            return None
        if self.verify is not None:
            new_file = file_text[:rs] + raw + file_text[re_:]
            if not self.verify(new_file, self.text[:start] + content + self.text[end:]):
                return None
        return Edit(rs, re_, raw)


@dataclass(frozen=True)
class Suppressions:
    """Codes silenced for the whole file, and per line (1-based), from template comments."""

    file_codes: frozenset[str] = frozenset()
    file_all: bool = False
    lines: Mapping[int, frozenset[str] | None] = field(default_factory=dict)  # None = every code

    def suppressed(self, code: str, line: int) -> bool:
        if self.file_all or code in self.file_codes:
            return True
        if line in self.lines:
            codes = self.lines[line]
            return codes is None or code in codes
        return False


@dataclass(frozen=True)
class Document:
    """One linted file: its text, kind (``text``, ``jinja``, ``messages``) and prompt segments."""

    path: str
    text: str
    kind: str
    segments: tuple[Segment, ...]
    fmt: str = "text"  # file format: text, jinja, json or yaml
    newline: str = "\n"
    bom: bool = False
    crlf_normalized: bool = False
    messages: Sequence[Mapping[str, Any]] | None = None
    tools: Sequence[Any] | None = None
    tool_positions: tuple[int, ...] = ()  # file offset of each tool (its name where known)
    suppressions: Suppressions = field(default_factory=Suppressions)
    line_starts: tuple[int, ...] = ()

    @property
    def prompt_text(self) -> str:
        """All segment texts joined with blank lines: what document-level rules read."""
        return "\n\n".join(s.text for s in self.segments)


def line_starts(text: str) -> tuple[int, ...]:
    """Offsets where each line of ``text`` starts (line 1 at offset 0)."""
    starts = [0]
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return tuple(starts)
