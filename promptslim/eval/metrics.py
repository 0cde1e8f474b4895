"""Quality metrics for evals: each a small pure function returning a float in [0, 1] (or None).

None means "does not apply to this case" (for example an answer that was never in the original
context), so the runner averages over applicable cases only instead of inflating a score.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "normalize_answer",
    "answer_recall",
    "evidence_recall",
    "extract_facts",
    "fact_retention",
    "roundtrip_exact",
    "exact_match",
    "f1_score",
    "semantic_similarity",
    "compression_ratio",
]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """SQuAD's answer normalization: lower-case, drop punctuation and articles, squeeze spaces."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _contains(haystack_norm: str, needle: str) -> bool:
    n = normalize_answer(needle)
    if not n:
        return False
    return f" {n} " in f" {haystack_norm} "


def answer_recall(original: str, compressed: str, answers: Iterable[str]) -> float | None:
    """1.0 if any gold answer present in ``original`` survives in ``compressed`` (normalized), else 0.0.

    None when no gold answer occurs in the original context: nothing could be kept.
    """
    orig = normalize_answer(original)
    present = [a for a in answers if _contains(orig, a)]
    if not present:
        return None
    comp = normalize_answer(compressed)
    return 1.0 if any(_contains(comp, a) for a in present) else 0.0


def evidence_recall(kept: Iterable[Any], gold: Iterable[Any]) -> float | None:
    """Share of gold evidence items (sentence ids or texts) that were kept; None with no gold items."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return len(gold_set & set(kept)) / len(gold_set)


_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?%?")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{[A-Za-z_][\w.]*\}|\$\{[^}]+\}")
_NEGATION = re.compile(r"\b(?:not|never|no|don't|do not|doesn't|does not|cannot|can't|won't|must not|"
                       r"mustn't|shouldn't|should not|avoid|nor|without|only)\b[^.!?\n]{0,40}", re.I)
# a run of capitalised words on one line (a name never spans a line break)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)(?<!\n)\b[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)*")
# what may stand between a line start and its first word: indentation, list markers ("-", "*",
# "1."), heading marks, quote marks and an opening emphasis; the word after them starts a sentence
_LINE_LEAD = re.compile(r"[ \t]*(?:(?:[-*+>\u2022]|\d{1,3}[.)]|#{1,6})[ \t]+)*(?:\*\*|__|\*|_)?")
_FIRST_WORD = re.compile(r"[A-Z][a-z]+[ \t]*")
# a list flattened into one line: "... content. - Provide ...", "Rules: - Ensure ..."
_INLINE_ITEM = re.compile(r"[.!?:][ \t]+[-*+\u2022][ \t]+\Z")


def _names(text: str) -> list[str]:
    """Capitalised runs that are not at a sentence start: a run's first word at the start of a
    line, list item or heading ("- Provide ...", "## Goal", or an item of a list flattened into a
    line: "... text. - Provide") is a sentence start, so only the rest of the run (if any) counts."""
    out = []
    for m in _NAME.finditer(text):
        a = m.start()
        ls = text.rfind("\n", 0, a) + 1
        if ls < a and (_LINE_LEAD.fullmatch(text, ls, a) or _INLINE_ITEM.search(text, max(ls, a - 8), a)):
            first = _FIRST_WORD.match(text, a)
            rest = text[first.end():m.end()] if first else ""
            if rest:
                out.append(rest)
            continue
        out.append(m.group(0))
    return out


def extract_facts(text: str) -> dict[str, list[str]]:
    """Surface facts a compressor must keep: numbers, URLs, e-mails, placeholders, negated clauses,
    capitalised names (mid-sentence capitalised words on one line, so sentence starts, line starts
    and list-item or heading starts are not counted)."""
    negs = []
    for m in _NEGATION.finditer(text):
        words = m.group(0).split()
        negs.append(" ".join(words[:3]).lower())
    urls = [u.rstrip(".,;:!?") for u in _URL.findall(text)]
    emails = _EMAIL.findall(text)
    stripped = _URL.sub(" ", _EMAIL.sub(" ", text))
    return {
        "number": [n.strip("+-") for n in _NUMBER.findall(stripped)],
        "url": urls,
        "email": emails,
        "placeholder": _PLACEHOLDER.findall(text),
        "negation": negs,
        "name": [n for n in _names(stripped) if not _common_word(n)],
    }


def _common_word(name: str) -> bool:
    """A single capitalised word that is a very common English word ("Please", "Your", "In") is
    emphasis or a line start, not a name (wordfreq Zipf >= 5.5; "John" 5.4, "Paris" 4.8 stay names)."""
    if " " in name:
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(name.lower(), "en") >= 5.5


def fact_retention(original: str, compressed: str, kinds: Sequence[str] | None = None) -> float | None:
    """Share of the original's facts (multiset, per kind) still present in ``compressed``.

    Numbers, URLs, e-mails and placeholders must survive verbatim; negated clauses by their first
    three words (case-insensitive); names verbatim. None when the original has no facts.
    """
    facts = extract_facts(original)
    comp_lower = compressed.lower()
    total = kept = 0
    for kind, items in facts.items():
        if kinds is not None and kind not in kinds:
            continue
        for item, count in Counter(items).items():
            total += count
            have = comp_lower.count(item) if kind == "negation" else compressed.count(item)
            kept += min(count, have)
    return kept / total if total else None


def roundtrip_exact(original: Any, roundtripped: Any) -> float:
    """1.0 when a structured value survives encode/parse exactly (type-strict: 1 != 1.0 != True)."""
    return 1.0 if _strict_equal(original, roundtripped) else 0.0


def _strict_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD exact match against any gold answer."""
    p = normalize_answer(prediction)
    return 1.0 if any(p == normalize_answer(a) for a in answers) else 0.0


def f1_score(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD token F1 against the best gold answer."""
    best = 0.0
    p_toks = normalize_answer(prediction).split()
    for a in answers:
        g_toks = normalize_answer(a).split()
        common = Counter(p_toks) & Counter(g_toks)
        same = sum(common.values())
        if not p_toks or not g_toks:
            best = max(best, float(p_toks == g_toks))
            continue
        if same == 0:
            continue
        prec, rec = same / len(p_toks), same / len(g_toks)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


def compression_ratio(tokens_before: int, tokens_after: int) -> float:
    """tokens_after / tokens_before (1.0 for empty input)."""
    return tokens_after / tokens_before if tokens_before else 1.0


def semantic_similarity(a: str, b: str, model: Any = None) -> float:
    """Cosine similarity of sentence embeddings (extra ``semantic``); ``model`` from backends.embeddings."""
    from ..backends.embeddings import get_embedder

    emb = model or get_embedder()
    va, vb = emb.embed([a, b])
    return float(max(0.0, min(1.0, sum(x * y for x, y in zip(va, vb)))))
