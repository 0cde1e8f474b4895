"""Expected answer type from a question's wh-word, and whether a sentence offers such an answer.

A classic QA heuristic: "when"/"what year" asks for a date, "how many"/"how much" for a number,
"who" for a name, "where" for a place. A sentence that contains a candidate of that type which the
question does not already name (a year, a number, a capitalised name) is more likely to hold the
answer than one that only repeats the question's words. The patterns live in
``promptslim/data/rag.toml`` (``[answer_types]``); nothing here is tied to one data set.

>>> question_type("In what year did Priestley publish his findings?")
'date'
>>> offers("date", "Priestley published his findings in 1775.", question_words("In what year did Priestley publish?"))
True
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._text import _DATA, all_words

__all__ = ["question_type", "offers", "question_words", "ANSWER_TYPES"]

_TABLE = _DATA["answer_types"]
# (compiled question pattern, type) in the order of the table: the first match wins
_QUESTION = [(re.compile(rule["question"], re.I), rule["type"]) for rule in _TABLE["rules"]]
_CANDIDATE = {name: re.compile(pattern) for name, pattern in _TABLE["candidates"].items()}
ANSWER_TYPES = tuple(_CANDIDATE)
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*")


@lru_cache(maxsize=1024)
def question_type(question: str) -> str | None:
    """The answer type a question asks for (a key of :data:`ANSWER_TYPES`), or None when unclear."""
    for pattern, kind in _QUESTION:
        if pattern.search(question):
            return str(kind)
    return None


def question_words(question: str) -> frozenset[str]:
    """Lower-cased words of the question: a candidate the question already names is no answer."""
    return frozenset(all_words(question))


def offers(kind: str, sentence: str, qwords: frozenset[str]) -> bool:
    """True when ``sentence`` holds a candidate answer of type ``kind`` that the question lacks."""
    if kind == "name":
        cands = _CAPITALISED.finditer(sentence.strip())
    else:
        cands = _CANDIDATE[kind].finditer(sentence)
    for cand in cands:  # lazily: the first candidate the question lacks settles it
        words = _words(cand.group())
        if words and not qwords.issuperset(words):
            return True
    return False


@lru_cache(maxsize=8192)
def _words(candidate: str) -> tuple[str, ...]:
    """:func:`all_words` of a candidate, memoized (the same years and names recur across sentences)."""
    return tuple(all_words(candidate))
