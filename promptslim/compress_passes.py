"""The compression passes, one pure function each, and the :data:`PASSES` registry.

Every pass has the signature ``pass_x(text, protected_spans, tokenizer, *, level="balanced",
**options) -> (new_text, changes)``: it never alters a protected span, keeps negations and hard
constraints with their clause, applies a rewrite only where the tokenizer confirms it saves tokens
in context, and reports each edit as a :class:`~promptslim.result.Change` whose ``span`` is the
range in the pass's *input*. The linter reuses them (PS101 verbose, PS102 filler, PS103 role
adjectives, PS104 duplicates, PS105 layout).

>>> from promptslim.tokens import get_tokenizer
>>> text = "In order to help, please answer briefly."
>>> out, changes = pass_verbose(text, (), get_tokenizer())
>>> out
'To help, please answer briefly.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from ._toml import load_package_toml
from .compress_articles import pass_articles
from .compress_kit import (
    Edit,
    PassFn,
    PhraseEntry,
    PhraseTable,
    Span,
    apply_edits,
    is_name_position,
    is_sentence_start,
    level_rank,
    match_case,
    removal_edit,
)
from .compress_markup import pass_markup
from .prune import pass_duplicates, pass_prune
from .result import Change
from .spans import find_constraint_spans, lower_same_length, overlaps, word_alternation
from .tokens import Tokenizer

__all__ = [
    "PASSES",
    "PASS_ORDER",
    "pass_layout",
    "pass_markup",
    "pass_verbose",
    "pass_filler",
    "pass_role_adjectives",
    "pass_articles",
    "pass_duplicates",
    "pass_prune",
]

# --------------------------------------------------------------------------------------------
# layout

# Patterns are anchored on a literal or a small character class so the regex engine can skip
# ahead quickly (layout runs on every prompt, twice when compression iterates).
# (the look-behind after the first character makes each run of blanks start a match only once:
# without it 100,000 spaces before a letter take quadratic time)
_TRAILING = re.compile(r"(?m)[ \t](?<![ \t][ \t])[ \t]*(?=\r?$)")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\r?\n){2,}")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\r?\n)+")
_INNER_SPACES = re.compile(r"  +|\t[ \t]+| \t[ \t]*")
# a separator line: 3+ of one decoration character (spaces allowed between), alone on its line,
# taken together with the blank lines after it (the match starts at the line break before it)
_SEPARATOR = re.compile(
    r"\n[ \t]*([-=*_~#+\u2022\u00b7\u2500\u2501\u2550])(?:[ \t]*\1){2,}[ \t]*(?:\r?\n(?:[ \t]*\r?\n)*|\Z)"
)
_HEADING_EMPHASIS = re.compile(r"\n(#{1,6}[ \t]+)(\*\*|__)([^*_\n]{1,300})\2[ \t]*(?=\r?\n|\Z)")
_TRIPLE_EMPHASIS = re.compile(r"\*\*\*([^*\n]{1,300})\*\*\*")
# bold on a label that starts a line or list item ("- **Scope:** ..." or a line "**Rules:**"):
# the line structure and the colon already mark it
_LABEL_EMPHASIS = re.compile(
    r"\n([ \t]*(?:>[ \t]*)*(?:(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+)?)(\*\*|__|\*|_)([^*_\n]{1,120}?)\2"
)


def pass_layout(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                level: str = "balanced", **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Whitespace and decoration waste: trailing spaces, runs of blank lines, runs of inner
    spaces, decorative separator lines, emphasis inside headings and doubled emphasis; from
    ``balanced`` on, bold or italic on line, list-item and quoted-line labels
    ("- **Scope:** ..." -> "- Scope: ...", "> *Note*: ..." -> "> Note: ...").

    Indentation, line breaks, headings and list markers (the structure) are kept; a Markdown
    setext underline (a separator right under text) and YAML front matter are left alone.
    """
    edits: list[Edit] = []
    # (cheap substring checks first: most prompts have no trailing or repeated blanks)
    if " \n" in text or "\t\n" in text or " \r" in text or "\t\r" in text or text.endswith((" ", "\t")):
        for m in _TRAILING.finditer(text):
            edits.append(Edit(m.start(), m.end(), "", "layout", "trailing whitespace"))
    lead = _LEADING_BLANK.match(text)
    if lead and options.get("text_start", True):
        edits.append(Edit(0, lead.end(), "", "layout", "leading blank lines"))
    tail = len(text.rstrip(" \t\r\n"))
    if text.count("\n", tail) >= 2 and options.get("text_end", True):
        nl = "\r\n" if "\r" in text[tail:] else "\n"
        k = text.index("\n", tail)
        edits.append(Edit(k - (text[k - 1] == "\r" and k - 1 >= tail), len(text), nl, "layout",
                          "trailing blank lines"))
    for m in _BLANK_RUN.finditer(text):
        nl = "\r\n" if "\r" in m.group() else "\n"
        edits.append(Edit(m.start(), m.end(), "\n" + nl, "layout", "blank-line run"))
    n = len(text)
    for m in (_INNER_SPACES.finditer(text) if "  " in text or "\t" in text else ()):
        a, b = m.span()
        # between two non-space characters on one line (not indentation, not trailing)
        if a and text[a - 1] not in "\r\n" and b < n and text[b] not in "\r\n" and not (
                is_name_position(text, b) and text[a - 1].islower()):  # "Part \t Description"
            edits.append(Edit(a, b, " ", "layout", "repeated spaces"))
    padded = "\n" + text  # so that line patterns also match on the first line
    for m in _SEPARATOR.finditer(padded):
        a = m.start()  # the separator line starts at a (in text coordinates)
        # only after a blank line (or at the start): right under text it is a setext heading
        if a == 0 or text.endswith("\n\n", 0, a) or text.endswith("\n\r\n", 0, a):
            edits.append(Edit(a, m.end() - 1, "", "layout", "decorative separator"))
    for m in _HEADING_EMPHASIS.finditer(padded):
        edits.append(Edit(m.start(), m.end() - 1, m.group(1) + m.group(3).strip(), "layout", "emphasis inside a heading"))
    cons = options.get("constraint_spans")
    if cons is None and ("**" in text or "__" in text):
        cons = find_constraint_spans(text)
    if level_rank(level) >= 1 and ("*" in text or "_" in text):
        if cons is None:
            cons = find_constraint_spans(text)
        for m in _LABEL_EMPHASIS.finditer(padded):
            a, b = m.start(), m.end() - 1
            if m.group(2) in "*_" and text[b:b + 1] in ("*", "_"):
                continue  # "*x**": not a single-marker label
            k = text.find("\n", b)
            rest = text[b:k if k >= 0 else n]
            # a label: it ends with a colon, a colon follows, or (bold only) it is the whole line
            colon = m.group(3).endswith(":") or rest.startswith(":")
            if (colon or (len(m.group(2)) == 2 and not rest.strip())) and not overlaps(cons, a, b):
                edits.append(Edit(a + len(m.group(1)), b, m.group(3), "layout", "emphasis on a line label"))
    for m in _TRIPLE_EMPHASIS.finditer(text):
        edits.append(Edit(m.start(), m.end(), f"**{m.group(1)}**", "layout", "doubled emphasis"))
    # whitespace between two capitalised words belongs to a name ("Key Points\n\nThe"): keep it;
    # markup inside a negation ("**NO:**") stays with it
    edits = [e for e in edits if (not text[e.start:e.end].isspace() or not _between_capitals(text, e.start, e.end))
             and (text[e.start:e.end].isspace() or not cons or not overlaps(cons, e.start, e.end))]
    # the longest edit wins where two overlap (a separator's blank lines vs a blank-line run);
    # on a tie the one listed first (text start and end rules come first)
    edits.sort(key=lambda e: (e.start, -(e.end - e.start)))
    chosen: list[Edit] = []
    for e in edits:
        if chosen and e.start < chosen[-1].end:
            continue
        chosen.append(e)
    return apply_edits(text, chosen, tokenizer, "layout", min_saved=0, protected=protected_spans)


