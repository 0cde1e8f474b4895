"""Shared machinery of the compression passes: candidate edits, token-verified application,
sentence-start and case handling, and a fast word-sequence phrase matcher for rewrite tables.

Every pass proposes :class:`Edit` candidates on its input text and hands them to
:func:`apply_edits`, which keeps an edit only where the tokenizer confirms, in a window of
context around it, that it saves tokens (so a rule never makes a prompt longer), and records a
:class:`~promptslim.result.Change` whose ``span`` is the range in the pass's input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .compress_spans import SpanMover, map_spans
from .result import Change
from .spans import lower_same_length, overlaps, word_alternation
from .tokens import Tokenizer

__all__ = [
    "Span",
    "PassFn",
    "Edit",
    "LEVELS",
    "level_rank",
    "apply_edits",
    "removal_edit",
    "is_sentence_start",
    "match_case",
    "is_name_position",
    "PhraseEntry",
    "PhraseTable",
    "map_spans",
    "SpanMover",
    "non_space_run",
]

Span = tuple[int, int]
LEVELS = ("safe", "balanced", "aggressive")


def level_rank(level: str) -> int:
    """0, 1, 2 for safe, balanced, aggressive; a clear error for anything else."""
    try:
        return LEVELS.index(level)
    except ValueError:
        from .errors import InputError

        raise InputError(f"unknown compression level {level!r}; choose one of {', '.join(LEVELS)}") from None


# A compression pass: ``pass_x(text, protected_spans, tokenizer, *, level="balanced", **options)
# -> (new_text, changes)``; pure, deterministic, never touching ``protected_spans``.
PassFn = Callable[..., tuple[str, tuple[Change, ...]]]


@dataclass(frozen=True, slots=True)
class Edit:
    """A proposed replacement of ``text[start:end]`` by ``replacement``."""

    start: int
    end: int
    replacement: str
    kind: str = "rewrite"
    reason: str = ""
    # tokens the edit saves whatever its neighbours, proven by the pass from how the tokenizer
    # splits text (0: not proven, measure it); such an edit is applied without a count
    saves: int = 0


_NON_SPACE = re.compile(r"\S*")  # \S is exactly "not str.isspace()"


def non_space_run(s: str) -> int:
    """Length of the run of non-whitespace characters (``str.isspace`` false) starting ``s``."""
    m = _NON_SPACE.match(s)
    return m.end() if m else 0


def _window(text: str, a: int, b: int) -> Span:
    """A few words of context around ``[a, b)`` on the same line, cut at word starts (pre-token
    boundaries). Staying on one line makes every pass decision line-local, which lets
    compression re-check only the lines it changed.

    Up to 48 characters each side: blanks next to the range, then the non-space run beyond them
    (string methods and one regex match rather than a loop over characters)."""
    lim = max(0, a - 48)
    head = text[lim:a].rstrip(" \t")
    left = lim + len(head) - non_space_run(head[::-1])
    tail = text[b:b + 48]
    rest = tail.lstrip(" \t")
    right = b + len(tail) - len(rest) + non_space_run(rest)
    return left, right


_MAX_BATCH = 64  # edits confirmed together at most (a failed batch is split in halves)


def apply_edits(text: str, edits: Iterable[Edit], tokenizer: Tokenizer, rule: str, *,
                min_saved: int = 1, protected: Sequence[Span] = ()) -> tuple[str, tuple[Change, ...]]:
    """Apply non-overlapping ``edits`` left to right where each saves at least ``min_saved`` tokens.

    Edits are measured on a window of context in the text as already edited to their left, so
    neighbouring edits are judged together. Consecutive edits on one line form a batch confirmed
    with one count of its window before and after: the batch is kept when it saves at least
    ``min_saved`` tokens per edit (its saving is spread over its edits' ``tokens_saved``); a batch
    that falls short is split in halves down to single edits, so one edit that does not pay never
    blocks the others. Edits that overlap an earlier accepted one, touch a ``protected`` span, or
    do not shorten the text by characters or tokens are dropped.
    """
    count = tokenizer.count_base
    accepted: list[Edit] = []
    savings: list[int] = []

    def measure(batch: Sequence[Edit]) -> tuple[int, int]:
        """Tokens saved by ``batch`` in its window, and the window's length change in characters."""
        first, last = batch[0], batch[-1]
        left = _window(text, first.start, first.end)[0]
        right = _window(text, last.start, last.end)[1]
        # left context as already edited: replay accepted edits that fall inside the window
        recent = accepted[-8:]
        for prev in recent:
            if prev.start < left < prev.end:
                left = prev.start
        pieces: list[str] = []
        cur = left
        for prev in recent:
            if prev.start >= left:
                pieces.append(text[cur:prev.start])
                pieces.append(prev.replacement)
                cur = prev.end
        ctx_left = "".join(pieces) + text[cur:first.start]
        mid: list[str] = []
        cur = first.start
        for e in batch:
            mid.append(text[cur:e.start])
            mid.append(e.replacement)
            cur = e.end
        after = ctx_left + "".join(mid) + text[last.end:right]
        before = ctx_left + text[first.start:right]
        return count(before) - count(after), len(before) - len(after)

    def decide(batch: Sequence[Edit]) -> None:
        if accepted and batch[0].start < accepted[-1].end:
            if len(batch) == 1:
                return
            batch = [e for e in batch if e.start >= accepted[-1].end]
            if not batch:
                return
        saved, shorter = measure(batch)
        k = len(batch)
        if saved >= min_saved * k and (saved > 0 or shorter > 0):
            base, rem = divmod(saved, k)
            for i, e in enumerate(batch):
                accepted.append(e)
                savings.append(base + (i < rem))
        elif k > 1:
            decide(batch[:k // 2])
            decide(batch[k // 2:])

    batch: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.end < e.start or text[e.start:e.end] == e.replacement:
            continue
        if protected and overlaps(protected, e.start, e.end):
            continue
        if batch and (e.start < batch[-1].end or len(batch) >= _MAX_BATCH
                      or "\n" in text[batch[-1].end:e.start]):
            decide(batch)
            batch = []
        if accepted and e.start < accepted[-1].end:
            continue
        if e.saves >= max(min_saved, 1):
            if batch:
                decide(batch)
                batch = []
                if accepted and e.start < accepted[-1].end:
                    continue
            accepted.append(e)
            savings.append(e.saves)
            continue
        batch.append(e)
    if batch:
        decide(batch)
    if not accepted:
        return text, ()
    out: list[str] = []
    changes: list[Change] = []
    pos = 0
    for e, saved in zip(accepted, savings, strict=True):
        out.append(text[pos:e.start])
        out.append(e.replacement)
        pos = e.end
        changes.append(Change(kind=e.kind, rule=rule, span=(e.start, e.end), before=text[e.start:e.end],
                              after=e.replacement, tokens_saved=saved, reason=e.reason))
    out.append(text[pos:])
    return "".join(out), tuple(changes)


_LINE_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+>\u2022]|\d{1,3}[.)]|[A-Za-z][.)]|#{1,6})[ \t]+)*(?:\*\*|__|\*|_)?")
# line lead-in before a sentence-starting word, as fact checks read it (no letter markers)
_NAME_LEAD = re.compile(r"[ \t]*(?:(?:[-*+>\u2022]|\d{1,3}[.)]|#{1,6})[ \t]+)*(?:\*\*|__|\*|_)?")
_INLINE_ITEM = re.compile(r"[.!?:][ \t]+[-*+\u2022][ \t]+\Z")
_CLOSERS = "\"')]}\u201d\u2019*_"


def is_sentence_start(text: str, pos: int) -> bool:
    """True when ``pos`` begins a sentence: start of text or line (after a list marker, heading
    mark or quote), after ``.``, ``!`` or ``?`` (and closing quotes) plus whitespace, or after an
    inline list marker that follows one of them or a colon ("Rules: - Keep")."""
    k = pos
    while k > 0 and pos - k < 64 and text[k - 1] in " \t":
        k -= 1
    # look back a bounded distance only, so that long lines stay linear
    lo = max(0, k - 64)
    nl = text.rfind("\n", lo, k)
    line_start = nl + 1 if nl >= 0 else (0 if lo == 0 else -1)
    if line_start >= 0 and _LINE_PREFIX.fullmatch(text, line_start, pos):
        return True
    if k == pos:
        return False
    if text[k - 1] in "-*+\u2022" and _INLINE_ITEM.search(text, max(k - 8, line_start, 0), pos):
        return True  # an item of a list flattened into one line: "... text. - Provide"
    j = k
    while j > max(line_start, 0) and k - j < 8 and text[j - 1] in _CLOSERS:
        j -= 1
    return j > max(line_start, 0) and text[j - 1] in ".!?"


def is_name_position(text: str, pos: int) -> bool:
    """True when a capitalised word at ``pos`` reads as a name to fact-retention checks: it is not
    at the start of the text, of a line, of a list item or heading ("- Make", "## Give", also inline:
    "... text. - Make"), or of a sentence (after ``.``, ``!``, ``?`` and a space), or it continues a run of capitalised words on
    one line ("Sigma Rule")."""
    if not (text[pos:pos + 1].isupper() and text[pos + 1:pos + 2].islower()):
        return False
    k = pos
    while k > 0 and text[k - 1] in " \t":
        k -= 1
    j = k
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    if j < k < pos and text[j].isupper() and text[j + 1:k].islower() and (j == 0 or not text[j - 1].isalnum()):
        return True  # continues a capitalised run
    if pos == 0 or text[pos - 1] == "\n":
        return False
    lo = max(0, pos - 64)
    nl = text.rfind("\n", lo, pos)
    ls = nl + 1 if nl >= 0 else (0 if lo == 0 else -1)
    if ls >= 0 and _NAME_LEAD.fullmatch(text, ls, pos):
        return False
    if _INLINE_ITEM.search(text, max(ls, pos - 8, 0), pos):  # "... text. - Provide": a flattened list item
        return False
    return not (text[pos - 1].isspace() and pos >= 2 and text[pos - 2] in ".!?")


def match_case(replacement: str, matched: str, sentence_start: bool) -> str:
    """Give ``replacement`` the case of ``matched``: ALL CAPS stays all caps; a capitalised
    sentence start stays capitalised; otherwise the table's own spelling is kept."""
    if not replacement:
        return replacement
    letters = [c for c in matched if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return replacement.upper()
    if sentence_start and matched[:1].isupper():
        return replacement[0].upper() + replacement[1:]
    return replacement


def removal_edit(text: str, a: int, b: int, reason: str, protected: Sequence[Span] = (),
                 constraints: Sequence[Span] = (), kind: str = "remove") -> Edit | None:
    """An edit deleting ``text[a:b]`` cleanly: with its comma and spacing, re-capitalising a
    sentence start, dropping a line left empty; None when no clean deletion exists."""
    n = len(text)
    start_of_sentence = is_sentence_start(text, a)
    j = b
    if j < n and text[j] == ",":
        j += 1
    k = j
    while k < n and text[k] in " \t":
        k += 1
    if k < n and (text[k].isalnum() or text[k] in "\"'`({[$\u201c"):
        # followed by more of the sentence: delete up to the next word
        if k == j and j == b:
            return None  # glued to the next word: not a whole-word deletion
        end, repl = k, ""
        if start_of_sentence and text[k].islower():
            if overlaps(protected, k, k + 1):
                return None
            end, repl = k + 1, text[k].upper()
        if overlaps(constraints, a, k):
            return None
        start = a
    elif k >= n or text[k] in "\r\n" or text[k] in ".!?;:)":
        # at the end of a clause: take the spaces (and a comma) before the phrase instead
        start = a
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        if start > 0 and text[start - 1] == "," and not start_of_sentence:
            start -= 1
        end = b if j == b else j
        repl = ""
        if start_of_sentence and not (k >= n or text[k] in ".!?\r\n"):
            return None  # "Your task is to:" is a label; deleting the phrase would strand the colon
        if start_of_sentence and k < n and text[k] in ".!?":
            # the phrase is a whole sentence ("Thank you!"): drop it with its punctuation
            end = k
            while end < n and text[end] in ".!?":
                end += 1
            while end < n and text[end] in " \t":
                end += 1
            if end < n and text[end] not in "\r\n":
                start = a  # more sentences follow on this line: keep the spacing before
        elif not start_of_sentence and text[k:k + 1] in ("\n", "\r", "") and start > 0 and text[start - 1] in ".!?":
            pass
        if overlaps(constraints, start, end):
            return None
    else:
        return None
    # a line left blank disappears together with its line break (looked for a bounded distance)
    lo = max(0, start - 256)
    nl = text.rfind("\n", lo, start)
    ls = nl + 1 if nl >= 0 else (0 if lo == 0 else -1)
    le = text.find("\n", end, end + 256)
    le = n if le < 0 and n - end <= 256 else le
    if ls >= 0 and le >= 0 and not text[ls:start].strip() and not text[end:le].strip() and not repl:
        start = ls
        end = le + 1 if le < n else le
        if le == n and start > 0:  # last line without a line break: take the one before it
            start -= 1
            if start > 0 and text[start - 1] == "\r":
                start -= 1
    return Edit(start, end, repl, kind, reason)


# ---------------------------------------------------------------------------------------------
# phrase tables: word sequences matched case-insensitively on whole words, within one line

_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class PhraseEntry:
    """One table row: the lower-case words to find, what replaces them, and when it applies."""

    words: tuple[str, ...]
    replacement: str
    level: int = 0
    sentence_start: bool = False      # only at the start of a sentence
    whole_sentence: bool = False      # only when the phrase is the whole sentence
    not_after: frozenset[str] = field(default_factory=frozenset)
    not_before: frozenset[str] = field(default_factory=frozenset)
    after_comma: bool = False         # only right after a comma ("X, Y, and Z")

    @property
    def phrase(self) -> str:
        return " ".join(self.words)


class PhraseTable:
    """Phrases in a word trie; :meth:`find` jumps between candidate first words with one regex
    and walks the trie from each, taking the longest phrase that applies."""

    def __init__(self, entries: Iterable[PhraseEntry]) -> None:
        # trie node: {word: child}; the key "" holds the entries ending at that node
        root: dict[str, Any] = {}
        for e in entries:
            node = root
            for w in e.words:
                node = node.setdefault(w, {})
            node.setdefault("", []).append(e)
        self.root = root
        # candidate starts: the first two words of each phrase (one for one-word phrases), so the
        # regex skips the many common first words ("in", "a", "it") not followed by a match
        starts = {" ".join(e.words[:2]) for node in _terminals(root) for e in node}
        # matched on " " + lower-cased text: one separator character, then a phrase start
        self._first_re = re.compile(word_alternation(sorted(starts), r"[ \t]+")) if root else None

    @classmethod
    def from_mapping(cls, levels: Mapping[str, Mapping[str, str]]) -> PhraseTable:
        """Build from ``{level: {phrase: replacement}}`` (the verbose-phrase TOML layout)."""
        entries = []
        for level, table in levels.items():
            rank = level_rank(level)
            for phrase, repl in table.items():
                entries.append(PhraseEntry(tuple(phrase.lower().split()), repl, rank))
        return cls(entries)

    def find(self, text: str, level: int) -> Iterator[tuple[int, int, PhraseEntry]]:
        """Non-overlapping ``(start, end, entry)`` matches of entries at or below ``level``."""
        if self._first_re is None:
            return
        low = lower_same_length(text).replace("\u2019", "'")
        padded = " " + low
        pos = 0
        n = len(low)
        word_at = _WORD.match
        root = self.root
        for m in self._first_re.finditer(padded):
            a = m.start(1) - 1
            if a < pos:
                continue
            node = root
            ends: list[tuple[int, list[PhraseEntry]]] = []
            first = m.group(1).split()
            end = a + len(first[0])
            node = root[first[0]]
            if len(first) > 1:
                if "" in node:
                    ends.append((end, node[""]))
                node = node[first[1]]
                end = m.end() - 1
            while True:
                if "" in node:
                    ends.append((end, node[""]))
                if len(node) == ("" in node):
                    break
                k = end
                while k < n and (low[k] == " " or low[k] == "\t"):
                    k += 1
                if k == end:
                    break
                wm = word_at(low, k)
                if wm is None:
                    break
                child = node.get(wm.group())
                if child is None:
                    break
                node = child
                end = wm.end()
            found = None
            for end, entries in reversed(ends):
                for e in entries:
                    if e.level > level:
                        continue
                    if e.not_after and _prev_word(low, a) in e.not_after:
                        continue
                    if e.after_comma and not low[max(0, a - 2):a].rstrip(" \t").endswith(","):
                        continue
                    if e.not_before and _next_word(low, end) in e.not_before:
                        continue
                    found = (end, e)
                    break
                if found:
                    break
            if found:
                yield a, found[0], found[1]
                pos = found[0]


def _terminals(node: dict[str, Any]) -> Iterator[list[PhraseEntry]]:
    for key, child in node.items():
        if key == "":
            yield child
        else:
            yield from _terminals(child)


def _prev_word(low: str, a: int) -> str:
    k = a
    while k > 0 and low[k - 1] in " \t":
        k -= 1
    j = k
    while j > 0 and (low[j - 1].isalnum() or low[j - 1] in "'-"):
        j -= 1
    return low[j:k]


def _next_word(low: str, b: int) -> str:
    k = b
    n = len(low)
    while k < n and low[k] in " \t":
        k += 1
    m = _WORD.match(low, k)
    return m.group() if m else ""
