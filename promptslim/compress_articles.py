"""Article dropping (the ``articles`` compression pass, ``balanced`` and up).

"the", "a" and "an" carry almost no meaning in instructions to an LLM ("Summarize the text in a
table" reads the same as "Summarize text in table"), so ``balanced`` drops them where that is
provably harmless: in English prose only (a per-paragraph stopword test: "a" is a word in Spanish,
Portuguese, Italian and French), never in protected spans, constraint clauses, headings, table
rows, indented code, template or few-shot blocks ("Output format:", "Example 1:", paragraphs
sharing a "Q:" label), never before a capitalised word, a number, a closed-class word or a letter
variable ("option a"), never in a fixed expression that needs it ("a few", "at a time", "once a
day"), and only where the tokenizer confirms the saving. All word lists are in
``rules/articles.toml``.

>>> from promptslim.tokens import get_tokenizer
>>> pass_articles("Summarize the text in a table. The answer must be short.", (), get_tokenizer())[0]
'Summarize text in table. Answer must be short.'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._toml import load_package_toml
from .compress_kit import Edit, Span, apply_edits, is_sentence_start, level_rank, non_space_run
from .result import Change
from .spans import find_constraint_spans, merge_spans, overlaps
from .tokens import Tokenizer

__all__ = ["pass_articles", "article_skip_zones", "is_english", "has_article"]

# an article as a whole word (not inside a word, path, handle or identifier), one blank, then a
# word: every part is a literal or a single character class, so the scan is linear (the leading
# look-ahead, implied by the rest, rejects most positions before the costlier look-behind runs)
_ARTICLE = re.compile(
    r"(?=[tTaA][hHnN \t])(?<![\w'\u2019./@#$%&*+=<>\\-])(the|The|THE|an|An|AN|a|A)[ \t]([A-Za-z][a-z0-9'\u2019-]*)"
)
_WORDS = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\r?\n")
_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]")
_AFTER_WORD_BAD = frozenset("_=([{<>/\\@#$%^&*+|~`")
_NEXT_WORDS = re.compile(r"[ \t]+([A-Za-z][a-z'\u2019-]*)")


@dataclass(frozen=True, slots=True)
class _Rules:
    blocklist: frozenset[str]
    a_label_after: frozenset[str]
    keep_after: frozenset[str]
    # keep-list expressions as (words before, words after) by (article, next word) or, for those
    # ending at the article, by (article, previous word)
    phrases_by_next: dict[tuple[str, str], tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]
    phrases_by_prev: dict[tuple[str, str], tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]
    english: frozenset[str]
    foreign: frozenset[str]
    min_share: float
    max_foreign: float
    min_words: int
    label_re: re.Pattern[str]
    heading_re: re.Pattern[str]
    articles: frozenset[str]


@cache
def _rules() -> _Rules:
    t = load_package_toml("rules/articles.toml")
    arts = set(t["articles"])
    by_next: dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    by_prev: dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for p in t["keep_phrases"]:
        words = p.lower().split()
        for i, w in enumerate(words):
            if w in arts:
                pre, post = tuple(words[:i]), tuple(words[i + 1:])
                if post:
                    by_next.setdefault((w, post[0]), []).append((pre, post))
                elif pre:
                    by_prev.setdefault((w, pre[-1]), []).append((pre, post))
    labels = sorted({x.lower() for x in t["template_labels"]}, key=len, reverse=True)
    alt = "|".join(re.escape(x).replace(r"\ ", r"[ \t]+") for x in labels)
    # a label line: markup, the label (a number may follow), markup, a colon
    label_re = re.compile(rf"(?im)^[ \t>*_#+-]{{0,12}}(?:{alt})(?:[ \t]{{1,4}}\d{{1,3}})?[ \t]*[*_]{{0,3}}[ \t]*:")
    hwords = "|".join(re.escape(x) for x in t["template_heading_words"])
    heading_re = re.compile(rf"(?i)\b(?:{hwords})\b")
    return _Rules(
        blocklist=frozenset(t["next_word_blocklist"]), a_label_after=frozenset(t["a_label_after"]),
        keep_after=frozenset(t["keep_after"]),
        phrases_by_next={k: tuple(v) for k, v in by_next.items()},
        phrases_by_prev={k: tuple(v) for k, v in by_prev.items()},
        english=frozenset(t["english_words"]), foreign=frozenset(t["foreign_words"]),
        min_share=float(t["min_english_share"]), max_foreign=float(t["max_foreign_ratio"]),
        min_words=int(t["min_words"]), label_re=label_re, heading_re=heading_re,
        articles=frozenset(t["articles"]),
    )



def _counts(text: str) -> tuple[int, int, int]:
    """Words (articles not counted), English function words, other languages' function words."""
    r = _rules()
    words = _WORDS.findall(text.lower())
    n = len(words) - sum(map(r.articles.__contains__, words))
    return n, sum(map(r.english.__contains__, words)), sum(map(r.foreign.__contains__, words))


