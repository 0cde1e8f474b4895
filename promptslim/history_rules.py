"""Rules of the extractive history summarizer: sentence features, fact terms, cleaning, scoring.

The tables live in ``rules/history.toml``; this module compiles them once and applies them. A
sentence's score is its matched feature weights plus a little per fact term (its information),
times the speaker's role weight. Fact terms (numbers with their unit word, dates, times, names,
content words) drive coverage: a summary should mention each at least once.

>>> sorted(fact_terms("Book 3 nights from Friday at the Lensfield"))
['#3 nights', 'book', 'friday', 'lensfield']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ._toml import load_package_toml

__all__ = ["fact_terms", "clean_sentence", "dense_clause", "score_sentence", "fragments", "rules"]

_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Rules:
    """Compiled rules/history.toml."""

    header: str
    min_score: float
    recency: float
    length_exponent: float
    novelty_floor: float
    cleanup: tuple[tuple[re.Pattern[str], str], ...]
    compact_lead: re.Pattern[str]
    compact_drop: frozenset[str]
    info_weight: float
    info_cap: float
    labels: dict[str, str]
    role_weights: dict[str, float]
    # name, pattern, weight, roles it applies to (empty: all), matched on the original case (else lower-cased)
    features: tuple[tuple[str, re.Pattern[str], float, frozenset[str], bool], ...]
    term_weights: dict[str, float]
    dates: frozenset[str]
    qualifiers: frozenset[str]
    number_words: frozenset[str]
    stopwords: frozenset[str]
    frame_start: frozenset[str] = frozenset()
    frame: frozenset[str] = frozenset()
    frame_after: frozenset[str] = frozenset()
    frame_modal: frozenset[str] = frozenset()
    frame_verb: frozenset[str] = frozenset()
    frame_joiners: frozenset[str] = frozenset()


@lru_cache(maxsize=1)
def rules() -> Rules:
    """The compiled summarizer rules (loaded once)."""
    data = load_package_toml("rules/history.toml")
    feats = []
    for name, spec in data["features"].items():
        feats.append((name, re.compile(spec["pattern"]), float(spec["weight"]), frozenset(spec.get("roles", ())),
                      bool(spec.get("case_sensitive"))))
    roles = data["roles"]
    s = data["summary"]
    terms = data["terms"]
    return Rules(
        header=s["header"],
        min_score=float(s["min_score"]),
        recency=float(s["recency"]),
        length_exponent=float(s["length_exponent"]),
        novelty_floor=float(s["novelty_floor"]),
        cleanup=tuple((re.compile(a), b) for a, b in s["cleanup"]),
        compact_lead=re.compile(s["compact_lead"], re.IGNORECASE),
        compact_drop=frozenset(s["compact_drop"].split()),
        info_weight=float(s["info_weight"]),
        info_cap=float(s["info_cap"]),
        labels={r: v["label"] for r, v in roles.items()},
        role_weights={r: float(v["weight"]) for r, v in roles.items()},
        features=tuple(feats),
        term_weights={k: float(terms[k]) for k in ("number", "date", "name", "word", "qualifier")},
        dates=frozenset(terms["dates"].split()),
        qualifiers=frozenset(terms["qualifiers"].split()),
        number_words=frozenset(terms["number_words"].split()),
        stopwords=frozenset(terms["stopwords"].split()),
        **{k: frozenset(s.get(k, "").split()) for k in (
            "frame_start", "frame", "frame_after", "frame_modal", "frame_verb", "frame_joiners")},
    )


_TOKEN = re.compile(r"\d+(?:[:.,]\d+)*|[A-Za-z][A-Za-z'-]*")


def fact_terms(text: str) -> dict[str, float]:
    """The fact terms of a sentence and their weights: what a summary should cover at least once.

    Numbers carry the word after them ("3 people" and "3 nights" are different facts); dates, times,
    capitalised names and codes weigh fully; other content words a little.
    """
    r = rules()
    tw = r.term_weights
    toks = _TOKEN.findall(text)
    out: dict[str, float] = {}
    unit = -1
    for j, t in enumerate(toks):
        low = t.lower()
        if t[0].isdigit() or low in r.number_words:
            nxt = toks[j + 1].lower() if j + 1 < len(toks) else ""
            out["#" + low + " " + nxt] = tw["number"]
            unit = j + 1
        elif j == unit:
            continue
        elif low in r.dates:
            out[low] = tw["date"]
        elif low in r.qualifiers:
            out[low] = tw["qualifier"]
        elif low in r.stopwords:
            continue
        elif j > 0 and (t[0].isupper() or any(c.isdigit() for c in t)):
            out.setdefault(low, tw["name"])
        else:
            out.setdefault(low.rstrip("s") if len(low) > 4 else low, tw["word"])
    return out


_VERBATIM = re.compile(r"`|https?://|www\.|[\"\u201c\u201d]|\{|\}")


def clean_sentence(text: str, compact: bool = False) -> str:
    """Collapse whitespace and tokenizer spacing ("do n't", "hotel ."); with ``compact``, also drop
    leading pleasantries, articles and politeness (rules/history.toml). Code, URLs and quotes: as is."""
    text = _WS.sub(" ", text).strip()
    if _VERBATIM.search(text):
        return text
    r = rules()
    short = text
    if compact:  # drop words first, so one cleanup pass also fixes the spacing the drops leave
        short = " ".join(w for w in r.compact_lead.sub("", text).split(" ") if w.lower() not in r.compact_drop)
    for pat, rep in r.cleanup:
        short = pat.sub(rep, short)
    if not compact:
        return short
    short = short.strip(" ,;")
    if short and any(ch.isalnum() for ch in short):
        return short[0].upper() + short[1:]
    return clean_sentence(text)


_PUNCT = ",.;:!?"


def _frame_end(words: list[str], i: int, r: Rules) -> int:
    """Index of the first word after the request frame starting at ``words[i]`` (``i`` when none)."""
    j, prev = i, ""
    while j < len(words) - 1:  # the last word always stays
        w = words[j].lower().rstrip(_PUNCT)
        ok = (w in r.frame_start if j == i else
              w in r.frame or w in r.frame_start or w in r.frame_after or (w in r.frame_verb and prev in r.frame_modal))
        if not ok or (j > i and words[j - 1][-1:] in _PUNCT):
            break
        prev = w
        j += 1
    while j > i and words[j - 1].lower().rstrip(_PUNCT) in r.frame_joiners:  # "I need X and" keeps "and"
        j -= 1
    return j


def dense_clause(text: str) -> str:
    """``text`` without the request frames that open it or follow a conjunction: "Can you help me book
    a hotel" -> "Book a hotel". Words are only removed, never changed; code, URLs and quotes stay as is."""
    if _VERBATIM.search(text):
        return text
    r = rules()
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        start = i == 0 or words[i - 1].lower().rstrip(_PUNCT) in r.frame_joiners or words[i - 1][-1:] in ",;:"
        j = _frame_end(words, i, r) if start else i
        if j > i:
            tail = words[j - 1][-1:]
            if tail in _PUNCT and out and out[-1][-1:] not in _PUNCT:
                out[-1] += tail
            i = j
            continue
        out.append(words[i])
        i += 1
    if not any(ch.isalnum() for w in out for ch in w):
        return text
    res = " ".join(out)
    return res[0].upper() + res[1:] if text[:1].isupper() else res


