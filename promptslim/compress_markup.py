"""The ``markup`` compression pass: markup that costs tokens without carrying meaning.

``safe``: whitespace between the tokens of a prompt that is wholly one JSON document (JSON
ignores it), Markdown table delimiter rows (``| --- | :---: |`` -> ``|-|:-:|``) and the optional
comma after "e.g." / "i.e.". ``balanced``: decorative emoji at the start of a line, list item or
heading, or at the end of a heading (``## 🎯 Goal`` -> ``## Goal``), except emoji that carry
meaning (check marks, crosses, warnings, flags, ratings: ``rules/markup.toml``). ``aggressive``:
emphasis markers, bullet markers and heading marks (the words and line breaks stay). Every edit is
token-verified in context and never touches a protected span or a negation/constraint clause.

>>> from promptslim.tokens import get_tokenizer
>>> pass_markup("| a | b |\\n| --- | --- |\\n| 1 | 2 |", (), get_tokenizer())[0]
'| a | b |\\n|-|-|\\n| 1 | 2 |'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from ._toml import load_package_toml
from .compress_kit import Edit, Span, apply_edits, level_rank
from .result import Change
from .spans import find_constraint_spans, overlaps
from .tokens import Tokenizer

__all__ = ["pass_markup"]

# Patterns are compiled on first use (the linter imports this module on every run; the emoji
# classes are slow to compile).
_EMOJI_CHAR = "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF]"
# pictographic emoji (with variation selectors, skin tones and zero-width joiners inside a sequence)
_EMOJI_RUN = f"(?:{_EMOJI_CHAR}[\uFE0F\u200D\U0001F3FB-\U0001F3FF]*)+"


class _Patterns:
    """The pass's regular expressions, compiled once on first use."""

    def __init__(self) -> None:
        # a line's lead-in (indentation, list markers, heading marks, quote marks, opening bold), then emoji
        self.lead_emoji = re.compile(
            r"(?m)^([ \t]*(?:(?:[-*+>\u2022]|\d{1,3}[.)]|#{1,6})[ \t]+)*(?:\*\*|__)?)"
            rf"({_EMOJI_RUN}(?:[ \t]*{_EMOJI_RUN})*)[ \t]+(?=\S)"
        )
        self.heading_line = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t][^\n]*")
        self.trailing_emoji = re.compile(rf"[ \t]+{_EMOJI_RUN}(?:[ \t]*{_EMOJI_RUN})*[ \t]*\Z")
        # a table delimiter row: cells of hyphens with optional alignment colons, at least one pipe
        self.delim_row = re.compile(r"(?m)^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*(?=\r?$)")
        self.bold = re.compile(r"\*\*(?=[^\s*])([^*\n]{1,300}?)(?<=[^\s*])\*\*")
        self.italic = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]{1,200}?)(?<=[^\s*])\*(?![\w*])")
        # a bullet before a word or bold text (not before another marker, a quote, a table or a checkbox)
        self.bullet = re.compile(r"(?m)^([ \t]*)[-*+\u2022][ \t]+(?=\*\*|[^\s\-*+#>|\[]|\[(?![ xX]\]))")
        self.indent = re.compile(r"(?m)^ +(?=[^ \t\r\n])")
        self.heading_mark = re.compile(r"(?m)^[ \t]{0,3}(#{1,6}[ \t]+)(?=\S)")
        # a JSON string literal or a run of whitespace (only used on text that parsed as JSON)
        self.json_lex = re.compile(r'"(?:[^"\\]|\\.)*"|[ \t\r\n]+')


@cache
def _rx() -> _Patterns:
    return _Patterns()


@cache
def _tables() -> tuple[frozenset[str], re.Pattern[str]]:
    raw = load_package_toml("rules/markup.toml")
    keep = frozenset(e[0] for e in raw["keep_emoji"]) | frozenset("\u2610\u2611\u2612")
    abbrevs = "|".join(re.escape(a) for a in sorted(raw["comma_after"], key=len, reverse=True))
    return keep, re.compile(rf"(?<![\w.])((?i:{abbrevs})),(?=[ \t])")


def _decorative(run: str, keep: frozenset[str]) -> bool:
    """True when no emoji of ``run`` carries meaning (kept list, regional-indicator flags)."""
    return not any(c in keep or "\U0001F1E6" <= c <= "\U0001F1FF" for c in run)


def _json_edits(text: str) -> list[Edit]:
    """Whitespace between the tokens of ``text`` when it is wholly one JSON object or array."""
    body = text.strip()
    if not body or body[0] not in "{[" or body[-1] not in "}]":
        return []
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return []
    lo = len(text) - len(text.lstrip())
    hi = lo + len(body)
    return [Edit(m.start(), m.end(), "", "layout", "whitespace between JSON tokens")
            for m in _rx().json_lex.finditer(text, lo, hi) if m.group()[0] != '"']


