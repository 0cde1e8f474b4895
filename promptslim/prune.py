"""Lossy passes: duplicate-sentence removal and self-information pruning.

``pass_duplicates`` drops a sentence that repeats an earlier one (exactly after normalisation, or
by embedding similarity with the ``semantic`` extra and a ``threshold``). ``pass_prune`` drops the
least informative words, Selective-Context style but without a language model: a word's
self-information is ``-log p(word)`` from ``wordfreq`` English frequencies, and the most frequent
words (articles, auxiliaries, common prepositions) go first. Protected spans, negations and hard
constraints, numbers and capitalised names are never dropped.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from functools import cache
from typing import Any

from ._toml import load_package_toml
from .compress_kit import (
    Edit,
    Span,
    apply_edits,
    is_name_position,
    is_sentence_start,
    level_rank,
    removal_edit,
)
from .result import Change
from .sentences import add_trimmed, sentence_spans
from .spans import find_constraint_spans, overlaps
from .tokens import Tokenizer

__all__ = ["pass_duplicates", "pass_prune", "prune_candidates"]

_LABEL = re.compile(r"[ \t]*(?:[-*+>\u2022]|\d{1,3}[.)])?[ \t]*[\w '()]{1,24}:(?:\s|$)")
_LIST_MARKER = re.compile(r"[ \t]*(?:(?:[-*+>\u2022]|\d{1,3}[.)]|[A-Za-z][.)])[ \t]+)*")
_CAP_WORD = re.compile(r"\b[A-Z][a-z]+")


@cache
def _cheap_split() -> re.Pattern[str]:
    """A cheap split at every place the sentence splitter (plus line breaks) could split, and more:
    after sentence-end punctuation (and closing quotes) plus whitespace, at line-break runs and
    after CJK full stops; written with one leading character class so the regex engine skips
    ahead fast, and compiled on first use."""
    return re.compile(
        r"[.!?\r\n\u3002\uff01\uff1f](?:(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|(?<=[\r\n])[\r\n]*|(?<=[\u3002\uff01\uff1f]))"
    )


_BLANKS = re.compile(r"\t[ \t]*| [ \t]+")  # runs of blanks other than a single space
_EDGE = string.punctuation + " \t\u2022\u00b7\u2013\u2014\u2026\u201c\u201d\u2018\u2019"


def _key(unit: str) -> str:
    """Normalised form for exact duplicates: case, runs of whitespace, punctuation at the edges."""
    return " ".join(unit.lower().split()).strip(_EDGE)


def _repeat_lines(text: str) -> list[Span]:
    """Lines holding a piece (two words or more) that occurs twice or more in a finer split than
    the sentence splitter's: only there can a unit repeat, since a repeated unit repeats its
    pieces. Most prompts have none, which skips the sentence splitter; a repeat made only of
    one-word pieces ("A. B. C. D. E.") is not looked for."""
    # fast check first, on the whole text at once: does any piece of two words or more repeat?
    keys = [p.strip(_EDGE) for p in _cheap_split().split(_BLANKS.sub(" ", text.lower()))]
    seen_keys: set[str] = set()
    if not any(" " in k and (k in seen_keys or seen_keys.add(k)) for k in keys):  # type: ignore[func-returns-value]
        return []
    first: dict[str, int] = {}
    starts: list[int] = []
    pos = 0
    n = len(text)
    for m in _cheap_split().finditer(text + "\n"):
        key = _key(text[pos:min(m.start(), n)])
        if " " in key:
            if key in first:
                if first[key] >= 0:
                    starts.append(first[key])
                    first[key] = -1
                starts.append(pos)
            else:
                first[key] = pos
        pos = m.end()
    lines: list[Span] = []
    for p in sorted(set(starts)):
        a = text.rfind("\n", 0, p) + 1
        b = text.find("\n", p)
        b = n if b < 0 else b
        if not lines or a > lines[-1][1]:
            lines.append((a, b))
    return lines


def _units(text: str, lines: Sequence[Span] | None = None) -> list[Span]:
    """Sentences, further cut at line breaks (a list item or a line is its own unit); only within
    ``lines`` when given."""
    if lines is not None:
        return [(a + x, a + y) for a, b in lines for x, y in _units(text[a:b])]
    out = []
    for a, b in sentence_spans(text):
        pos = a
        while True:
            nl = text.find("\n", pos, b)
            end = b if nl < 0 else nl
            add_trimmed(out, text, pos, end)
            if nl < 0:
                break
            pos = nl + 1
    return out


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\r?\n\s*")
# (one way to match the blanks before the label: "[ \t]*#*[ \t]*" was quadratic on a run of spaces)
_BLOCK_LABEL = re.compile(r"[ \t]*(?:#+[ \t]*)?([A-Za-z][\w ]{0,24}?)[ \t]*\d*[ \t]*:")


def _example_blocks(text: str) -> tuple[Span, ...]:
    """Paragraphs that open with a label shared by another paragraph ("Q:", "Example 2:",
    "Input:"): few-shot examples, whose repeated lines ("So the answer is (A).") are structure."""
    paras: list[tuple[int, int]] = []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        paras.append((pos, m.start()))
        pos = m.end()
    paras.append((pos, len(text)))
    labels: dict[str, list[Span]] = {}
    for a, b in paras:
        lab = _BLOCK_LABEL.match(text, a, b)
        if lab:
            labels.setdefault(lab.group(1).lower(), []).append((a, b))
    return tuple(sorted(p for group in labels.values() if len(group) > 1 for p in group))


def _unit_removal(text: str, a: int, b: int, reason: str, protected: Sequence[Span]) -> Edit | None:
    ls = text.rfind("\n", 0, a) + 1
    le = text.find("\n", b)
    le = len(text) if le < 0 else le
    if _LIST_MARKER.fullmatch(text, ls, a) and not text[b:le].strip():
        end = le + 1 if le < len(text) else le
        start = ls
        if le == len(text) and start > 0:  # last line without a line break: take the one before it
            start -= 1
        return Edit(start, end, "", "remove", reason)
    return removal_edit(text, a, b, reason, protected)


def pass_duplicates(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                    level: str = "balanced", threshold: float | None = None, min_words: int = 5,
                    embedder: Any = None, keep_facts: bool | None = None,
                    constraint_spans: Sequence[Span] | None = None,
                    **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Drop sentences (or list items) that repeat an earlier one.

    Exact duplicates are found after normalisation (case, runs of spaces, punctuation and list
    markers at the edges). With
    ``threshold`` (cosine similarity, e.g. 0.9) near-duplicates are found by sentence embeddings
    (extra ``semantic``; ``embedder`` defaults to :func:`promptslim.backends.embeddings.get_embedder`).
    Units shorter than ``min_words`` words, labelled lines of few-shot examples ("A: ..."), and
    units holding a protected span are kept. ``keep_facts`` (default: on below ``aggressive``) also
    keeps repeats holding a negation, hard constraint or capitalised name, since each copy counts.
    """
    rank = level_rank(level)
    if rank < 1:
        return text, ()
    lines = None
    if threshold is None:
        lines = _repeat_lines(text)
        if not lines:
            return text, ()
    keep_facts = rank < 2 if keep_facts is None else keep_facts
    units = _units(text, lines)
    if threshold is None:  # only units whose key repeats can be exact duplicates: check those alone
        count: dict[str, int] = {}
        keyed = [(a, b, _key(text[a:b])) for a, b in units]
        for _, _, k in keyed:
            count[k] = count.get(k, 0) + 1
        units = [(a, b) for a, b, k in keyed if count[k] > 1]
        if len(units) < 2:
            return text, ()
    cons = (find_constraint_spans(text) if constraint_spans is None else constraint_spans) if keep_facts else ()
    examples = _example_blocks(text)
    eligible: list[tuple[int, int, str]] = []
    for a, b in units:
        if examples and overlaps(examples, a, b):
            continue
        unit = text[a:b]
        if len(unit.split()) < min_words or _LABEL.match(unit):
            continue
        if overlaps(protected_spans, a, b):
            continue
        if keep_facts and (overlaps(cons, a, b) or any(is_name_position(text, a + m.start())
                                                        for m in _CAP_WORD.finditer(unit))):
            continue
        eligible.append((a, b, _key(unit)))
    if len(eligible) < 2:
        return text, ()
    dup: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for a, b, key in eligible:
        if key in seen:
            dup.append((a, b, "repeats an earlier sentence"))
        seen.add(key)
    if threshold is not None:
        dup = _near_duplicates(text, eligible, threshold, embedder, {(a, b) for a, b, _ in dup}) + dup
        dup.sort()
    edits = [e for a, b, why in dup if (e := _unit_removal(text, a, b, why, protected_spans)) is not None]
    return apply_edits(text, edits, tokenizer, "duplicates", protected=protected_spans)


