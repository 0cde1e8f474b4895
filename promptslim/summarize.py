"""Offline, deterministic extractive summaries of conversation turns that leave a history window.

Later turns mostly need what the user said about themselves and their goal, quantities, dates and
times, names and codes, what was decided or booked, and questions still open. The summarizer scores
each sentence of the leaving turns by those features (``rules/history.toml``), then picks sentences
greedily by value per token, where a sentence's value shrinks once its fact terms are already covered
(so five restatements of "3 people" do not crowd out the hotel's area). Kept sentences are written in
conversation order, lightly compacted (articles, pleasantries and tokenizer spacing dropped; numbers,
names, negations, code and quotes untouched), under a header, within the summarizer's token budget.

It is incremental. Called as ``summarizer(messages, previous_summary)`` it parses the previous summary
back into sentences that compete with the new ones. :func:`promptslim.fit_history` uses the richer
:meth:`ExtractiveSummarizer.update`, which also carries a bounded pool of runner-up sentences, so a fact
squeezed out while the window was crowded can come back later; the conversation is never re-read.

>>> s = extractive_summarizer([{"role": "user", "content": "Hi! I need a table for 4 people on Friday."}], None)
>>> print(s)
Earlier in this conversation:
user: Table for 4 people on Friday.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import InputError
from .history_rules import clean_sentence, dense_clause, fact_terms, fragments, rules, score_sentence
from .sentences import sentence_spans
from .tokens import Tokenizer, content_text, get_tokenizer, message_text

__all__ = ["ExtractiveSummarizer", "SummaryItem", "SummaryState", "extractive_summarizer", "summary_sentences"]

_WS = re.compile(r"\s+")
_END = re.compile(r"[.!?:;)\]\"'`]$")
_CLAUSES = 32  # orders reserved per sentence for its clauses
_INCUMBENT = 0.5  # bonus for sentences already in the summary: fewer rewrites between batches


@dataclass(frozen=True, slots=True)
class SummaryItem:
    """One candidate sentence: position in the conversation, speaker label, text, score, terms, tokens."""

    order: int
    label: str
    text: str
    score: float
    terms: Mapping[str, float]
    tokens: int
    sentence: int = -1  # clauses of one sentence share it; -1: a whole sentence
    clause: int = 0
    dot: int = 0  # 1 when rendering adds a "." after it (no end punctuation of its own)

    @property
    def mass(self) -> float:
        """Total weight of the sentence's fact terms."""
        return sum(self.terms.values())


@dataclass(frozen=True, slots=True)
class SummaryState:
    """What :meth:`ExtractiveSummarizer.update` carries between batches (bounded in size)."""

    items: tuple[SummaryItem, ...] = ()  # the summary's sentences and runner-ups, by order
    chosen: frozenset[int] = frozenset()  # orders of the sentences in the summary
    next_order: int = 0
    text: str = ""
    tokens: int = 0  # tokens of ``text``


@lru_cache(maxsize=4096)
def _sentences(text: str) -> tuple[str, ...]:
    """Sentences of a message's text, whitespace collapsed (cached: histories are re-fitted often)."""
    text = _WS.sub(" ", text).strip()
    return tuple(text[a:b] for a, b in sentence_spans(text))


