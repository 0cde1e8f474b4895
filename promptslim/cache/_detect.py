"""Find per-request (dynamic) content in prompt text: dates, times, ids, e-mails, names, template slots.

One timestamp or user name near the top of a system prompt turns every provider cache lookup into a
miss, so :func:`split_cacheable` moves such spans after the static text. The patterns live in
``promptslim/rules/dynamic_content.toml``; this module compiles and runs them. The linter (PS201)
calls :func:`find_dynamic_spans` directly, so its signature is a stable contract.

>>> [(s.kind, s.text) for s in find_dynamic_spans("Today is 2026-11-22. Help the user.")]
[('date', '2026-11-22')]
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from .._toml import load_package_toml
from ..errors import InputError

__all__ = ["DynamicSpan", "find_dynamic_spans", "code_fence_spans", "DYNAMIC_KINDS"]

_RULES_FILE = "rules/dynamic_content.toml"


@dataclass(frozen=True, slots=True)
class DynamicSpan:
    """A span of text that is likely to change from one request to the next.

    ``start``/``end`` are a half-open character range in the scanned text and ``text`` is
    ``text[start:end]``; ``kind`` is the detector family (``date``, ``id``, ``user_name``, ...) and
    ``label`` a human name for the value (``"Current date"``, ``"Order number"``).
    """

    kind: str
    start: int
    end: int
    text: str
    label: str


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: str
    label: str
    regex: re.Pattern[str]
    cue: bool
    validate: str
    in_code: bool
    full_span: bool
    lower: bool
    needs: str
    gate: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Table:
    patterns: tuple[_Pattern, ...]
    cue: re.Pattern[str]
    cue_window: int
    cue_after: int
    role_mailboxes: frozenset[str]


_FLAGS = {"i": 0, "m": re.MULTILINE}  # "i": run on the lower-cased text (much faster than IGNORECASE)


@cache
def _table() -> _Table:
    data: dict[str, Any] = load_package_toml(_RULES_FILE)
    names = data["names"]
    patterns = []
    for i, raw in enumerate(data["pattern"]):
        source = raw["regex"].replace("{MONTH}", names["month"]).replace("{WEEKDAY}", names["weekday"])
        flags = 0
        for ch in raw.get("flags", ""):
            flags |= _FLAGS[ch]
        try:
            compiled = re.compile(source, flags)
        except re.error as exc:  # pragma: no cover - guarded by tests on the shipped table
            raise InputError(f"{_RULES_FILE}: pattern #{i} ({raw['kind']}): bad regex: {exc}") from exc
        patterns.append(_Pattern(raw["kind"], raw["label"], compiled, bool(raw.get("cue", False)),
                                 raw.get("validate", ""), bool(raw.get("in_code", True)),
                                 bool(raw.get("full_span", False)), "i" in raw.get("flags", ""),
                                 raw.get("needs", ""), re.compile(raw["gate"]) if raw.get("gate") else None))
    cue = data["cue"]
    return _Table(tuple(patterns), re.compile(cue["regex"]), int(cue["window"]), int(cue["after"]),
                  frozenset(names["role_mailboxes"]))


DYNAMIC_KINDS: tuple[str, ...] = (
    "date", "datetime", "time", "weekday", "timestamp", "uuid", "id", "email", "user_name",
    "placeholder", "counter", "context",
)


def code_fence_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of fenced code blocks (``` or ~~~), fences included; an unclosed fence runs to the end."""
    spans: list[tuple[int, int]] = []
    pos = 0
    open_at = -1
    fence = ""
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" \t")
        if open_at < 0:
            if stripped.startswith(("```", "~~~")):
                marker = stripped[0]
                fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
                open_at = pos
        elif stripped.startswith(fence) and not stripped.rstrip().strip(fence[0]):
            spans.append((open_at, pos + len(line)))
            open_at = -1
        pos += len(line)
    if open_at >= 0:
        spans.append((open_at, len(text)))
    return spans


_DIGIT = re.compile(r"\d")
_MERGE_GAP = 256


