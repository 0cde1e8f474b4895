"""Protected spans: the parts of a prompt no compressor, rewrite or lint fix may alter.

Code fences and inline code, URLs, e-mail addresses, numbers (with their units), quoted strings,
template placeholders (``{x}``, ``{{x}}``, ``{% ... %}``, ``${x}``), XML-like tags, YAML front
matter, ``<keep>...</keep>`` regions and caller-supplied ``protect=`` strings or regexes. Every
pattern runs in linear time (bounded repetitions, no nested quantifiers that can backtrack), so
adversarial input cannot hang a pipeline.

Constraint spans are softer: a negation or hard-constraint word ("never", "do not", "must",
"only") plus its neighbouring words. Passes may not delete or rewrite inside them, so a
constraint stays with its clause.

>>> text = "Use `jq` to read https://x.io/a and never drop {name}."
>>> [text[a:b] for a, b in find_protected_spans(text)]
['`jq`', 'https://x.io/a', '{name}']
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._toml import load_package_toml
from .errors import InputError

__all__ = [
    "ProtectedSpan",
    "Protect",
    "PROTECTED_KINDS",
    "classify_protected_spans",
    "find_protected_spans",
    "find_constraint_spans",
    "merge_spans",
    "overlaps",
    "unprotected_segments",
    "lower_same_length",
    "word_alternation",
]

Span = tuple[int, int]
# A user protection: a literal string (every occurrence) or a compiled regular expression.
Protect = str | re.Pattern[str]

PROTECTED_KINDS = (
    "code_block", "inline_code", "url", "email", "number", "quoted", "placeholder", "tag",
    "front_matter", "keep", "user",
)


@dataclass(frozen=True, slots=True)
class ProtectedSpan:
    """One protected region: half-open character range ``[start, end)`` and why it is protected."""

    start: int
    end: int
    kind: str


_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})([^\n]*)$", re.M)
_INLINE_CODE = re.compile(r"``(?:[^`\n]|`(?!`)){1,1000}``|`[^`\n]{1,1000}`")
# Patterns start with a literal or a character class so the regex engine can skip ahead fast;
# look-behind checks come after the first character for the same reason.
_URL = re.compile(r"(?:https?|ftp|file)://[^\s<>\"'`]{1,2000}|www\.[A-Za-z0-9-]{1,63}\.[^\s<>\"'`]{1,2000}")
_URL_START = re.compile(r"://|www\.")
_SCHEME = re.compile(r"(?:https?|ftp|file)\Z")
_URL_TRAIL = ".,;:!?)]}'\""
_EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_QUOTED = re.compile(
    r"\"[^\"\n]{1,2000}\"|\u201c[^\u201d\n]{1,2000}\u201d|'(?<![\w']')[^'\n]{1,500}'(?![\w])"
    r"|\u2018[^\u2019\n]{1,500}\u2019(?![\w])|\u00ab[^\u00bb\n]{1,2000}\u00bb"
)
_PLACEHOLDER = re.compile(
    r"\{\{[^{}\n]{0,300}\}\}|\{%[^%\n]{0,500}%\}|\{#[^#\n]{0,500}#\}|\$\{[^}]{1,1000}\}"
    r"|\{[^{}\n]{1,300}\}|\[[A-Z][A-Z0-9_ -]{1,60}\]|%\([A-Za-z_]\w{0,60}\)[sdifr]"
    r"|\$(?<![\w$]\$)[A-Z_][A-Z0-9_]{1,60}\b|<<[^<>\n]{1,100}>>"
)
_TAG = re.compile(r"</?[A-Za-z][\w:.-]{0,60}(?:\s[^<>\n]{0,500})?/?>|<!--[^\n]{0,2000}?-->")
_KEEP = re.compile(r"<(/?)keep>", re.I)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?:[^\n]*\n){0,200}?---[ \t]*(?:\r?\n|\Z)")


@cache
def _number_re() -> re.Pattern[str]:
    units = load_package_toml("rules/spans.toml")["units"]
    alts = "|".join(re.escape(u) for u in sorted(set(units), key=len, reverse=True))
    # currency sign, digits with inner separators (1,000.5 / 12/14/1937 / 10:30 / 2024-01-01), then
    # an optional percent sign or unit word.
    return re.compile(rf"\d+(?:[.,:/-]\d+)*(?:%|\s?(?:{alts})(?![\w]))?", re.I)


@cache
def _constraint_re(window: int | None = None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    table = load_package_toml("rules/spans.toml")
    window = int(table["constraint_window_words"]) if window is None else window
    # word boundaries as \b sees them: "Read-only" and "No-Code" hold a constraint word
    words = sorted(set(table["constraint_words"]))
    return re.compile(word_alternation(words, word_chars="a-z0-9_")), re.compile(_AFTER_WORDS % window)


# template: the rest of the constraint word's token ("no:**"), then up to N following words
_AFTER_WORDS = r"[^\s.!?]{0,60}(?:[^\S\n]{1,20}[^\s.!?]{1,60}){0,%d}"


def _fences(text: str) -> Iterator[Span]:
    """Fenced code blocks, paired line by line (an unclosed fence protects to the end)."""
    if "```" not in text and "~~~" not in text:
        return
    open_start = -1
    open_fence = ""
    for m in _FENCE.finditer(text):
        fence = m.group(1)
        if open_start < 0:
            open_start, open_fence = m.start(), fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not m.group(2).strip():
            yield open_start, m.end()
            open_start = -1
    if open_start >= 0:
        yield open_start, len(text)


def _keeps(text: str) -> Iterator[Span]:
    """``<keep>...</keep>`` regions, tags included; an unclosed ``<keep>`` protects to the end."""
    depth = 0
    start = 0
    for m in _KEEP.finditer(text):
        if not m.group(1):
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                yield start, m.end()
    if depth:
        yield start, len(text)


def _numbers(text: str) -> Iterator[Span]:
    """Numbers that start a token (not "v1.2", "x86"), with a sign or currency sign before them."""
    for m in _number_re().finditer(text):
        a, b = m.span()
        if a and text[a - 1] in "$€£¥":
            a -= 1
        if a and text[a - 1] in "+-" and (a < 2 or not text[a - 2].isalnum()):
            a -= 1
        if a and (text[a - 1].isalnum() or text[a - 1] in "._"):
            continue
        yield a, b


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL_DOMAIN.finditer(text):
        a = m.start()
        while a > 0 and m.start() - a < 64 and (text[a - 1].isalnum() or text[a - 1] in "._+-"):
            a -= 1
        if a < m.start():
            yield a, m.end()


def word_alternation(words: Sequence[str], space: str = r"[ \t]+", word_chars: str = r"a-z0-9'\-_") -> str:
    """A regex finding lower-case ``words`` (or phrases; a space matches ``space``) as whole words
    in ``" " + lower_same_length(text)``: one separator character, then the word as group 1.

    ``word_chars`` is the character class of word characters (a match must not touch one). The
    alternation is factored by common prefixes and starts with a character class, which makes
    Python's regex engine several times faster than ``\b(?:w1|w2|...)\b``.
    """
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        alts = [(space if ch == " " else re.escape(ch)) + build(child)
                for ch, child in sorted(node.items()) if ch != ""]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if end else body

    return rf"[^{word_chars}]({build(trie)})(?![{word_chars}])"


def lower_same_length(text: str) -> str:
    """``text.lower()`` when that keeps every index (almost always); else a per-character version."""
    low = text.lower()
    if len(low) == len(text):
        return low
    odd = "".join(c for c in set(text) if len(c.lower()) != 1)  # "\u0130".lower() has 2 chars
    return re.sub(f"[{re.escape(odd)}]", lambda m: m.group().lower()[0], text).lower()


def _urls(text: str) -> Iterator[Span]:
    pos = 0
    while True:
        s = _URL_START.search(text, pos)
        if s is None:
            return
        if s.group() == "://":
            sch = _SCHEME.search(text, max(0, s.start() - 5), s.start())
            m = _URL.match(text, sch.start()) if sch else None
        else:
            m = _URL.match(text, s.start()) if not (s.start() and text[s.start() - 1].isalnum()) else None
        if m is None:
            pos = s.end()
            continue
        pos = m.end()
        a, b = m.span()
        while b > a and text[b - 1] in _URL_TRAIL:
            # keep a closing bracket that balances one inside the URL (wikipedia-style links)
            ch = text[b - 1]
            if ch == ")" and text.count("(", a, b) >= text.count(")", a, b):
                break
            b -= 1
        if b > a:
            yield a, b


@cache
def _json_string_re() -> re.Pattern[str]:
    return re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_strings(text: str) -> list[Span] | None:
    """String literals of a text that is wholly one JSON object or array, lexed with escapes (None
    when it is not JSON). For such a text they replace the quoted-string pattern, which pairs
    quotes line by line and goes wrong on strings holding escaped quotes (and pairs differently
    once the JSON is minified to one line)."""
    body = text.strip()
    if len(body) < 2 or body[0] not in "{[" or body[-1] not in "}]":
        return None
    import json

    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return None
    start = len(text) - len(text.lstrip())
    return [m.span() for m in _json_string_re().finditer(text, start, start + len(body))]


def _user(text: str, protect: Iterable[Protect]) -> Iterator[Span]:
    for i, item in enumerate(protect):
        if isinstance(item, re.Pattern):
            for m in item.finditer(text):
                if m.end() > m.start():
                    yield m.span()
        elif isinstance(item, str):
            if not item:
                raise InputError(f"protect[{i}] is an empty string; give the text to protect")
            start = text.find(item)
            while start >= 0:
                yield start, start + len(item)
                start = text.find(item, start + len(item))
        else:
            raise InputError(
                f"protect[{i}] is {type(item).__name__}; expected a string or a compiled re.Pattern"
            )


def classify_protected_spans(
    text: str, protect: Iterable[Protect] = (), kinds: Iterable[str] | None = None
) -> tuple[ProtectedSpan, ...]:
    """Every protected region of ``text`` with its kind, sorted by start (regions may overlap).

    ``kinds`` limits detection to some of :data:`PROTECTED_KINDS`; user ``protect`` items are
    always included.
    """
    out = [ProtectedSpan(a, b, kind) for kind, spans in _detect(text, protect, kinds) for a, b in spans]
    out.sort(key=lambda s: (s.start, s.end))
    return tuple(out)


def _detect(text: str, protect: Iterable[Protect], kinds: Iterable[str] | None) -> Iterator[tuple[str, Iterable[Span]]]:
    """``(kind, spans)`` for every protected-span detector that applies to ``text``."""
    if isinstance(protect, (str, re.Pattern)):
        protect = (protect,)
    wanted = set(PROTECTED_KINDS if kinds is None else kinds)
    unknown = wanted - set(PROTECTED_KINDS)
    if unknown:
        raise InputError(f"unknown protected-span kinds {sorted(unknown)}; known: {', '.join(PROTECTED_KINDS)}")
    if "code_block" in wanted:
        yield "code_block", _fences(text)
    if "inline_code" in wanted and "`" in text:
        yield "inline_code", (m.span() for m in _INLINE_CODE.finditer(text))
    if "url" in wanted and ("://" in text or "www." in text):
        yield "url", _urls(text)
    if "email" in wanted and "@" in text:
        yield "email", _emails(text)
    if "number" in wanted:
        yield "number", _numbers(text)
    if "quoted" in wanted:
        js = _json_strings(text)
        yield "quoted", ((m.span() for m in _QUOTED.finditer(text)) if js is None else js)
    if "placeholder" in wanted:
        yield "placeholder", (m.span() for m in _PLACEHOLDER.finditer(text))
    if "tag" in wanted and "<" in text:
        yield "tag", (m.span() for m in _TAG.finditer(text))
    if "front_matter" in wanted and text.startswith("---"):
        m = _FRONT_MATTER.match(text)
        if m:
            yield "front_matter", [m.span()]
    if "keep" in wanted and "<" in text:
        yield "keep", _keeps(text)
    yield "user", _user(text, protect)


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sort half-open spans and merge the ones that overlap or touch; empty spans are dropped."""
    merged: list[list[int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1][1] = b
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


def find_protected_spans(text: str, protect: Iterable[Protect] = ()) -> tuple[Span, ...]:
    """Sorted, merged ``(start, end)`` ranges of ``text`` that must stay byte-identical."""
    return merge_spans([span for _, spans in _detect(text, protect, None) for span in spans])


def find_constraint_spans(text: str, window_words: int | None = None) -> tuple[Span, ...]:
    """Sorted, merged ranges around negations and hard constraints: the word before "not", the
    constraint word (with the rest of its token) and the next ``window_words`` words within the
    sentence (default 3 from ``rules/spans.toml``: fact checks read a negated clause by its first
    three words). Passes leave them alone."""
    pattern, after = _constraint_re(window_words)
    spans: list[Span] = []
    for m in pattern.finditer(" " + lower_same_length(text).replace("\u2019", "'")):
        a, b = m.start(1) - 1, m.end(1) - 1
        # one word back for "not" ("do not", "must not"), bounded and on the same line
        k = a if m.group(1) == "not" else 0
        while k > 0 and a - k < 20 and text[k - 1] in " \t":
            k -= 1
        j = k
        while k and j > 0 and k - j < 30 and not text[j - 1].isspace():
            j -= 1
        if j < k and text[k - 1] not in ".!?;:":
            a = j
        w = after.match(text, b)
        if w:
            b = w.end()
        spans.append((a, b))
    return merge_spans(spans)


_INF = float("inf")


def overlaps(spans: Sequence[Span], start: int, end: int) -> bool:
    """True if ``[start, end)`` overlaps any of the sorted, merged ``spans`` (binary search).

    An empty range (an insertion point) counts as overlapping when it lies strictly inside a span.
    """
    if not spans:
        return False
    i = bisect.bisect_right(spans, (start, _INF)) - 1
    if i >= 0 and spans[i][1] > start and (end > start or spans[i][0] < start):
        return True
    j = i + 1
    return j < len(spans) and spans[j][0] < end


def unprotected_segments(text: str, spans: Sequence[Span]) -> Iterator[tuple[int, int, bool]]:
    """Walk ``text`` as consecutive ``(start, end, protected)`` pieces covering it exactly."""
    pos = 0
    for a, b in spans:
        if a > pos:
            yield pos, a, False
        yield a, b, True
        pos = b
    if pos < len(text):
        yield pos, len(text), False