_COUNTS: dict[str, tuple[int, int, int]] = {}
_COUNTS_MAX_CHARS = 2_000_000  # memo size bound: it is emptied when its keys exceed this
_counts_chars = 0


def _para_counts(para: str) -> tuple[int, int, int]:
    """:func:`_counts` of one paragraph, memoised: compression asks again for the paragraphs its
    later rounds did not change, or changed only by dropping articles (see :func:`_carry_counts`)."""
    got = _COUNTS.get(para)
    if got is None:
        got = _counts(para)
        _remember(para, got)
    return got


def _remember(para: str, counts: tuple[int, int, int]) -> None:
    """Memoise ``counts`` for ``para``, keeping the memo's keys under ``_COUNTS_MAX_CHARS``."""
    global _counts_chars
    if len(para) > _COUNTS_MAX_CHARS // 8:
        return  # a huge paragraph: counted again if asked again, not kept
    if _counts_chars + len(para) > _COUNTS_MAX_CHARS:
        _COUNTS.clear()
        _counts_chars = 0
    _COUNTS[para] = counts
    _counts_chars += len(para)


def _carry_counts(text: str, out: str, changes: Sequence[Change]) -> None:
    """Memoise the counts of the paragraphs of ``out`` (this pass's output) from those of ``text``:
    dropping an article joins no words and moves no paragraph break, so a paragraph's counts
    change only by the dropped articles' own (articles are not words, but may be listed as
    English or foreign function words)."""
    r = _rules()
    dropped = [(c.span[0], c.span[1], c.after, c.before.split()[0].lower()) for c in changes if c.span]
    i = 0
    pos = 0
    for m in itertools.chain(_PARAGRAPH_BREAK.finditer(text), (None,)):
        b = len(text) if m is None else m.start()
        pieces: list[str] = []
        words: list[str] = []
        cur = pos
        while i < len(dropped) and dropped[i][0] < b:
            x, y, after, word = dropped[i]
            pieces.append(text[cur:x])
            pieces.append(after)
            cur = y
            words.append(word)
            i += 1
        old = _COUNTS.get(text[pos:b]) if words else None
        if old is not None:
            pieces.append(text[cur:b])
            n, en, fo = old
            en -= sum(map(r.english.__contains__, words))
            fo -= sum(map(r.foreign.__contains__, words))
            _remember("".join(pieces), (n, en, fo))
        if i >= len(dropped) or m is None:
            break
        pos = m.end()


def has_article(text: str) -> bool:
    """Whether ``text`` has an article the pass would look at (an article, a blank, a letter)."""
    return _ARTICLE.search(text) is not None


def _verdict(n: int, en: int, fo: int) -> bool:
    r = _rules()
    return n > 0 and en >= r.min_share * n and fo <= r.max_foreign * en


def is_english(text: str) -> bool:
    """The paragraph test: enough common English function words, few of other languages'."""
    return _verdict(*_counts(text))


