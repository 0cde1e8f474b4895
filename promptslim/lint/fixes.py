"""Applying fixes: non-overlapping edits per round, re-lint, repeat until nothing is left to apply.

Like ruff, each round applies every fix that does not overlap an earlier one (in file order), then
re-reads the result and lints again, because one fix can reveal or move another; rounds stop when
no eligible fix remains, the text stops changing, or after :data:`MAX_ROUNDS`. Writing keeps the
file's line endings, BOM and mode and is atomic (temporary file, then rename).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .._io import atomic_write_text
from ..result import Change
from ..tokens import Tokenizer
from .config import LintConfig
from .document import Document
from .engine import document_tokens, lint_document
from .findings import Edit, Finding, Fix
from .rules import Rule

__all__ = ["MAX_ROUNDS", "eligible", "apply_fixes", "FixOutcome", "fix_document", "write_document", "unified_diff"]

MAX_ROUNDS = 10


def eligible(findings: Iterable[Finding], unsafe: bool = False) -> list[Finding]:
    """Findings whose fix ``--fix`` applies (safe ones) or ``--fix --unsafe-fixes`` applies (all)."""
    return [f for f in findings if f.fix is not None and (unsafe or f.fix.applicability == "safe")]


def _conflict(a: Edit, b: Edit) -> bool:
    """Edits conflict when their ranges intersect, or both insert at one point (order would be ambiguous)."""
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, list[Fix]]:
    """Apply every fix none of whose edits conflicts with an edit of an earlier-starting fix.

    Returns the new text and the fixes applied, in order.
    """
    chosen: list[Fix] = []
    taken: list[Edit] = []
    for fix in sorted(fixes, key=lambda f: (f.start, f.end)):
        if any(_conflict(e, t) for e in fix.edits for t in taken):
            continue
        chosen.append(fix)
        taken.extend(fix.edits)
    out = []
    pos = 0
    for edit in sorted(taken, key=lambda e: (e.start, e.end)):
        out.append(text[pos:edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out), chosen


@dataclass(frozen=True)
class FixOutcome:
    """The fixed document, the findings whose fixes were applied, and what is left."""

    document: Document
    applied: tuple[Finding, ...]
    remaining: tuple[Finding, ...]
    tokens_before: int
    tokens_after: int
    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def fix_document(doc: Document, config: LintConfig, tokenizer: Tokenizer, rules: Sequence[Rule] | None = None,
                 unsafe: bool = False, findings: Sequence[Finding] | None = None) -> FixOutcome:
    """Fix ``doc`` in memory, round by round; the caller decides whether to write or diff the result."""
    before = document_tokens(doc, tokenizer)
    current = list(findings) if findings is not None else lint_document(doc, config, tokenizer, rules)
    applied: list[Finding] = []
    changes: list[Change] = []
    for _ in range(MAX_ROUNDS):
        todo = eligible(current, unsafe)
        if not todo:
            break
        by_fix = {id(f.fix): f for f in todo}
        new_text, used = apply_fixes(doc.text, [f.fix for f in todo if f.fix is not None])
        if new_text == doc.text:
            break
        for fx in used:
            f = by_fix[id(fx)]
            applied.append(f)
            changes.append(Change("lint-fix", f.code, f"{f.path}:{f.line}:{f.col}", (fx.start, fx.end),
                                  doc.text[fx.start:fx.end], apply_fixes(doc.text[fx.start:fx.end], [_shift(fx)])[0],
                                  f.tokens_saved or 0, f.message))
        doc = _reload(doc, new_text)
        current = lint_document(doc, config, tokenizer, rules)
    return FixOutcome(doc, tuple(applied), tuple(current), before, document_tokens(doc, tokenizer), tuple(changes))


def _shift(fix: Fix) -> Fix:
    """``fix`` relative to its own start, to render what its range becomes."""
    base = fix.start
    return Fix(tuple(Edit(e.start - base, e.end - base, e.content) for e in fix.edits), fix.applicability)


def _reload(doc: Document, text: str) -> Document:
    from dataclasses import replace

    from .files import load_document

    new = load_document(doc.path, text=text, kind=doc.fmt)
    # keep how the original file is written back (the new text is already normalised)
    return replace(new, newline=doc.newline, bom=doc.bom, crlf_normalized=doc.crlf_normalized)


def write_document(doc: Document) -> None:
    """Write a fixed document back atomically, with its original line endings, BOM and file mode."""
    newline = "\r\n" if doc.crlf_normalized else doc.newline
    atomic_write_text(doc.path, doc.text, newline=newline, bom=doc.bom)


def unified_diff(before: Document, after: Document) -> str:
    """A unified diff of the fixes, as ``--diff`` prints it."""
    a = before.text.splitlines(keepends=True)
    b = after.text.splitlines(keepends=True)
    absolute = before.path.startswith("/")
    lines = difflib.unified_diff(a, b, fromfile=before.path if absolute else f"a/{before.path}",
                                 tofile=before.path if absolute else f"b/{before.path}")
    out = []
    for ln in lines:
        out.append(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n")
    return "".join(out)
