"""Move dynamic spans of a prompt text after its static part, keeping their meaning verbatim.

The unit that moves is the smallest readable piece around a dynamic span: the whole line when it is
short ("Current date: 2026-11-22"), else the sentence, else (very long sentences) only the value,
which is then replaced in place by a stable reference (``[User name]``) and listed as
``User name: Alice`` in the dynamic part. A fenced code block moves whole. A Markdown heading whose
section moves entirely goes with it. Every moved unit appears exactly once in the output.

>>> s = split_text("Today is 2026-11-22.\\nYou summarize articles.")
>>> s.static, s.dynamic
('You summarize articles.', ('Today is 2026-11-22.',))
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from ..result import Change, Result, Savings
from ..sentences import sentence_spans
from ..tokens import Tokenizer, get_tokenizer
from ._detect import DynamicSpan, code_fence_spans, find_dynamic_spans

__all__ = ["MovedUnit", "TextSplit", "CacheBreak", "split_text", "first_cache_break", "move_dynamic_to_end",
           "static_prefix_tokens"]

MAX_UNIT_CHARS = 300
MAX_BLOCK_CHARS = 4000
_HEADING = re.compile(r"[ \t]{0,3}(#{1,6})[ \t]+\S")


@dataclass(frozen=True, slots=True)
class MovedUnit:
    """A range of the input removed from the static text; ``text`` is what the dynamic part receives.

    ``mode`` is ``line``, ``sentence``, ``block`` (code fence), ``heading`` or ``value``;
    ``replacement`` is what stays in place (empty, or ``[Label]`` for values).
    """

    start: int
    end: int
    text: str
    mode: str
    spans: tuple[DynamicSpan, ...]
    replacement: str = ""


@dataclass(frozen=True, slots=True)
class TextSplit:
    """A text cut into its static part and the dynamic pieces moved out of it, in input order."""

    source: str
    static: str
    dynamic: tuple[str, ...]
    units: tuple[MovedUnit, ...]
    spans: tuple[DynamicSpan, ...]

    @property
    def dynamic_text(self) -> str:
        """The moved pieces, one per line."""
        return "\n".join(self.dynamic)


@dataclass(frozen=True, slots=True)
class CacheBreak:
    """The first dynamic span with static text after it: everything after ``span`` misses the cache."""

    span: DynamicSpan
    static_tokens_before: int
    static_tokens_after: int


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    """[start, end) of the line holding ``pos``; ``end`` includes the newline."""
    start = text.rfind("\n", 0, pos) + 1
    nl = text.find("\n", pos)
    return start, (len(text) if nl < 0 else nl + 1)


def _var_len(spans: list[DynamicSpan], a: int, b: int) -> int:
    """Characters of dynamic spans inside [a, b): sizes are judged without them, so a longer value
    never changes how its surroundings are cut (the static prefix stays byte-identical)."""
    return sum(max(0, min(b, sp.end) - max(a, sp.start)) for sp in spans)


def _sentence_of(text: str, ls: int, le: int, pos: int) -> tuple[int, int] | None:
    body = text[ls:le].rstrip("\r\n")
    for ss, se in sentence_spans(body):
        if ss <= pos - ls < se:
            return ls + ss, ls + se
    return None


def _plan(text: str, found: list[DynamicSpan], fences: list[tuple[int, int]],
          max_chars: int) -> list[tuple[int, int, str, DynamicSpan | None]]:
    """One (start, end, mode, span) per dynamic span: block, line, sentence or value (see module doc)."""
    plans: list[tuple[int, int, str, DynamicSpan | None]] = []
    line_units: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for sp in found:
        fence = next(((fs, fe) for fs, fe in fences if fs <= sp.start < fe), None)
        if fence is not None:
            fs, fe = fence
            if (fe - fs) - _var_len(found, fs, fe) <= MAX_BLOCK_CHARS:
                plans.append((fs, fe, "block", sp))
            else:
                plans.append((sp.start, sp.end, "value", sp))
            continue
        ls, le = _line_bounds(text, sp.start)
        sent = _sentence_of(text, ls, le, sp.start) if sp.end <= le else None
        if sent is None or sp.end > sent[1] or (sent[1] - sent[0]) - _var_len(found, *sent) > max_chars:
            plans.append((sp.start, sp.end, "value", sp))
            continue
        plans.append((sent[0], sent[1], "sentence", sp))
        line_units.setdefault((ls, le), []).append(sent)
    # a line whose every sentence moves, moves whole (with its newline)
    whole: set[tuple[int, int]] = set()
    for (ls, le), sents in line_units.items():
        body = text[ls:le].rstrip("\r\n")
        needed = [(ls + a, ls + b) for a, b in sentence_spans(body)]
        if needed and all(n in sents for n in needed):
            whole.add((ls, le))
    out: list[tuple[int, int, str, DynamicSpan | None]] = []
    for s, e, mode, planned in plans:
        if mode == "sentence":
            ls, le = _line_bounds(text, s)
            if (ls, le) in whole:
                s, e, mode = ls, le, "line"
        out.append((s, e, mode, planned))
    return out


def _trim_sentence(text: str, a: int, b: int) -> tuple[int, int]:
    """A sentence range plus the blanks after it (or before it, at the end of its line)."""
    ls, le = _line_bounds(text, a)
    k = b
    while k < le and text[k] in " \t":
        k += 1
    if k < le and text[k] not in "\r\n":
        return a, k
    while a > ls and text[a - 1] in " \t":
        a -= 1
    return a, b


def _headings_to_move(text: str, units: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Heading lines whose whole section (non-blank body lines) is moved by line/block units.

    One pass over the lines with a stack of open headings (at most six deep): linear in the text.
    """
    covered = sorted((s, e) for s, e, m in units if m in ("line", "block"))
    if "#" not in text or not covered:
        return []
    out: list[tuple[int, int, str]] = []
    stack: list[list[Any]] = []  # [level, start, end, has_body, all_covered]
    ci = 0
    pos = 0

    def close(level: int) -> None:
        while stack and stack[-1][0] >= level:
            lvl, hs, he, has_body, ok = stack.pop()
            if has_body and ok:
                out.append((hs, he, "heading"))

    for line in text.splitlines(keepends=True):
        s, e = pos, pos + len(line)
        pos = e
        m = _HEADING.match(line)
        if m:
            close(len(m.group(1)))
            for h in stack:  # a sub-heading is body text its parents keep
                h[3], h[4] = True, False
            stack.append([len(m.group(1)), s, e, False, True])
            continue
        if not stack or not line.strip():
            continue
        while ci < len(covered) and covered[ci][1] < e:
            ci += 1
        is_cov = ci < len(covered) and covered[ci][0] <= s and e <= covered[ci][1]
        for h in stack:
            h[3] = True
            h[4] = h[4] and is_cov
    close(0)
    return sorted(out)


