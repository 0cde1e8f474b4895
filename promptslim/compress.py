"""System-prompt compression: ``compress_prompt`` runs small, token-verified passes to a fixed point.

Levels: ``safe`` (layout and verified phrase rewrites), ``balanced`` (default; adds filler and
politeness removal, articles dropped where harmless, and exact duplicate sentences), ``aggressive`` (adds stacked role adjectives,
intensifiers and self-information pruning). Protected spans (code, URLs, e-mails, numbers,
quoted strings, placeholders, tags, ``<keep>`` regions, ``protect=``) are never altered;
negations and hard constraints stay with their clause; the output never has more tokens than the
input; the result is deterministic and, at ``safe`` and ``balanced``, idempotent.

>>> r = compress_prompt("I want you to act as a poet. In order to rhyme, please use short lines.")
>>> r.value
'Act as poet. To rhyme, use short lines.'
>>> r.savings.saved > 0
True
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from .compress_articles import article_skip_zones, has_article, pass_articles
from .compress_kit import LEVELS, Span, SpanMover, level_rank
from .compress_passes import PASS_ORDER, PASSES
from .errors import InputError
from .result import Change, Result, Savings
from .spans import Protect, find_constraint_spans, find_protected_spans
from .tokens import Tokenizer, get_tokenizer

__all__ = ["compress_prompt", "COMPRESSION_LEVELS", "COMPRESSION_BACKENDS", "DEFAULT_MAX_CHARS"]

COMPRESSION_LEVELS = LEVELS
COMPRESSION_BACKENDS = ("rules", "llmlingua2")
DEFAULT_MAX_CHARS = 5_000_000
_MAX_ROUNDS = 8


def compress_prompt(
    text: str,
    level: str = "balanced",
    protect: Iterable[Protect] = (),
    tokenizer: Tokenizer | str | None = None,
    backend: str = "rules",
    *,
    passes: Sequence[str] | None = None,
    near_duplicates: float | None = None,
    embedder: Any = None,
    model: str | None = None,
    rate: float = 0.5,
    max_chars: int | None = DEFAULT_MAX_CHARS,
) -> Result[str]:
    """Compress a system prompt (or any instruction text) and report what changed.

    ``tokenizer`` is a :class:`Tokenizer` or a model name (default ``o200k_base``); every rewrite
    is verified with it. ``passes`` overrides the level's pass list (names from
    :data:`promptslim.compress_passes.PASSES`). ``near_duplicates`` (cosine threshold such as
    0.9) also removes near-duplicate sentences by embedding similarity (extra ``semantic``).
    ``backend="llmlingua2"`` runs LLMLingua-2 (extra ``llmlingua``; ``model`` is a local model
    folder or hub name, ``rate`` the share of tokens to keep) on the unprotected text after the
    rule passes. Text longer than ``max_chars`` raises :class:`InputError`.

    Each change's ``span`` is relative to the text its pass received; ``location`` names the pass
    application (``"pass 3 (filler)"``), so replaying each group of changes in order reproduces
    the output.
    """
    if not isinstance(text, str):
        raise InputError(f"compress_prompt expects a str, got {type(text).__name__}")
    level_rank(level)
    if backend not in COMPRESSION_BACKENDS:
        raise InputError(f"unknown compression backend {backend!r}; choose one of {', '.join(COMPRESSION_BACKENDS)}")
    if max_chars is not None and len(text) > max_chars:
        raise InputError(
            f"prompt has {len(text):,} characters, over the {max_chars:,}-character limit; "
            "pass max_chars=None (or a larger limit) to compress it anyway"
        )
    tok = get_tokenizer(tokenizer)
    if isinstance(protect, str):
        protect = (protect,)
    protect = tuple(protect)
    if not text:
        return Result("", Savings(0, 0, tok.name, tok.exact), ())
    order = tuple(PASS_ORDER[level] if passes is None else passes)
    unknown = [p for p in order if p not in PASSES]
    if unknown:
        raise InputError(f"unknown compression passes {unknown}; known: {', '.join(PASSES)}")
    if near_duplicates is not None and "duplicates" not in order:
        order = order + ("duplicates",)

    before = tok.count(text)
    cur, changes = _run_rules(text, order, level, protect, tok, near_duplicates, embedder)
    if backend == "llmlingua2":
        from .backends.llmlingua import llmlingua2_pass

        spans = find_protected_spans(cur, protect)
        new, ch = llmlingua2_pass(cur, spans, tok, model=model, rate=rate, level=level)
        if ch:
            k = len({c.location for c in changes}) + 1
            changes.extend(dataclasses.replace(c, location=f"pass {k} (llmlingua2)") for c in ch)
            cur = new
    after = tok.count(cur) if changes else before
    if after > before:  # never longer: a pathological interaction of edits; give the input back
        return Result(text, Savings(before, before, tok.name, tok.exact), ())
    return Result(cur, Savings(before, after, tok.name, tok.exact), tuple(changes))


# Passes whose decisions depend only on the line they edit (and, for layout, the lines around
# it): after the first round they re-run only on the lines the previous round changed.
_LOCAL_PASSES = frozenset({"layout", "verbose", "filler", "role_adjectives", "prune"})
# Passes that judge an edit by context beyond its lines (duplicates: the whole text; articles: the
# paragraph's language and the template section it sits in): later rounds re-run them on the whole
# text whenever it changed since they last ran without changing it.
_WHOLE_PASSES = frozenset({"duplicates", "articles"})
# Local passes decide an edit from its own line only (verbose, filler, role adjectives, prune:
# phrases, sentence starts, token windows and constraint spans never cross a line break), except
# layout, which looks up to _LAYOUT_REACH lines around (blank-line runs, separators, names split
# over lines). After the first round they re-run only on the lines the previous round changed,
# layout with 2 * _LAYOUT_REACH lines of context whose edits near a cut block edge are dropped.
_LAYOUT_REACH = 2
# Blocks of a line-local pass at most this many characters apart run as one block (a pass run
# costs about as much as scanning a few hundred characters).
_JOIN_GAP = 400


def _run_rules(text: str, order: Sequence[str], level: str, protect: tuple[Protect, ...], tok: Tokenizer,
               near_duplicates: float | None, embedder: Any, *,
               incremental: bool = True) -> tuple[str, list[Change]]:
    """Run the passes in order, round after round, until a round changes nothing: a fixed point,
    which makes compression idempotent. Round 1 covers the whole text; later rounds re-check only
    the lines around the previous round's edits (local passes; one run from the first such line to
    the last while the round has changed nothing yet), re-run the articles pass on the lines
    changed since it last ran or whose skip zones moved, and re-run the duplicate search when the
    text changed since it last ran. ``incremental=False`` runs local passes block by block and the
    articles pass on every line, which gives the same result (tests compare the two)."""
    state = _State(text, order, level, protect, tok, near_duplicates, embedder)
    state.prot = find_protected_spans(text, protect)
    state.cons = find_constraint_spans(text, state.window)
    for name in order:
        if name == "articles":
            state.run_articles(False)
            continue
        new, ch = PASSES[name](state.text, state.prot, tok, **state.options(name, state.cons))
        if name in _WHOLE_PASSES:  # clean unless it changed something (units may re-split)
            state.whole_version[name] = -1 if ch else state.version
        if ch:
            state.record(name, new, ch)
    whole = [name for name in order if name in _WHOLE_PASSES]
    for _ in range(_MAX_ROUNDS - 1):
        state.round_dirty, state.dirty = state.dirty, []
        state.block_cache.clear()
        if not state.round_dirty and all(state.whole_version[name] == state.version for name in whole):
            break
        for name in order:
            if name in _WHOLE_PASSES:
                if state.whole_version[name] == state.version:
                    continue
                if name == "articles":
                    state.run_articles(incremental)
                    continue
                cons = None if name == "duplicates" else state.cons
                new, ch = PASSES[name](state.text, state.prot, tok, **state.options(name, cons))
                state.whole_version[name] = -1 if ch else state.version
                if ch:
                    state.record(name, new, ch)
                continue
            if state.round_dirty:
                reach = _LAYOUT_REACH if name == "layout" else 0
                blocks = state.blocks(2 * reach)
                if incremental and not reach and len(blocks) > 1 and not state.dirty:
                    # blocks a few lines apart run as one: while this round has changed nothing
                    # yet, the lines between were seen by this pass as they are and gave no edit,
                    # so they give none again (fewer, longer runs cost less than many short ones)
                    blocks = _join_close(blocks, _JOIN_GAP)
                state.run_on_blocks(name, blocks, reach)
    return state.text, state.changes


class _State:
    """The text being compressed, the changes so far and the ranges the current round touched."""

    def __init__(self, text: str, order: Sequence[str], level: str, protect: tuple[Protect, ...],
                 tok: Tokenizer, near_duplicates: float | None, embedder: Any) -> None:
        self.text = text
        self.level = level
        self.protect = protect
        self.tok = tok
        self.near = near_duplicates
        self.embedder = embedder
        self.changes: list[Change] = []
        self.dirty: list[Span] = []
        self.version = 0
        self.applied = 0
        # words kept after a negation or hard constraint (None: the rules/spans.toml default, 3;
        # a shorter window at aggressive measured +0.1 point of savings for 1.2 points of facts)
        self.window: int | None = None
        # protected and constraint spans of the whole text, found once and moved with every edit
        # (edits never touch protected spans, so moving them is exact)
        self.prot: tuple[Span, ...] = ()
        self.round_dirty: list[Span] = []  # ranges the previous round changed, moved with this round's edits
        self.cons: tuple[Span, ...] = ()
        self.whole_version: dict[str, int] = {}  # text version a whole-text pass last left unchanged
        # for the articles pass: its skip zones and the ranges changed since it last ran, both
        # moved with every edit
        self.art_zones: tuple[Span, ...] = ()
        self.art_dirty: list[Span] = []
        self.block_cache: dict[tuple[int, int], list[Span]] = {}

    def options(self, name: str, cons: Sequence[Span] | None) -> dict[str, Any]:
        opts: dict[str, Any] = {"level": self.level, "constraint_spans": cons}
        if name == "duplicates" and self.near is not None:
            opts["threshold"] = self.near
            opts["embedder"] = self.embedder
        return opts

    def record(self, name: str, new: str, ch: Sequence[Change]) -> None:
        self.applied += 1
        loc = f"pass {self.applied} ({name})"
        self.changes.extend(Change(c.kind, c.rule, loc, c.span, c.before, c.after, c.tokens_saved, c.reason)
                            for c in ch)
        mover = SpanMover(ch)
        self.prot = mover.move(self.prot)
        self.cons = mover.move(self.cons)
        out = _output_ranges(ch)
        self.dirty = list(mover.move(self.dirty, True)) + out
        self.round_dirty = list(mover.move(self.round_dirty, True))
        self.art_zones = mover.move(self.art_zones)
        self.art_dirty = list(mover.move(self.art_dirty, True)) + out
        self.block_cache.clear()
        self.text = new
        self.version += 1

    def blocks(self, context: int) -> list[Span]:
        """:func:`_blocks` of the previous round's dirty ranges, reused by the passes of this round
        until one of them changes the text."""
        key = (self.version, context)
        got = self.block_cache.get(key)
        if got is None:
            got = self.block_cache[key] = _blocks(self.text, self.round_dirty, context)
        return got

    def run_articles(self, incremental: bool) -> None:
        """Run the articles pass with its skip zones computed on the whole text: on the lines where
        its decisions may differ from its last run (``incremental``) or on every line."""
        if level_rank(self.level) < 1 or not has_article(self.text):
            self.whole_version["articles"] = self.version  # nothing to drop, whatever the zones
            self.art_zones, self.art_dirty = (), []  # (empty zones: a later run re-checks every zone)
            return
        zones = article_skip_zones(self.text)
        lines = self.article_lines(zones) if incremental else None
        new, ch = pass_articles(self.text, self.prot, self.tok, level=self.level, constraint_spans=self.cons,
                                skip_spans=zones, lines=lines)
        self.whole_version["articles"] = -1 if ch else self.version
        self.art_zones, self.art_dirty = zones, []
        if ch:
            self.record("articles", new, ch)

    def article_lines(self, zones: tuple[Span, ...]) -> list[Span]:
        """The lines where a whole-text articles run could decide differently from its last run:
        lines changed since (with the line before each: a setext underline below a line makes it a
        heading) and lines whose skip ``zones`` differ from the last run's, moved with the edits."""
        moved = set(self.art_zones)
        ranges = list(self.art_dirty)
        ranges.extend(z for z in zones if z not in moved)
        new = set(zones)
        ranges.extend(z for z in self.art_zones if z not in new)
        return _blocks(self.text, ranges, 0, before=1)

    def run_on_blocks(self, name: str, blocks: Sequence[Span], reach: int) -> None:
        """Run a local pass on each block of whole lines and record one combined change list in
        full-text coordinates. Edits within ``reach`` lines of a block edge that is not the text's
        edge are dropped: their context is cut there."""
        text = self.text
        pieces: list[str] = []
        pos = 0
        all_ch: list[Change] = []
        for a, b in blocks:
            sub = text[a:b]
            opts = self.options(name, _clip(self.cons, a, b))
            opts["text_start"] = a == 0
            opts["text_end"] = b == len(text)
            new_sub, ch = PASSES[name](sub, _clip(self.prot, a, b), self.tok, **opts)
            if ch and reach:
                lo = 0 if a == 0 else _nth_line_start(sub, reach)
                hi = len(sub) if b == len(text) else _nth_line_end_from_back(sub, reach)
                kept = tuple(c for c in ch if c.span and lo <= c.span[0] and c.span[1] <= hi)
                if len(kept) != len(ch):
                    ch = kept
                    new_sub = _apply(sub, ch)
            pieces.append(text[pos:a])
            pieces.append(new_sub)
            pos = b
            if ch:
                all_ch.extend(Change(c.kind, c.rule, c.location, (c.span[0] + a, c.span[1] + a), c.before, c.after,
                                     c.tokens_saved, c.reason) for c in ch if c.span)
        if all_ch:
            pieces.append(text[pos:])
            self.record(name, "".join(pieces), all_ch)