def _between_capitals(text: str, a: int, b: int) -> bool:
    """True when ``text[a:b]`` is whitespace inside a run of capitalised words on one line (a name,
    as fact checks read it: "Key  Points")."""
    if not text[a:b].isspace():
        return False
    i = a
    while i > 0 and text[i - 1].isspace():
        if text[i - 1] in "\r\n":
            return False
        i -= 1
    if i == 0 or not text[i - 1].islower():
        return False
    k = i - 1
    while k > 0 and text[k - 1].isalpha():
        k -= 1
    if not text[k].isupper():
        return False
    j = b
    while j < len(text) and text[j].isspace():
        if text[j] in "\r\n":
            return False
        j += 1
    return text[j:j + 1].isupper() and text[j + 1:j + 2].islower()


# --------------------------------------------------------------------------------------------
# phrase-table passes


@cache
def _verbose_entries() -> tuple[PhraseEntry, ...]:
    raw = load_package_toml("rules/verbose_phrases.toml")
    entries = []
    for level, table in raw.items():
        rank = level_rank(level)
        for phrase, value in table.items():
            if isinstance(value, str):
                entries.append(PhraseEntry(tuple(phrase.split()), value, rank))
            else:
                entries.append(PhraseEntry(
                    tuple(phrase.split()), value.get("replacement", ""), rank,
                    not_after=frozenset(value.get("not_after", ())),
                    not_before=frozenset(value.get("not_before", ())),
                ))
    return tuple(entries)