def _gate_lines(text: str, gate: re.Pattern[str] = _DIGIT) -> list[tuple[int, int]]:
    """Ranges of nearby lines where ``gate`` matches (a digit by default); every shipped pattern is
    line-local, so scanning only these ranges finds the same matches."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = gate.search(text, pos)
        if m is None:
            return ranges
        start = text.rfind("\n", 0, m.start()) + 1
        nl = text.find("\n", m.end())
        end = len(text) if nl < 0 else nl
        if ranges and start <= ranges[-1][1] + _MERGE_GAP:  # few long scans beat many short ones
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
        pos = end + 1


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _has_cue(table: _Table, text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    before = text[max(line_start, start - table.cue_window):start]
    after = text[end:min(line_end, end + table.cue_after)]
    return bool(table.cue.search(before) or table.cue.search(after))


def _name_value(value: str) -> str:
    """Leading words of a candidate name that do not start lower-case, trailing punctuation removed."""
    words = []
    for word in value.split():
        if word[0].islower():
            break
        words.append(word)
        if word.endswith((".", ",")) and word.rstrip(".,").lower() not in ("dr", "mr", "mrs", "ms", "prof"):
            break
    return " ".join(words).rstrip(".,'’-")


def _validated(table: _Table, pat: _Pattern, text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The span to report for a match (value group or whole match), or None if validation rejects it."""
    has_v = "v" in pat.regex.groupindex and m.group("v") is not None and not pat.full_span
    start, end = (m.start("v"), m.end("v")) if has_v else (m.start(), m.end())
    value = text[start:end]
    check = pat.validate
    if check == "hex_id":
        digits = sum(c.isdigit() for c in value)
        if digits < 2 or len(value) - digits < 2 or (value != value.lower() and value != value.upper()):
            return None
    elif check in ("clock", "clock12"):
        hour = int(value[: value.index(":")] if ":" in value else re.match(r"\d+", value).group())  # type: ignore[union-attr]
        if (check == "clock" and hour > 23) or (check == "clock12" and not 1 <= hour <= 12):
            return None
    elif check == "has_digit":
        value = value.rstrip(".:/-_")
        if not any(c.isdigit() for c in value):
            return None
        end = start + len(value)
    elif check == "name":
        name = _name_value(value)
        if not name or len(name) < 2:
            return None
        end = start + len(name)
    elif check == "not_lower":
        value = value.rstrip()
        if not value or value[0].islower():
            return None
        end = start + len(value.rstrip("*").rstrip())
    elif check == "email":
        local = value.split("@", 1)[0].lower()
        if local in table.role_mailboxes:
            return None
    elif check == "day_first":
        if not 1 <= int(re.match(r"\d+", value).group()) <= 31:  # type: ignore[union-attr]
            return None
    elif check == "date_numeric":
        a, b = (int(x) for x in re.split(r"[/.]", value)[:2])
        if not (1 <= a <= 31 and 1 <= b <= 31) or (a > 12 and b > 12):
            return None
    if end <= start:
        return None
    return start, end


def _label(pat: _Pattern, m: re.Match[str], text: str) -> str:
    if "l" in pat.regex.groupindex and m.group("l"):
        label = " ".join(text[m.start("l"):m.end("l")].split()).rstrip(":#= ")
        return label[:1].upper() + label[1:]
    if pat.kind == "placeholder" and "v" in pat.regex.groupindex and m.group("v"):
        return text[m.start("v"):m.end("v")].strip()
    return pat.label


def _compile_keep(keep: Iterable[str | re.Pattern[str]]) -> list[re.Pattern[str]]:
    out = []
    for k in keep:
        out.append(k if isinstance(k, re.Pattern) else re.compile(re.escape(k)))
    return out


def find_dynamic_spans(
    text: str,
    *,
    kinds: Collection[str] | None = None,
    keep: Iterable[str | re.Pattern[str]] = (),
) -> list[DynamicSpan]:
    """Spans of ``text`` that look per-request, sorted by start and never overlapping.

    ``kinds`` limits detection to some families (see :data:`DYNAMIC_KINDS`); ``keep`` lists strings
    or compiled regexes whose matches are known to be static (``"support@acme.com"``) and are never
    reported. Overlapping matches merge into one span that keeps the kind of the earliest, longest one.

    >>> [s.label for s in find_dynamic_spans("You are talking to Alice Smith. Order number: A-12345")]
    ['User name', 'Order number']
    """
    if not isinstance(text, str):
        raise InputError(f"find_dynamic_spans expects str, got {type(text).__name__}")
    if kinds is not None:
        unknown = set(kinds) - set(DYNAMIC_KINDS)
        if unknown:
            raise InputError(f"unknown dynamic kinds {sorted(unknown)}; known: {', '.join(DYNAMIC_KINDS)}")
    table = _table()
    fences = code_fence_spans(text) if "```" in text or "~~~" in text else []
    kept = [(m.start(), m.end()) for rx in _compile_keep(keep) for m in rx.finditer(text) if m.end() > m.start()]
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets aligned
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    found: list[tuple[int, int, int, DynamicSpan]] = []
    digit_ranges: list[tuple[int, int]] | None = None
    for order, pat in enumerate(table.patterns):
        if kinds is not None and pat.kind not in kinds:
            continue
        subject = lowered if pat.lower else text
        if pat.gate is not None or pat.needs == "digit":
            if pat.gate is not None:
                ranges = _gate_lines(text, pat.gate)
            else:
                if digit_ranges is None:
                    digit_ranges = _gate_lines(text)
                ranges = digit_ranges
            matches: Iterable[re.Match[str]] = (m for a, b in ranges for m in pat.regex.finditer(subject, a, b))
        elif pat.needs and pat.needs not in text:
            continue
        else:
            matches = pat.regex.finditer(subject)
        for m in matches:
            span = _validated(table, pat, text, m)
            if span is None:
                continue
            start, end = span
            if not pat.in_code and fences and _inside(fences, start, end):
                continue
            if pat.cue and not _has_cue(table, text, start, end):
                continue
            if kept and any(s < end and start < e for s, e in kept):
                continue
            found.append((start, -end, order, DynamicSpan(pat.kind, start, end, text[start:end], _label(pat, m, text))))
    found.sort(key=lambda t: (t[0], t[1], t[2]))
    merged: list[DynamicSpan] = []
    for start, neg_end, _, item in found:
        end = -neg_end
        if merged and start < merged[-1].end:
            last = merged[-1]
            if end > last.end:
                merged[-1] = DynamicSpan(last.kind, last.start, end, text[last.start:end], last.label)
            continue
        merged.append(item)
    return merged