def _near_duplicates(text: str, eligible: list[tuple[int, int, str]], threshold: float, embedder: Any,
                     exact: set[tuple[int, int]]) -> list[tuple[int, int, str]]:
    if not 0.0 < threshold <= 1.0:
        from .errors import InputError

        raise InputError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
    if embedder is None:
        from .backends.embeddings import get_embedder

        embedder = get_embedder()
    mat = embedder.embed_matrix([text[a:b] for a, b, _ in eligible])
    sims = mat @ mat.T
    out = []
    for i, (a, b, _) in enumerate(eligible):
        if (a, b) in exact or i == 0:
            continue
        j = int(sims[i, :i].argmax())
        best = float(sims[i, j])
        if best >= threshold:
            out.append((a, b, f"near-duplicate of {text[eligible[j][0]:eligible[j][1]]!r} (cosine {best:.2f})"))
    return out


# --------------------------------------------------------------------------------------------
# self-information pruning


@cache
def prune_candidates(zipf_threshold: float | None = None) -> frozenset[str]:
    """Lower-case function words whose self-information is low enough to prune: English Zipf
    frequency at or above ``zipf_threshold`` (default from ``rules/prune.toml``), minus the
    never-prune list."""
    table = load_package_toml("rules/prune.toml")
    thr = float(table["zipf_threshold"] if zipf_threshold is None else zipf_threshold)
    try:
        from wordfreq import zipf_frequency
    except ImportError as exc:  # pragma: no cover - wordfreq is a core dependency
        from .errors import MissingExtraError

        raise MissingExtraError("self-information pruning", "core (wordfreq)", exc) from exc
    keep = set(table["keep"])
    return frozenset(w for w in table["function_words"] if w not in keep and zipf_frequency(w, "en") >= thr)


