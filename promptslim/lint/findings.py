"""What the linter reports: findings with positions, optional fixes, and per-file reports.

Offsets are character offsets into the file's text as the linter read it (line endings normalised to
``\\n`` when the file uses CRLF throughout); ``line``/``col`` are 1-based, columns in characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Edit", "Fix", "Finding", "FileError", "FileReport", "line_col"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``; ``start_lc``/``end_lc`` are 1-based (line, col) for output."""

    start: int
    end: int
    content: str
    start_lc: tuple[int, int] = (0, 0)
    end_lc: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix: one or more non-overlapping edits, applied together or not at all."""

    edits: tuple[Edit, ...]
    applicability: str  # "safe" | "unsafe"

    @property
    def start(self) -> int:
        return min(e.start for e in self.edits)

    @property
    def end(self) -> int:
        return max(e.end for e in self.edits)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violation at a place in a file.

    ``tokens_saved`` is measured by applying ``fix`` alone and recounting; None when there is no fix.
    ``detail`` carries rule-specific numbers (shares, costs) for JSON and SARIF consumers.
    """

    code: str
    name: str
    message: str
    path: str
    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int
    severity: str = "warning"
    fix: Fix | None = None
    tokens_saved: int | None = None
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def fixable(self) -> bool:
        return self.fix is not None


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be linted: unreadable, binary, bad UTF-8, malformed JSON/YAML."""

    path: str
    message: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        where = f":{self.line}:{self.col}" if self.line is not None else ""
        return f"{self.path}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileReport:
    """Everything the linter learned about one file."""

    path: str
    findings: tuple[Finding, ...] = ()
    error: FileError | None = None
    tokens: int = 0
    fixed: int = 0  # fixes applied by --fix
    tokens_fixed: int = 0  # tokens saved by the fixes applied (whole-file recount)
    diff: str = ""  # unified diff of pending fixes (--diff)
    skipped: str = ""  # reason the file was skipped (not a chat-messages file, ...)


def line_col(line_starts: Sequence[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset``, given the sorted offsets where lines start."""
    import bisect

    i = bisect.bisect_right(line_starts, offset) - 1
    return i + 1, offset - line_starts[i] + 1