def article_skip_zones(text: str) -> tuple[Span, ...]:
    """Ranges of ``text`` where articles stay: paragraphs that are not English prose, template and
    few-shot blocks (a label line such as "Output format:" or "Example 2:" to the next blank line,
    a section under a heading naming examples or a format, paragraphs sharing a "Q:"-style label).
    Computed once on a whole prompt, then carried through the other passes' edits."""
    from .prune import _example_blocks

    r = _rules()
    zones: list[Span] = []
    paras: list[Span] = []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        paras.append((pos, m.start()))
        pos = m.end()
    paras.append((pos, len(text)))
    doc: bool | None = None
    for a, b in paras:
        if _ARTICLE.search(text, a, b) is None:
            continue  # no article to keep or drop: no verdict needed
        n, en, fo = _para_counts(text[a:b])
        if n < r.min_words:
            if doc is None:
                # the text's counts are its paragraphs' (no word crosses a paragraph break)
                per = [_para_counts(text[x:y]) for x, y in paras]
                doc = _verdict(*(sum(c[i] for c in per) for i in range(3)))
            ok = doc and fo == 0
        else:
            ok = _verdict(n, en, fo)
        if not ok:
            zones.append((a, b))
    for m in r.label_re.finditer(text):
        br = _PARAGRAPH_BREAK.search(text, m.end())
        zones.append((m.start(), br.start() if br else len(text)))
    heads = list(_HEADING.finditer(text))
    for i, m in enumerate(heads):
        le = text.find("\n", m.start())
        le = len(text) if le < 0 else le
        if r.heading_re.search(text, m.start(), le):
            zones.append((m.start(), heads[i + 1].start() if i + 1 < len(heads) else len(text)))
    zones.extend(_example_blocks(text))
    return tuple(merge_spans(zones))


def _skip_line(text: str, ls: int, le: int) -> bool:
    """Headings, table rows, indented code (4+ columns, no list marker) and setext-underlined lines."""
    s = text[ls:le]
    body = s.lstrip(" \t")
    if not body or body[0] in "#|":
        return True
    indent = len(s) - len(body)
    if (indent >= 4 or s.startswith("\t")) and not (body[0] in "-*+" or body[:1].isdigit()):
        return True
    nxt = text.find("\n", le + 1)
    under = text[le + 1:(len(text) if nxt < 0 else nxt)].strip()
    return bool(under) and len(under) >= 2 and set(under) <= {"=", "-"}