def _clip(spans: Sequence[Span], a: int, b: int) -> tuple[Span, ...]:
    """``spans`` (sorted, disjoint) that overlap ``[a, b)``, cut to it, relative to ``a``."""
    i = bisect.bisect_right(spans, (a, a)) - 1
    i = max(i, 0)
    out = []
    while i < len(spans) and spans[i][0] < b:
        x, y = spans[i]
        if y > a:
            out.append((max(x, a) - a, min(y, b) - a))
        i += 1
    return tuple(out)


def _join_close(blocks: Sequence[Span], gap: int) -> list[Span]:
    """Sorted disjoint ``blocks`` with those at most ``gap`` characters apart joined."""
    out = [blocks[0]]
    for a, b in blocks[1:]:
        if a - out[-1][1] <= gap:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _nth_line_start(text: str, k: int) -> int:
    """Index where line ``k`` (0-based) of ``text`` starts, or ``len(text)``."""
    pos = 0
    for _ in range(k):
        j = text.find("\n", pos)
        if j < 0:
            return len(text)
        pos = j + 1
    return pos


def _nth_line_end_from_back(text: str, k: int) -> int:
    """Index just after the line that is ``k`` lines before the last line of ``text`` (which ends
    with a line break or the text end), or 0."""
    end = len(text)
    if text.endswith("\n"):
        end -= 1
    for _ in range(k):
        j = text.rfind("\n", 0, end)
        if j < 0:
            return 0
        end = j
    return end + 1 if end < len(text) else end