@cache
def _verbose_table(rank: int = 2) -> PhraseTable:
    """The verbose-phrase table with the entries up to level ``rank`` (a smaller table scans faster)."""
    return PhraseTable(e for e in _verbose_entries() if e.level <= rank)


@cache
def _filler_entries() -> tuple[PhraseEntry, ...]:
    raw = load_package_toml("rules/filler.toml")["filler"]
    entries = []
    for row in raw:
        rank = level_rank(row.get("level", "balanced"))
        for phrase in row["phrases"]:
            entries.append(PhraseEntry(
                tuple(phrase.split()), row.get("replacement", ""), rank,
                sentence_start=bool(row.get("sentence_start", False)),
                whole_sentence=bool(row.get("whole_sentence", False)),
                not_after=frozenset(row.get("not_after", ())),
                not_before=frozenset(row.get("not_before", ())),
                after_comma=bool(row.get("after_comma", False)),
            ))
    return tuple(entries)


@cache
def _filler_table(rank: int = 2) -> PhraseTable:
    """The filler table with the entries up to level ``rank`` ("and" after a comma, intensifiers
    and the like are aggressive-only and would otherwise be candidates at every level)."""
    return PhraseTable(e for e in _filler_entries() if e.level <= rank)


def _has_inner_capital(matched: str, at_start: bool) -> bool:
    """A capitalised word inside the match (a name or a Title Case heading), not counting the
    first word at a sentence start; ALL-CAPS text is not a name."""
    words = matched.split()
    if all(w.isupper() or not w[:1].isalpha() for w in words if any(c.isalpha() for c in w)):
        return not all(w.isupper() for w in words)
    inner = words[1:] if at_start else words
    return any(w[:1].isupper() for w in inner)


_SENTENCE_END = re.compile(r"[.!?]+[\"')\]\u201d\u2019]*(?=\s|\Z)|[ \t]*(?=\r?\n|\Z)")