def _message_sentences(msg: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(role, sentence) pairs of one message: its text content and any tool calls it made."""
    role = str(msg.get("role", "user"))
    out = [(role, sent) for sent in _sentences(content_text(msg.get("content")))]
    for call in msg.get("tool_calls") or ():
        fn = call.get("function", {}) if isinstance(call, Mapping) else {}
        name = fn.get("name", "tool") if isinstance(fn, Mapping) else "tool"
        args = fn.get("arguments", "") if isinstance(fn, Mapping) else ""
        args = args if isinstance(args, str) else message_text(args)
        out.append((role, _WS.sub(" ", f"called {name}({args})").strip()))
    return out


def summary_sentences(summary: str | None) -> list[tuple[str, str]]:
    """Parse a summary this module wrote back into ``(label, sentence)`` pairs, in order.

    Text in another format (an LLM's summary) comes back as ``("", sentence)`` pairs.
    """
    if not summary:
        return []
    r = rules()
    lines = summary.split("\n")
    known = set(r.labels.values())
    if lines and lines[0].strip() == r.header:
        lines = lines[1:]
    out: list[tuple[str, str]] = []
    for line in lines:
        label, sep, rest = line.partition(": ")
        if not (sep and label in known):
            label, rest = "", line
        rest = rest.strip()
        out.extend((label, rest[a:b]) for a, b in sentence_spans(rest))
    return out


def _role_of_label(label: str) -> str:
    for role, lab in rules().labels.items():
        if lab == label:
            return role
    return "user"


def _render(items: Sequence[SummaryItem]) -> str:
    """``header`` then one ``label: sentence sentence`` line per run of one speaker, in order.

    Consecutive clauses of one sentence are joined with ", "; a sentence cut after a clause ends in ".".
    """
    lines = [rules().header]
    prev: SummaryItem | None = None
    for it in items:
        if prev is not None and it.sentence >= 0 and it.sentence == prev.sentence and it.clause == prev.clause + 1:
            lines[-1] += ", " + it.text
        else:
            if prev is not None and not _END.search(lines[-1]):
                lines[-1] += "."
            # a clause shown on its own starts a sentence: capitalised, so the sentence boundary stays visible
            text = it.text[0].upper() + it.text[1:] if it.clause and it.text[:1].islower() else it.text
            if prev is not None and it.label and it.label == prev.label:
                lines[-1] += " " + text
            else:
                lines.append(f"{it.label}: {text}" if it.label else text)
        prev = it
    if prev is not None and not _END.search(lines[-1]):
        lines[-1] += "."
    return "\n".join(lines)


@lru_cache(maxsize=8192)
def _analyze(sent: str, role: str, compact: bool, tok: Tokenizer) -> tuple[tuple[str, float, Mapping[str, float], int], ...]:
    """(text, score, fact terms, tokens) of each clause of one sentence; cached, since a stateless
    server re-fitting a growing history sees the same sentences on every call."""
    r = rules()
    full = clean_sentence(sent)
    text = clean_sentence(full, True) if compact else full
    parts = fragments(text) if compact else [text]
    if len(parts) > _CLAUSES:
        parts = parts[: _CLAUSES - 1] + [", ".join(parts[_CLAUSES - 1:])]
    out = []
    for part in parts:
        terms = fact_terms(part)
        # features read the clause (or whole sentence) with a leading pleasantry dropped ("Thanks, I need")
        score = score_sentence(r.compact_lead.sub("", part if len(parts) > 1 else full), role, terms)
        shown = dense_clause(part) if compact else part  # the request frame goes; the facts stay
        out.append((shown, score, terms, tok.count(shown)))
    return tuple(out)


@lru_cache(maxsize=16)
def _header_tokens(tok: Tokenizer) -> int:
    return tok.count(rules().header)


class ExtractiveSummarizer:
    """Keep the sentences later turns are likely to need, within ``max_tokens``; offline, deterministic.

    ``summarizer(messages, previous_summary, max_tokens=None, tokenizer=None) -> str`` is the
    pluggable-summarizer protocol of :func:`promptslim.fit_history`. ``compact=False`` keeps sentences
    verbatim (only whitespace normalised). ``pool`` bounds the runner-up sentences carried between
    batches by :meth:`update`, as a multiple of ``max_tokens``.
    """

    def __init__(self, max_tokens: int = 256, tokenizer: Tokenizer | str | None = None, *,
                 compact: bool = True, pool: float = 2.0) -> None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
            raise InputError(f"max_tokens must be a non-negative int, got {max_tokens!r}")
        if not isinstance(pool, (int, float)) or pool < 0:
            raise InputError(f"pool must be a non-negative number, got {pool!r}")
        self.max_tokens = max_tokens
        self.tokenizer = tokenizer
        self.compact = compact
        self.pool = float(pool)

    def __repr__(self) -> str:
        return f"ExtractiveSummarizer(max_tokens={self.max_tokens}, compact={self.compact}, pool={self.pool})"

    def __call__(self, messages: Sequence[Mapping[str, Any]], previous_summary: str | None = None, *,
                 max_tokens: int | None = None, tokenizer: Tokenizer | str | None = None) -> str:
        """The updated summary: previous summary sentences plus the new turns' best sentences."""
        tok = get_tokenizer(tokenizer or self.tokenizer)
        old = [(label, sent, _role_of_label(label) if label else "user")
               for label, sent in summary_sentences(previous_summary)]
        items = self._items(old, 0, tok, set())
        state = SummaryState(tuple(items), frozenset(it.order for it in items), len(old), previous_summary or "")
        text, _ = self.update(state, messages, max_tokens=max_tokens, tokenizer=tok)
        return text

    def update(self, state: SummaryState | None, messages: Sequence[Mapping[str, Any]], *,
               max_tokens: int | None = None, tokenizer: Tokenizer | str | None = None) -> tuple[str, SummaryState]:
        """Fold ``messages`` into ``state``; return the new summary text and the state to pass next time."""
        state = state or SummaryState()
        budget = self.max_tokens if max_tokens is None else max_tokens
        tok = get_tokenizer(tokenizer or self.tokenizer)
        pairs: list[tuple[str, str, str]] = []
        for i, msg in enumerate(messages):
            if not isinstance(msg, Mapping):
                raise InputError(f"messages[{i}] is {type(msg).__name__}, expected a dict with 'role'")
            for role, sent in _message_sentences(msg):
                pairs.append((rules().labels.get(role, role), sent, role))
        seen = {it.text.lower().strip(" .!?") for it in state.items}
        pool = list(state.items) + self._items(pairs, state.next_order, tok, seen)
        next_order = state.next_order + len(pairs)
        if not pool or budget <= 0:
            return "", SummaryState((), frozenset(), next_order, "")
        chosen, used, text = self._select(pool, state.chosen, budget, tok)
        keep = self._keep(pool, chosen, state.chosen, budget)
        return text, SummaryState(tuple(pool[k] for k in keep), frozenset(pool[k].order for k in chosen),
                                  next_order, text, used)

    def _items(self, pairs: Sequence[tuple[str, str, str]], first: int, tok: Tokenizer,
               seen: set[str]) -> list[SummaryItem]:
        """Scored candidates of ``(label, sentence, role)`` pairs (clauses, in compact mode); duplicates
        and low scores dropped. Candidate ``order`` is ``(first + pair index) * _CLAUSES + clause``."""
        min_score = rules().min_score
        out = []
        for k, (label, sent, role) in enumerate(pairs):
            parts = _analyze(sent, role, self.compact, tok)
            split = len(parts) > 1
            for j, (part, score, terms, n) in enumerate(parts):
                key = part.lower().strip(" .!?")
                if not key or key in seen:
                    continue
                seen.add(key)
                if score > min_score:
                    out.append(SummaryItem((first + k) * _CLAUSES + j, label, part, score, terms, n,
                                           first + k if split else -1, j, 0 if _END.search(part) else 1))
        return out

    @staticmethod
    def _values(pool: Sequence[SummaryItem], incumbents: frozenset[int]) -> list[float]:
        """Base value of each candidate: score, recency bonus, incumbency bonus."""
        r = rules()
        lo, hi = pool[0].order, pool[-1].order
        span = max(hi - lo, 1)
        return [it.score + r.recency * (it.order - lo) / span + (_INCUMBENT if it.order in incumbents else 0.0)
                for it in pool]

    def _select(self, pool: Sequence[SummaryItem], incumbents: frozenset[int], budget: int,
                tok: Tokenizer) -> tuple[list[int], int, str]:
        """Greedy max-coverage by value per token, then an exact-count check: (indices in order, tokens, text)."""
        r = rules()
        exp, floor = r.length_exponent, r.novelty_floor
        base = self._values(pool, incumbents)
        room = budget - _header_tokens(tok)
        covered: set[str] = set()
        chosen: list[int] = []  # sorted pool indices (pool is in conversation order)
        left = set(range(len(pool)))
        scale = [base[k] / max(pool[k].tokens, 1) ** exp for k in range(len(pool))]
        # lazy greedy: a sentence's value only falls as coverage grows, so a stale value is an upper bound
        heap = [(-scale[k], k) for k in range(len(pool))]
        heapq.heapify(heap)
        while heap:
            neg, k = heapq.heappop(heap)
            cost = pool[k].tokens + self._join_cost(pool, chosen, k)
            if cost > room:
                continue
            terms = pool[k].terms
            total = pool[k].mass
            novelty = sum(w for t, w in terms.items() if t not in covered) / total if total else 0.0
            v = scale[k] * (floor + (1 - floor) * novelty)
            if heap and (v, -k) < (-heap[0][0], -heap[0][1]):
                heapq.heappush(heap, (-v, k))
                continue
            bisect.insort(chosen, k)
            left.discard(k)
            room -= cost
            covered.update(terms)
        # fill the room the estimates left, best remaining sentences first, then check the exact count
        for k in sorted(left, key=lambda k: (-scale[k], k)):
            cost = pool[k].tokens + self._join_cost(pool, chosen, k)
            if cost <= room:
                bisect.insort(chosen, k)
                room -= cost
        text = _render([pool[k] for k in chosen]) if chosen else ""
        used = tok.count(text) if chosen else 0
        while chosen and used > budget:
            weakest = min(chosen, key=lambda k: (scale[k], -k))
            chosen.remove(weakest)  # estimates were low: drop the weakest sentence and re-check
            text = _render([pool[k] for k in chosen]) if chosen else ""
            used = tok.count(text) if chosen else 0
        return chosen, used, text

    @staticmethod
    def _join_cost(pool: Sequence[SummaryItem], chosen: list[int], k: int) -> int:
        """Tokens the rendering adds around sentence ``k``: 0 inside a run of its speaker, else a label line."""
        j = bisect.bisect_left(chosen, k)
        prev = pool[chosen[j - 1]].label if j > 0 else None
        nxt = pool[chosen[j]].label if j < len(chosen) else None
        label = pool[k].label
        if j > 0 and pool[k].sentence >= 0 and pool[chosen[j - 1]].sentence == pool[k].sentence:
            return 1  # ", clause"
        dot = pool[k].dot  # the "." rendering adds after a clause
        if label and label in (prev, nxt):
            return dot  # " sentence" joins a run of its speaker (either end): the space merges into its first token
        if prev is not None and prev == nxt:  # splits a run of another speaker into two lines
            return 4 + dot
        return 2 + dot  # "\nlabel: "

    def _keep(self, pool: Sequence[SummaryItem], chosen: list[int], incumbents: frozenset[int],
              budget: int) -> list[int]:
        """Pool indices carried to the next batch: the summary plus the best runner-ups up to the pool bound."""
        limit = int(self.pool * budget)
        base = self._values(pool, incumbents)
        taken = set(chosen)
        ranked = sorted((k for k in range(len(pool)) if k not in taken),
                        key=lambda k: (-base[k] / max(pool[k].tokens, 1), k))
        keep, used = set(chosen), 0
        for k in ranked:
            if used + pool[k].tokens > limit:
                break
            keep.add(k)
            used += pool[k].tokens
        return sorted(keep)


extractive_summarizer = ExtractiveSummarizer()
"""The default summarizer of :func:`promptslim.fit_history` and :class:`promptslim.RollingHistory`."""