def _apply(text: str, changes: Sequence[Change]) -> str:
    """``text`` with non-overlapping ``changes`` (spans in ``text``) applied."""
    out: list[str] = []
    pos = 0
    for c in changes:
        assert c.span is not None
        out.append(text[pos:c.span[0]])
        out.append(c.after)
        pos = c.span[1]
    out.append(text[pos:])
    return "".join(out)


def _output_ranges(changes: Sequence[Change]) -> list[Span]:
    """Where each change's replacement text sits in the pass's output."""
    out = []
    delta = 0
    for c in changes:
        assert c.span is not None
        start = c.span[0] + delta
        out.append((start, start + len(c.after)))
        delta += len(c.after) - (c.span[1] - c.span[0])
    return out


def _blocks(text: str, dirty: Sequence[Span], context: int, before: int = 0) -> list[Span]:
    """Runs of whole lines around the dirty ranges with ``context`` lines each side (and ``before``
    more lines before), merged, sorted."""
    n = len(text)
    out: list[list[int]] = []
    reach = -1  # the furthest dirty end merged into the last block
    for a, b in sorted(dirty):
        hi = b if b > a else a
        if hi <= reach:
            continue  # its lines and context are already in the last block
        reach = hi
        start = text.rfind("\n", 0, a if a < n else n) + 1
        for _ in range(context + before):
            if start == 0:
                break
            start = text.rfind("\n", 0, start - 1) + 1
        end = hi
        for _ in range(context + 1):
            k = text.find("\n", end)
            if k < 0:
                end = n
                break
            end = k + 1
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]