def _delimiter_row(row: str) -> str:
    """``| :--- | ---: |`` -> ``|:-|-:|`` (leading/trailing pipes kept as written)."""
    core = row.strip()
    lead, trail = core.startswith("|"), core.endswith("|") and len(core) > 1
    cells = core.strip("|").split("|")
    out = []
    for c in cells:
        c = c.strip()
        out.append((":" if c.startswith(":") else "") + "-" + (":" if c.endswith(":") and len(c) > 1 else ""))
    indent = row[:len(row) - len(row.lstrip())]
    return indent + ("|" if lead else "") + "|".join(out) + ("|" if trail else "")


def _markup_edits(text: str, rank: int, whole: bool) -> list[Edit]:
    keep, comma_re = _tables()
    edits: list[Edit] = []
    if whole:
        edits.extend(_json_edits(text))
    if "-" in text and "|" in text:
        for m in _rx().delim_row.finditer(text):
            if "|" in m.group():
                new = _delimiter_row(m.group())
                if new != m.group():
                    edits.append(Edit(m.start(), m.end(), new, "layout", "table delimiter row"))
    if ".," in text:
        for m in comma_re.finditer(text):
            edits.append(Edit(m.end(1), m.end(1) + 1, "", "layout", f"comma after {m.group(1)!r}"))
    if rank >= 1 and not text.isascii():
        for m in _rx().lead_emoji.finditer(text):
            if _decorative(m.group(2), keep):
                edits.append(Edit(m.start(2), m.end(), "", "layout", "decorative emoji"))
        if "#" in text:
            for m in _rx().heading_line.finditer(text):
                t = _rx().trailing_emoji.search(m.group())
                if t and _decorative(t.group(), keep) and m.group()[:t.start()].strip("# \t"):
                    edits.append(Edit(m.start() + t.start(), m.end(), "", "layout", "decorative emoji"))
    if rank >= 2:
        if "*" in text:
            for rx in (_rx().bold, _rx().italic):
                for m in rx.finditer(text):  # one edit per pair, so a pair goes or stays whole
                    edits.append(Edit(m.start(), m.end(), m.group(1), "layout", "emphasis"))
        for m in _rx().bullet.finditer(text):
            edits.append(Edit(m.end(1), m.end(), "", "layout", "bullet marker"))
        if "#" in text:
            for m in _rx().heading_mark.finditer(text):
                edits.append(Edit(m.start(1), m.end(1), "", "layout", "heading mark"))
        if whole and "\n " in text:
            edits.extend(_indent_edits(text))
    return edits


def _indent_edits(text: str) -> list[Edit]:
    """Indentation by nesting depth: the k-th smallest indentation width of the text becomes k
    spaces (a one-space indent costs no token: " word" is one token). Relative nesting, and so the
    structure, is kept; only done on the whole text, so that every line maps the same way."""
    found = list(_rx().indent.finditer(text))
    widths = sorted({len(m.group()) for m in found})
    if not widths or widths[-1] == len(widths):
        return []
    rank = {w: i + 1 for i, w in enumerate(widths)}
    return [Edit(m.start(), m.end(), " " * rank[len(m.group())], "layout", "indentation")
            for m in found if rank[len(m.group())] < len(m.group())]


def _touches(protected: Sequence[Span], e: Edit) -> bool:
    """Whether ``e`` changes protected text; an emphasis edit keeps its inner text byte for byte,
    so only its two markers count."""
    if e.reason != "emphasis":
        return overlaps(protected, e.start, e.end)
    mark = (e.end - e.start - len(e.replacement)) // 2
    return overlaps(protected, e.start, e.start + mark) or overlaps(protected, e.end - mark, e.end)


def pass_markup(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                level: str = "balanced", constraint_spans: Sequence[Span] | None = None,
                **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Markup that costs tokens without carrying meaning (see the module docstring), removed where
    the tokenizer confirms a saving. JSON whitespace is looked at only when the pass sees the
    whole text (``text_start`` and ``text_end``, the default)."""
    rank = level_rank(level)
    whole = bool(options.get("text_start", True) and options.get("text_end", True))
    edits = _markup_edits(text, rank, whole)
    if not edits:
        return text, ()
    cons = find_constraint_spans(text) if constraint_spans is None else constraint_spans
    edits = [e for e in edits if e.end > e.start and not overlaps(cons, e.start, e.end)
             and not _touches(protected_spans, e)]
    edits.sort(key=lambda e: (e.start, e.end))
    chosen: list[Edit] = []
    for e in edits:
        if chosen and e.start < chosen[-1].end:
            continue
        chosen.append(e)
    return apply_edits(text, chosen, tokenizer, "markup", min_saved=0)