_PRUNE_WORD = re.compile(r"[A-Za-z]+(?:['\u2019-][A-Za-z]+)*")
_OPENERS = "([{\"'\u201c\u2018"


def pass_prune(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
               level: str = "aggressive", zipf_threshold: float | None = None,
               constraint_spans: Sequence[Span] | None = None,
               **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Drop the least informative words (highest English frequency) line by line; ``aggressive``
    only. Never drops protected spans, negations/constraints and their neighbours, capitalised
    words inside a sentence, numbers, or words glued to other symbols; keeps headings as they are.
    One change per dropped word, applied only where the tokenizer confirms it saves tokens."""
    if level_rank(level) < 2:
        return text, ()
    cands = prune_candidates(zipf_threshold)
    cons = find_constraint_spans(text) if constraint_spans is None else constraint_spans
    edits: list[Edit] = []
    pos = 0
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        le = n if nl < 0 else nl
        edits.extend(_prune_line(text, pos, le, cands, protected_spans, cons))
        pos = le + 1
    return apply_edits(text, edits, tokenizer, "prune", protected=protected_spans)


def _prune_line(text: str, ls: int, le: int, cands: frozenset[str], protected: Sequence[Span],
                cons: Sequence[Span]) -> list[Edit]:
    line = text[ls:le]
    if not line.strip() or line.lstrip().startswith(("#", "|", "```", "~~~")):
        return []
    words = list(_PRUNE_WORD.finditer(text, ls, le))
    if len(words) < 3:
        return []
    drops: list[tuple[int, int]] = []  # absolute ranges to delete
    capitalize: list[int] = []
    dropped_words: list[str] = []
    for idx, m in enumerate(words):
        w = m.group()
        lw = w.lower().replace("\u2019", "'")
        if lw not in cands:
            continue
        a, b = m.span()
        if overlaps(protected, a, b) or overlaps(cons, a, b):
            continue
        at_start = False
        if w[0].isupper():
            if len(w) > 1 and w.isupper():
                continue
            at_start = is_sentence_start(text, a)
            if not at_start:
                continue
        left_space = a == ls or text[a - 1] in " \t"
        right_space = b == le or text[b] in " \t"
        if left_space and right_space:
            k = b
            while k < le and text[k] in " \t":
                k += 1
            rng = (a, k) if k < le else (_back_spaces(text, a, ls), b)
        elif left_space and text[b] in ",.;:!?" and a > ls and _back_spaces(text, a, ls) > ls \
                and text[_back_spaces(text, a, ls) - 1].isalnum():
            rng = (_back_spaces(text, a, ls), b)
        elif right_space and text[a - 1] in _OPENERS:
            k = b
            while k < le and text[k] in " \t":
                k += 1
            rng = (a, k)
        else:
            continue
        if drops and rng[0] < drops[-1][1]:
            continue
        if at_start:
            nxt = words[idx + 1] if idx + 1 < len(words) else None
            if nxt is None or nxt.start() != rng[1] or overlaps(protected, nxt.start(), nxt.start() + 1):
                continue
            if nxt.group()[0].islower():
                capitalize.append(nxt.start())
        drops.append(rng)
        dropped_words.append(w)
    if not drops or len(dropped_words) > len(words) - 2:
        return []
    caps = set(capitalize)
    edits = []
    for (a, b), w in zip(drops, dropped_words, strict=True):
        if b in caps:  # the next word now starts the sentence: re-capitalise it in the same edit
            edits.append(Edit(a, b + 1, text[b].upper(), "prune", f"dropped {w!r}"))
        else:
            edits.append(Edit(a, b, "", "prune", f"dropped {w!r}"))
    return edits


def _back_spaces(text: str, a: int, ls: int) -> int:
    while a > ls and text[a - 1] in " \t":
        a -= 1
    return a