def _phrase_pass(text: str, protected: Sequence[Span], tokenizer: Tokenizer, table: PhraseTable,
                 level: str, rule: str, constraints: Sequence[Span] | None) -> tuple[str, tuple[Change, ...]]:
    rank = level_rank(level)
    cons = find_constraint_spans(text) if constraints is None else constraints
    edits: list[Edit] = []
    for a, b, entry in table.find(text, rank):
        if overlaps(protected, a, b) or overlaps(cons, a, b):
            continue
        at_start = is_sentence_start(text, a)
        matched = text[a:b]
        if _has_inner_capital(matched, at_start) or is_name_position(text, a):
            continue
        if entry.sentence_start and not at_start:
            continue
        if entry.whole_sentence:
            end = _SENTENCE_END.match(text, b)
            if not at_start or end is None:
                continue
        why = f"{entry.phrase!r} -> {entry.replacement!r}" if entry.replacement else f"{entry.phrase!r}"
        if entry.replacement:
            repl = match_case(entry.replacement, matched, at_start)
            edits.append(Edit(a, b, repl, "rewrite", why))
        else:
            e = removal_edit(text, a, b, why, protected, cons)
            if e is not None:
                edits.append(e)
    return apply_edits(text, edits, tokenizer, rule, protected=protected)