def _removal_ranges(text: str, merged: list[list[Any]]) -> list[tuple[int, int]]:
    """Character ranges to cut for each merged unit, so no blank-line runs or stray blanks are left.

    Line-like units (line, block, heading) separated only by whitespace are cut together with that
    whitespace; a cut that starts at the top of the text or after a blank line also takes the blank
    lines that follow it. Sentence units take the blanks after them (or before, at a line end).
    """
    ranges: list[tuple[int, int]] = []
    linelike = ("line", "block", "heading")
    prev_mode = ""
    group_start = -1
    for s, e, mode, _ in merged:
        if mode == "sentence":
            s, e = _trim_sentence(text, s, e)
        if ranges and s < ranges[-1][1]:
            s = ranges[-1][1]
        if mode in linelike:
            if prev_mode in linelike and ranges and not text[ranges[-1][1]:s].strip():
                s = ranges[-1][1]  # swallow the blank gap between two moved lines
            else:
                group_start = s
            before = text[:group_start]
            if group_start == 0 or before.endswith("\n\n") or not before.strip():
                k = e
                while True:
                    nl = text.find("\n", k)
                    if nl < 0 or text[k:nl].strip():
                        break
                    k = nl + 1
                e = max(e, k)
        ranges.append((s, max(s, e)))
        prev_mode = mode
    return ranges