def pass_articles(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                  level: str = "balanced", constraint_spans: Sequence[Span] | None = None,
                  skip_spans: Sequence[Span] | None = None, lines: Sequence[Span] | None = None,
                  **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Drop "the", "a", "an" where harmless (see the module docstring); ``balanced`` and up.

    ``skip_spans`` are the ranges where articles stay (default: :func:`article_skip_zones` of
    ``text``; :func:`~promptslim.compress.compress_prompt` computes them once on the whole prompt).
    ``lines`` (sorted, disjoint runs of whole lines) limits the scan to those lines: a line's
    decisions depend only on the line, the next line and the spans over it, so compression
    re-checks only the lines that changed. A sentence-initial "The" goes and the next word is
    capitalised ("The answer" -> "Answer").
    """
    if level_rank(level) < 1:
        return text, ()
    if lines is None and _ARTICLE.search(text) is None:
        return text, ()
    r = _rules()
    cons = find_constraint_spans(text) if constraint_spans is None else constraint_spans
    skip = article_skip_zones(text) if skip_spans is None else skip_spans
    edits: list[Edit] = []
    for a, b in ((0, len(text)),) if lines is None else lines:
        _scan(text, a, b, r, protected_spans, cons, skip, edits, _proven_saving(tokenizer))
    out, changes = apply_edits(text, edits, tokenizer, "articles", protected=protected_spans)
    if changes:
        _carry_counts(text, out, changes)
    return out, changes


# Encodings whose pre-tokenizer makes " the" between two words a piece of its own (a space, then
# letters, is one piece; no piece runs past a space into the next word), so deleting "the " from
# "x the y" removes exactly that piece's tokens and leaves every other piece as it was.
_PIECEWISE = frozenset({"o200k_base", "cl100k_base"})


_PROVEN: dict[str, dict[str, int]] = {}  # encoding name -> article -> tokens (count_base is per encoding)


def _proven_saving(tokenizer: Tokenizer) -> dict[str, int]:
    """Tokens that dropping each lower-case article between two words saves for certain; empty
    when this tokenizer's split is not known to make it exact (the edits are then measured).
    Worked out once per encoding: the pass runs several times on every prompt."""
    if tokenizer.name not in _PIECEWISE:
        return {}
    known = _PROVEN.get(tokenizer.name)
    if known is None:
        known = _PROVEN[tokenizer.name] = {a: tokenizer.count_base(" " + a) for a in _rules().articles}
    return known


def _scan(text: str, start: int, stop: int, r: _Rules, protected: Sequence[Span], cons: Sequence[Span],
          skip: Sequence[Span], edits: list[Edit], proven: Mapping[str, int]) -> None:
    """Append the candidate edits of the lines in ``[start, stop)`` (whole lines) to ``edits``: one
    scan for articles (a match never crosses a line break), each line looked at once."""
    n = len(text)
    ls = le = -1
    skipped = False
    for m in _ARTICLE.finditer(text, start, stop):
        if m.start() > le:  # the first match on a new line
            ls = text.rfind("\n", 0, m.start()) + 1
            nl = text.find("\n", m.start())
            le = n if nl < 0 else nl
            skipped = _skip_line(text, ls, le)
        if not skipped:
            e = _candidate(text, m, ls, le, r, protected, cons, skip, proven)
            if e is not None:
                edits.append(e)


def _candidate(text: str, m: re.Match[str], ls: int, le: int, r: _Rules, protected: Sequence[Span],
               cons: Sequence[Span], skip: Sequence[Span], proven: Mapping[str, int]) -> Edit | None:
    """The edit dropping the article ``m`` matched, or None when it must stay."""
    art, nxt = m.group(1), m.group(2)
    a, w = m.start(1), m.start(2)
    low = art.lower()
    if not nxt[0].islower() or len(nxt) < 2:
        return None  # a name or title ("the United Nations") or a letter variable ("a b")
    lnxt = nxt.lower().rstrip("'\u2019-")
    if lnxt in r.blocklist or lnxt.startswith(("e.g", "i.e")):
        return None
    end = m.end(2)
    if end < le and text[end] in _AFTER_WORD_BAD:
        return None  # an identifier or markup, not a word
    at_start = False
    if art[0].isupper():
        if len(art) > 1 and art.isupper():
            return None  # ALL CAPS text
        at_start = is_sentence_start(text, a)
        if not at_start:
            return None  # "Plan A", "The Hague" style capitals inside a sentence
    if a > ls and text[a - 1] not in " \t(":
        return None
    if overlaps(protected, a, w + 1) or overlaps(cons, a, w + 1) or overlaps(skip, a, w + 1):
        return None
    k = a
    while k > ls and text[k - 1] in " \t":
        k -= 1
    # the previous word: the non-space run (at most 40 characters) ending at k
    before = text[max(ls, k - 40):k]
    prev = before[len(before) - non_space_run(before[::-1]):].lower().strip("*_([\"'")
    if prev:
        if prev in r.keep_after or (low == "a" and prev.rstrip(".,:;") in r.a_label_after):
            return None
        if low in ("a", "an") and prev[-1:].isdigit():
            return None  # "$5 a month", "3 a day"
    if _in_keep_phrase(text, low, prev, nxt.lower(), end, le, a, ls, r):
        return None
    if at_start:
        return Edit(a, w + 1, nxt[0].upper(), "remove", f"article {art!r}")
    saves = 0
    if art == low and a >= 2 and text[a - 1] == " " and text[w - 1] == " " and not text[a - 2].isspace():
        saves = proven.get(art, 0)
    return Edit(a, w, "", "remove", f"article {art!r}", saves)


def _in_keep_phrase(text: str, art: str, prev: str, nxt: str, end: int, le: int, a: int, ls: int,
                    r: _Rules) -> bool:
    """Whether the article sits in a keep-list expression ("a few", "at a time", "on the other hand")."""
    cands = r.phrases_by_next.get((art, nxt), ()) + r.phrases_by_prev.get((art, prev), ())
    if not cands:
        return False
    after: list[str] | None = None
    before: list[str] | None = None
    for pre, post in cands:
        if (post and post[0] != nxt) or (pre and pre[-1] != prev):
            continue
        if len(post) > 1:
            if after is None:
                after = [nxt]
                p = end
                while len(after) < 4:
                    mm = _NEXT_WORDS.match(text, p, le)
                    if mm is None:
                        break
                    after.append(mm.group(1).lower())
                    p = mm.end()
            if tuple(after[:len(post)]) != post:
                continue
        if len(pre) > 1:
            if before is None:
                before = text[max(ls, a - 80):a].lower().split()
            if tuple(before[-len(pre):]) != pre:
                continue
        return True
    return False