def pass_verbose(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                 level: str = "balanced", constraint_spans: Sequence[Span] | None = None,
                 **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Verbose phrases -> plain equivalents from ``rules/verbose_phrases.toml``
    ("in order to" -> "to", "due to the fact that" -> "because"), case kept at sentence starts."""
    return _phrase_pass(text, protected_spans, tokenizer, _verbose_table(level_rank(level)), level, "verbose", constraint_spans)


def pass_filler(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                level: str = "balanced", constraint_spans: Sequence[Span] | None = None,
                **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Filler and politeness from ``rules/filler.toml`` ("please", "I would like you to",
    "Thank you!"), deleted cleanly; intensifiers such as "really" only at ``aggressive``."""
    return _phrase_pass(text, protected_spans, tokenizer, _filler_table(level_rank(level)), level, "filler", constraint_spans)


# --------------------------------------------------------------------------------------------
# stacked role adjectives


@cache
def _role_tables() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    raw = load_package_toml("rules/role_adjectives.toml")
    adjs = frozenset(a.replace(" ", "-") for a in raw["adjectives"])
    return adjs, frozenset(raw["intensifiers"]), frozenset(raw["an_exceptions"]), frozenset(raw["a_exceptions"])


def _article(word: str, an_exc: frozenset[str], a_exc: frozenset[str]) -> str:
    w = word.lower()
    if any(w.startswith(x) for x in an_exc):
        return "an"
    if any(w.startswith(x) for x in a_exc):
        return "a"
    return "an" if w[:1] in "aeiou" else "a"


def pass_role_adjectives(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                         level: str = "aggressive", constraint_spans: Sequence[Span] | None = None,
                         **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Stacked role adjectives -> the one nearest the noun ("a highly experienced, world-class,
    expert consultant" -> "an expert consultant"), with the article fixed. ``aggressive`` only."""
    if level_rank(level) < 2:
        return text, ()
    adjs, ints, an_exc, a_exc = _role_tables()
    cons = find_constraint_spans(text) if constraint_spans is None else constraint_spans
    edits: list[Edit] = []
    for a, b, art, kept in _adjective_stacks(text, adjs, ints):
        if overlaps(protected_spans, a, b) or overlaps(cons, a, b):
            continue
        at_start = is_sentence_start(text, a)
        if _has_inner_capital(text[a:b], at_start):
            continue
        if art:
            new_art = _article(kept, an_exc, a_exc)
            if art[0].isupper():
                new_art = new_art.capitalize()
            repl = f"{new_art} {kept}"
        else:
            repl = kept[0].upper() + kept[1:] if at_start and text[a].isupper() else kept
        edits.append(Edit(a, b, repl, "rewrite", f"stacked adjectives: {text[a:b]!r}"))
    return apply_edits(text, edits, tokenizer, "role_adjectives", protected=protected_spans)


_MAX_STACK = 12  # words (adjectives and intensifiers) looked at from a stack's first word
_STACK_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_STACK_SEP = re.compile(r"[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+|[ \t]+")


@cache
def _stack_word_re(adjs: frozenset[str], ints: frozenset[str]) -> re.Pattern[str]:
    """Any role adjective or intensifier as a whole word (for the quick check), built on first use."""
    return re.compile(word_alternation(sorted(adjs | ints), r"-", word_chars="a-z0-9_-"))


def _may_stack(text: str, adjs: frozenset[str], ints: frozenset[str]) -> bool:
    """Quick check: two adjective/intensifier words next to each other, separated as in a stack
    (spaces, a comma, "and"). Most texts have none, which skips the word-by-word scan."""
    low = " " + lower_same_length(text)
    prev_end = -1
    for m in _stack_word_re(adjs, ints).finditer(low):
        if prev_end >= 0 and _STACK_SEP.fullmatch(low, prev_end, m.start(1)):
            return True
        prev_end = m.end(1)
    return False


def _adjective_stacks(text: str, adjs: frozenset[str], ints: frozenset[str]) -> list[tuple[int, int, str, str]]:
    """``(start, end, article, kept_adjective)`` of every stack of 2+ role adjectives before a noun."""
    if not _may_stack(text, adjs, ints):
        return []
    out = []
    words = [m for m in _STACK_WORD.finditer(text) if m.group() != "and"]
    i = 0
    n = len(words)
    while i < n:
        w = words[i].group().lower()
        if w not in adjs and w not in ints:
            i += 1
            continue
        # grow a stack from word i
        j = i
        items = 0
        last_adj = -1
        while j < n and j - i < _MAX_STACK:  # bounded: a run of adjectives without a noun stays linear
            wj = words[j].group().lower()
            if wj in ints and j + 1 < n and _joined(text, words[j], words[j + 1], spaces_only=True):
                j += 1
                continue
            if wj not in adjs:
                break
            items += 1
            last_adj = j
            if j + 1 < n and _joined(text, words[j], words[j + 1]):
                j += 1
                continue
            j += 1
            break
        noun = last_adj + 1
        if items >= 2 and noun < n and _joined(text, words[last_adj], words[noun], spaces_only=True) \
                and words[noun].group().lower() not in adjs:
            a = words[i].start()
            art = ""
            if i > 0 and words[i - 1].group().lower() in ("a", "an") and _joined(text, words[i - 1], words[i], spaces_only=True):
                art = words[i - 1].group()
                a = words[i - 1].start()
            out.append((a, words[last_adj].end(), art, words[last_adj].group()))
            i = noun
        else:
            i += 1
    return out


def _joined(text: str, w1: re.Match[str], w2: re.Match[str], spaces_only: bool = False) -> bool:
    gap = text[w1.end():w2.start()]
    if spaces_only:
        return bool(gap) and gap.strip(" \t") == ""
    return bool(_STACK_SEP.fullmatch(gap))


# --------------------------------------------------------------------------------------------
# registry

PASSES: dict[str, PassFn] = {
    "layout": pass_layout,
    "markup": pass_markup,
    "verbose": pass_verbose,
    "filler": pass_filler,
    "role_adjectives": pass_role_adjectives,
    "articles": pass_articles,
    "duplicates": pass_duplicates,
    "prune": pass_prune,
}

# Which passes each level runs, in order.
PASS_ORDER: dict[str, tuple[str, ...]] = {
    "safe": ("layout", "markup", "verbose"),
    "balanced": ("layout", "markup", "verbose", "filler", "articles", "duplicates"),
    "aggressive": ("layout", "markup", "verbose", "filler", "role_adjectives", "articles", "duplicates", "prune"),
}
