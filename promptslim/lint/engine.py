"""The lint engine: run the enabled rules' checks on a document and turn their hits into findings.

Checks (one small function per rule family, in ``checks_*.py``) report :class:`Hit` records in
segment coordinates; the engine maps them to file positions, builds fixes that edit the file in
place, drops suppressed ones, and measures each fix's token saving by applying it and recounting.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..tokens import Tokenizer
from .config import LintConfig
from .document import Document
from .findings import Edit, Finding, Fix, line_col
from .rules import Rule

__all__ = ["Hit", "Context", "CHECKS", "lint_document", "document_tokens", "apply_edits"]


@dataclass(frozen=True)
class Hit:
    """A check's raw result. ``seg`` is a segment index (None: offsets are file offsets).

    ``edits`` are ``(start, end, replacement)`` in the same coordinates; empty means no fix.
    ``tokens_saved`` may be given when the saving is not that of applying ``edits`` (no fix).
    """

    code: str
    message: str
    start: int
    end: int
    seg: int | None = 0
    edits: tuple[tuple[int, int, str], ...] = ()
    applicability: str | None = None
    tokens_saved: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class Context:
    """What checks read: the document, tokenizer, settings, and computations shared between checks."""

    def __init__(self, doc: Document, tokenizer: Tokenizer, config: LintConfig) -> None:
        self.doc = doc
        self.tokenizer = tokenizer
        self.config = config
        self.memo: dict[Any, Any] = {}

    def cached(self, key: Any, fn: Callable[[], Any]) -> Any:
        """``fn()`` computed once per document and key."""
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]

    def count(self, text: str) -> int:
        return self.tokenizer.count(text)

    def saved_by(self, text: str, edits: Sequence[tuple[int, int, str]]) -> int:
        """Tokens ``text`` loses when ``edits`` are applied, measured on a window around them.

        The window runs between certain pre-token boundaries (see :func:`_is_boundary`) outside the
        edits, where no token can cross, so the difference equals recounting the whole text (a property
        test checks this), at a fraction of the cost on long files.
        """
        lo = min(a for a, _, _ in edits)
        hi = max(b for _, b, _ in edits)
        start = _boundary_before(text, lo)
        end = _boundary_after(text, hi)
        window = text[start:end]
        shifted = [(a - start, b - start, rep) for a, b, rep in edits]
        count = self.tokenizer.count_base
        raw = count(window) - count(apply_edits(window, shifted))
        return raw if self.tokenizer.factor == 1.0 else round(raw * self.tokenizer.factor)

    def protected(self, seg_index: int) -> tuple[tuple[int, int], ...]:
        """Merged protected spans of a segment: the shared detector's plus the document's own (Jinja tags)."""
        def compute() -> tuple[tuple[int, int], ...]:
            from ..spans import find_protected_spans, merge_spans

            seg = self.doc.segments[seg_index]
            return merge_spans((*find_protected_spans(seg.text), *seg.protected))
        return self.cached(("protected", seg_index), compute)

    @property
    def total_tokens(self) -> int:
        return self.cached("total_tokens", lambda: document_tokens(self.doc, self.tokenizer))


Check = Callable[[Context, Rule], Iterable[Hit]]

# check name (rule record's `check`) -> (module in this package, function); imported on first use.
CHECKS: dict[str, tuple[str, str]] = {
    "compress-pass": ("checks_compress", "check_pass"),
    "dynamic-before-static": ("checks_cache", "check_dynamic_before_static"),
    "cache-minimum": ("checks_cache", "check_cache_minimum"),
    "unstable-ordering": ("checks_cache", "check_unstable_ordering"),
    "few-shot-share": ("checks_structure", "check_few_shot_share"),
    "pretty-json": ("checks_structure", "check_pretty_json"),
    "output-constraint": ("checks_structure", "check_output_constraint"),
    "token-budget": ("checks_budget", "check_token_budget"),
    "cost": ("checks_budget", "check_cost"),
}


def _check(name: str) -> Check:
    try:
        modname, fn = CHECKS[name]
    except KeyError:
        raise KeyError(f"lint rule data names an unknown check {name!r}; known: {', '.join(CHECKS)}") from None
    return getattr(importlib.import_module(f".{modname}", __package__), fn)  # type: ignore[no-any-return]


_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def document_tokens(doc: Document, tokenizer: Tokenizer) -> int:
    """Tokens the document costs per call: message overhead for chat files, comments dropped for Jinja."""
    if doc.kind == "messages" and doc.messages is not None:
        n = tokenizer.count_messages(list(doc.messages))
        if doc.tools:
            from ..tokens import message_text

            n += tokenizer.count(message_text(doc.tools))
        return n
    text = _JINJA_COMMENT.sub("", doc.text) if doc.kind == "jinja" else doc.text
    return tokenizer.count(text)


def _is_boundary(text: str, p: int) -> bool:
    """True where no token of the offline encodings can cross offset ``p``: after a newline and before a
    letter or digit, or after a letter and before a space (a word token ends at its last letter, and the
    space starts the next token in both o200k_base's and cl100k_base's pre-tokenizer)."""
    a, b = text[p - 1], text[p]
    return (a == "\n" and b.isalnum()) or (b == " " and a.isalpha())


def _boundary_before(text: str, pos: int) -> int:
    """The last boundary ``p`` with ``p < pos`` (0 if none), so ``text[p - 1:p + 1]`` lies before ``pos``."""
    for p in range(pos - 1, 0, -1):
        if _is_boundary(text, p):
            return p
    return 0


def _boundary_after(text: str, pos: int) -> int:
    """The first boundary ``q`` with ``q > pos`` (end of text if none), so ``text[q - 1:q + 1]`` lies after ``pos``."""
    for q in range(pos + 1, len(text)):
        if _is_boundary(text, q):
            return q
    return len(text)


def apply_edits(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with non-overlapping ``(start, end, replacement)`` edits applied."""
    out = []
    pos = 0
    for a, b, rep in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(text[pos:a])
        out.append(rep)
        pos = b
    out.append(text[pos:])
    return "".join(out)