def score_sentence(text: str, role: str, terms: Mapping[str, float] | None = None) -> float:
    """Score of one sentence said by ``role``: matched feature weights plus its fact-term information,
    times the role's weight (without the recency bonus)."""
    r = rules()
    low = text.lower()
    raw = sum(w for _, pat, w, roles, cased in r.features
              if (not roles or role in roles) and pat.search(text if cased else low))
    info = sum((terms if terms is not None else fact_terms(text)).values())
    return (raw + r.info_weight * min(info, r.info_cap)) * r.role_weights.get(role, 1.0)




_CLAUSE = re.compile(r"(?<=\D)([,;])\s+|([,;])\s+(?=\D)")


def fragments(text: str, min_words: int = 3) -> list[str]:
    """Split a sentence at commas and semicolons into clauses of at least ``min_words`` words.

    Shorter pieces stay attached to a neighbour, so "No preference, I need it for 2 nights, and a
    reference number please" gives three clauses but "Yes, please book it" stays whole. Code, URLs
    and quotes are never split. Joining the clauses with ", " restores the sentence (bar ";").
    """
    if _VERBATIM.search(text):
        return [text]
    pieces: list[str] = []
    last = 0
    for m in _CLAUSE.finditer(text):
        pieces.append(text[last:m.start()])
        last = m.end()
    pieces.append(text[last:])
    out: list[str] = []
    for p in pieces:
        if out and (len(out[-1].split()) < min_words or len(p.split()) < min_words):
            out[-1] = out[-1] + ", " + p
        else:
            out.append(p)
    return [p for p in out if p.strip()]