def split_text(
    text: str,
    *,
    kinds: Collection[str] | None = None,
    keep: Iterable[str | re.Pattern[str]] = (),
    spans: Iterable[DynamicSpan] | None = None,
    max_unit_chars: int = MAX_UNIT_CHARS,
) -> TextSplit:
    """Cut ``text`` into its static part and the dynamic units moved out of it (see module doc).

    ``spans`` overrides detection (e.g. spans a caller filtered); ``kinds``/``keep`` pass to
    :func:`find_dynamic_spans`. Sizes are judged without the dynamic values, so requests that differ
    only in those values are cut the same way.
    """
    found = sorted(spans, key=lambda sp: sp.start) if spans is not None else find_dynamic_spans(
        text, kinds=kinds, keep=keep)
    if not found:
        return TextSplit(text, text, (), (), ())
    fences = code_fence_spans(text) if "```" in text or "~~~" in text else []
    raw = _plan(text, found, fences, max_unit_chars)
    raw.extend((s, e, m, None) for s, e, m in _headings_to_move(text, [(s, e, m) for s, e, m, _ in raw]))
    raw.sort(key=lambda u: (u[0], -u[1]))
    rank = {"value": 0, "sentence": 1, "heading": 2, "line": 3, "block": 4}
    merged: list[list[Any]] = []  # [start, end, mode, spans]
    for s, e, mode, sp in raw:
        if merged and s < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], e)
            if rank[mode] > rank[last[2]]:
                last[2] = mode
            if sp is not None and sp not in last[3]:
                last[3].append(sp)
            continue
        merged.append([s, e, mode, [sp] if sp is not None else []])
    ranges = _removal_ranges(text, merged)
    units: list[MovedUnit] = []
    refs: dict[tuple[str, str], str] = {}
    label_count: dict[str, int] = {}
    dynamic: list[str] = []
    pieces: list[str] = []
    cursor = 0
    for (us, ue, mode, sps), (s, e) in zip(merged, ranges, strict=True):
        pieces.append(text[cursor:s])
        replacement = ""
        if mode == "value":
            sp = sps[0]
            key = (sp.label, sp.text)
            if key not in refs:
                n = label_count.get(sp.label, 0) + 1
                label_count[sp.label] = n
                refs[key] = sp.label if n == 1 else f"{sp.label} ({n})"
                dynamic.append(f"{refs[key]}: {sp.text}")
            replacement = f"[{refs[key]}]"
            moved = f"{refs[key]}: {sp.text}"
        else:
            moved = text[us:ue].strip("\r\n").rstrip()
            if moved.strip():
                dynamic.append(moved)
        pieces.append(replacement)
        units.append(MovedUnit(s, e, moved, mode, tuple(sps), replacement))
        cursor = e
    pieces.append(text[cursor:])
    static = "".join(pieces)
    if ranges[-1][1] >= len(text.rstrip()):
        static = static.rstrip() + ("\n" if text.endswith("\n") and static.strip() else "")
    return TextSplit(text, static, tuple(dynamic), tuple(units), tuple(found))


def static_prefix_tokens(text: str, tokenizer: Tokenizer | None = None, **kwargs: object) -> int:
    """Tokens of ``text`` before its first dynamic span (the part a provider can cache as is)."""
    tok = tokenizer or get_tokenizer()
    found = find_dynamic_spans(text, **kwargs)  # type: ignore[arg-type]
    return tok.count(text[: found[0].start] if found else text)


def first_cache_break(text: str, tokenizer: Tokenizer | None = None, *, min_static_tokens: int = 1,
                      **kwargs: object) -> CacheBreak | None:
    """The first dynamic span followed by at least ``min_static_tokens`` static tokens, else None.

    This is the linter's PS201 check: content after such a span is re-billed on every request.
    """
    tok = tokenizer or get_tokenizer()
    split = split_text(text, **kwargs)  # type: ignore[arg-type]
    for unit in split.units:
        after = _static_between(text, split.units, unit.end, len(text))
        n_after = tok.count(after) if after.strip() else 0
        if n_after >= min_static_tokens:
            before = _static_between(text, split.units, 0, unit.start)
            return CacheBreak(unit.spans[0] if unit.spans else split.spans[0], tok.count(before), n_after)
    return None


def _static_between(text: str, units: tuple[MovedUnit, ...], lo: int, hi: int) -> str:
    parts = []
    cursor = lo
    for u in units:
        if u.end <= lo or u.start >= hi:
            continue
        parts.append(text[cursor:max(cursor, u.start)])
        cursor = max(cursor, u.end)
    parts.append(text[cursor:hi])
    return "".join(parts)


def move_dynamic_to_end(text: str, *, model: str | Tokenizer | None = None, separator: str = "\n\n",
                        **kwargs: object) -> Result[str]:
    """``text`` with its dynamic units moved after the static part (the PS201 fix), as a Result.

    >>> move_dynamic_to_end("Today is 2026-11-22.\\nSummarize the text.").value
    'Summarize the text.\\n\\nToday is 2026-11-22.'
    """
    tok = get_tokenizer(model)
    split = split_text(text, **kwargs)  # type: ignore[arg-type]
    if not split.units:
        n = tok.count(text)
        return Result(text, Savings(n, n, tok.name, tok.exact), ())
    trailing_nl = "\n" if text.endswith("\n") else ""
    static = split.static.rstrip()
    value = (static + separator if static else "") + split.dynamic_text + trailing_nl
    changes = tuple(
        Change("move", "cache-dynamic", "", (u.start, u.end), text[u.start:u.end], u.replacement,
               0, f"{', '.join(sorted({s.kind for s in u.spans})) or 'heading'} moved after static text")
        for u in split.units
    )
    return Result(value, Savings(tok.count(text), tok.count(value), tok.name, tok.exact), changes)