def _to_finding(ctx: Context, rule: Rule, hit: Hit) -> Finding | None:
    doc = ctx.doc
    seg = doc.segments[hit.seg] if hit.seg is not None else None
    if seg is not None:
        start, end = seg.to_raw(hit.start), seg.to_raw(hit.end)
    else:
        start, end = hit.start, hit.end
    line, col = line_col(doc.line_starts, start)
    if doc.suppressions.suppressed(rule.code, line):
        return None
    end_line, end_col = line_col(doc.line_starts, max(start, end))
    fix = None
    tokens_saved = hit.tokens_saved
    message = hit.message
    if hit.edits and rule.fix != "none":
        raw: list[Edit] = []
        for a, b, rep in hit.edits:
            e = seg.raw_edit(a, b, rep, doc.text) if seg is not None else Edit(a, b, rep)
            if e is None:
                raw = []
                break
            raw.append(e)
        if raw:
            base = seg.text if seg is not None else doc.text
            tokens_saved = ctx.saved_by(base, hit.edits)
            floor = ctx.config.option(rule, "min_tokens_saved")
            if floor is not None and rule.check == "compress-pass" and tokens_saved < int(floor):
                return None
            located = (Edit(e.start, e.end, e.content, line_col(doc.line_starts, e.start),
                            line_col(doc.line_starts, e.end)) for e in raw)
            fix = Fix(tuple(sorted(located, key=lambda e: (e.start, e.end))), hit.applicability or rule.fix)
        else:
            message += " (no automatic fix in this YAML string style)"
    return Finding(rule.code, rule.name, message, doc.path, start, end, line, col, end_line, end_col,
                   rule.severity, fix, tokens_saved, dict(hit.detail))


def lint_document(doc: Document, config: LintConfig, tokenizer: Tokenizer,
                  rules: Sequence[Rule] | None = None, total_tokens: int | None = None) -> list[Finding]:
    """Findings of ``rules`` (default: the config's, minus per-file ignores) on ``doc``, sorted by position.

    ``total_tokens`` may pass :func:`document_tokens` when the caller already counted the document.
    """
    if rules is None:
        off = config.ignored_codes(doc.path)
        rules = [r for r in config.rules() if r.code not in off]
    ctx = Context(doc, tokenizer, config)
    if total_tokens is not None:
        ctx.memo["total_tokens"] = total_tokens
    out: list[Finding] = []
    for rule in rules:
        for hit in _check(rule.check)(ctx, rule):
            f = _to_finding(ctx, rule, hit)
            if f is not None:
                out.append(f)
    out.sort(key=lambda f: (f.start, f.end, f.code, f.message))
    return out
