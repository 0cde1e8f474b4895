"""Text helpers for RAG selection: the BM25 word tokenizer, shingles for near-duplicate checks, and
title/entity matching used by title-aware scoring and multi-hop expansion.

The BM25 tokenizer is deliberately simple and documented: lower-case, Unicode word characters
(``\\w+``), each CJK/kana/hangul character as its own token (those scripts have no spaces), and a
short stopword list from ``promptslim/data/rag.toml``. Plural/possessive ``'s`` is split off by the
regex. Numbers are kept: they are often what the question asks about.

>>> bm25_tokens("Who founded the U.S. Navy in 1775?")
['found', 'u', 'navy', '1775']
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from .._toml import load_package_toml

__all__ = [
    "bm25_tokens",
    "STOPWORDS",
    "RAG_DEFAULTS",
    "shingles",
    "jaccard",
    "title_key",
    "capitalised_phrases",
]

_DATA = load_package_toml("data/rag.toml")
STOPWORDS: frozenset[str] = frozenset(_DATA["stopwords"])
RAG_DEFAULTS: dict[str, float | int | str] = dict(_DATA["defaults"])

# CJK ideographs, kana and hangul: one token per character; everything else: runs of word chars.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # the same words for lower-cased ASCII text, faster
_NORM: dict[str, str] = {}


def _fold(text: str) -> str:
    """Lower-case and strip accents so that "Röntgen" matches "Rontgen"."""
    low = text.lower()
    if low.isascii():
        return low
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


_STEMS: dict[str, str] = {}  # word -> stem, filled by stem() (bounded below)


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ed, -ing, -ly) so "founded" matches "founding".

    Deliberately weaker than Porter: it only has to map inflections of one word together, on both
    the query and the chunks, and must leave numbers, names and short words alone.
    """
    out = _stem(word)
    if len(_STEMS) < 200_000:
        _STEMS[word] = out
    return out


def _stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("ly", ""), ("es", ""),
                         ("s", "")):
        if word.endswith(suffix):
            base = word[: -len(suffix)] + keep
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if len(base) < 3:
                return word
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # "stopped" -> "stop", "running" -> "run"
            return base
    return word


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased, accent-folded, lightly stemmed word tokens of ``text`` without stopwords."""
    low = text.lower()
    words = _ASCII_WORD.findall(low) if low.isascii() else _WORD.findall(_fold(low))
    norm = _NORM
    return [n for w in words if (n := norm[w] if w in norm else _normalize(w))]


def _normalize(word: str) -> str:
    """The BM25 form of a lower-cased word: "" for a stopword, else its stem (memoized)."""
    out = "" if word in STOPWORDS else stem(word)
    if len(_NORM) < 200_000:
        _NORM[word] = out
    return out


def _all_words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def shingles(text: str, size: int = 3) -> frozenset[str]:
    """Word ``size``-grams of ``text`` (all words, stopwords included); short texts give one shingle."""
    words = _all_words(text)
    if len(words) < size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i:i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b| (0.0 when both are empty)."""
    if not a and not b:
        return 0.0
    inter = len(a & b) if len(a) <= len(b) else len(b & a)
    return inter / (len(a) + len(b) - inter)


_PAREN = re.compile(r"\s*\([^)]*\)\s*$")


@lru_cache(maxsize=4096)
def title_key(title: str) -> tuple[str, ...]:
    """The words of a title without a trailing parenthetical qualifier, as a tuple.

    Encyclopedia-style titles disambiguate with a suffix ("Lilu (mythology)", "Big (film)"); the
    text that mentions the subject says "Lilu", so matching uses the part before the qualifier.
    """
    title = html.unescape(title)
    base = _PAREN.sub("", title).strip() or title
    return tuple(_all_words(base))


def contains_phrase(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    """True when ``phrase`` occurs as consecutive items of ``words``."""
    n = len(phrase)
    if n == 0 or n > len(words):
        return False
    seq = words if isinstance(words, list) else list(words)
    first = phrase[0]
    i = -1
    while True:  # list.index scans in C: most titles are ruled out without a Python loop
        try:
            i = seq.index(first, i + 1)
        except ValueError:
            return False
        if tuple(seq[i:i + n]) == phrase:
            return True


_CAP_PHRASE = re.compile(r"(?:[A-Z0-9][\w'’.-]*)(?:\s+(?:of|the|de|du|von|van|and|&)?\s*[A-Z0-9][\w'’.-]*)*")


def capitalised_phrases(text: str) -> list[str]:
    """Capitalised word runs in ``text`` ("Adriana Trigiani", "New York City"): candidate entities."""
    return [m.group(0) for m in _CAP_PHRASE.finditer(text)]


def all_words(text: str) -> list[str]:
    """Every lower-cased, accent-folded word of ``text`` (stopwords kept); for phrase matching."""
    return _all_words(text)


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    seen: set[str] = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out
