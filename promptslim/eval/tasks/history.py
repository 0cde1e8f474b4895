"""History suites: MultiWOZ goal facts and Persona-Chat persona facts kept under a token budget.

Each case is one whole conversation (user = MultiWOZ USER / Persona-Chat "User 1", assistant = the
other side). At a budget ratio r the history must fit ``r`` times the conversation's tokens; the
methods are :func:`promptslim.fit_history` (extractive summarizer) and ``truncate_last``: keep the
newest whole messages that fit, as LangChain's ``trim_messages(strategy="last")`` does.

Scoring (the same scorer for every method) looks only at facts present in the original conversation:
a fact the dialogue never mentions cannot be kept, so it is left out rather than counted as lost.

* MultiWOZ: goal facts are parsed from the goal's emphasised values (area, stars, price range, food,
  people, nights, day, time). A fact is *present* in a text when its value occurs there: area, day,
  food and times as words (``08:00`` also matches ``8:00``); price ranges by word stem (``moderate``
  matches ``moderately``); stars, people and nights as a number (digits or word) within three words
  of its unit (``4 stars``, ``a party of 3``, ``3 people``, ``2 nights``).
* Persona-Chat: a persona sentence's *content words* are its lower-cased words minus stop words,
  each cut by a small suffix stemmer (``baking``/``bakes`` -> ``bak``). The fact is present in the
  original when one sentence holds at least half of them (at least one); its evidence is the content
  words that sentence holds. It is *retained* when one sentence of the fitted history holds all of
  its evidence words.

Metrics: ``fact_retention`` (share of present facts retained), ``prefix_stability`` (share of
consecutive requests, one per user turn, whose earlier request is a prefix of the later one) and
``billed_ratio`` (tokens sent over the whole conversation, one request per user turn, divided by
sending it untrimmed: lower is cheaper).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...history import RollingHistory, fit_history, prefix_stability
from ...sentences import sentence_spans
from ...tokens import Tokenizer, content_text, get_tokenizer
from ..core import Case, MethodOutput, Suite, register_suite, require_file

__all__ = [
    "truncate_last",
    "multiwoz_facts",
    "multiwoz_present",
    "persona_evidence",
    "persona_retained",
    "load_multiwoz",
    "load_multiwoz_long",
    "load_persona",
]

MULTIWOZ = "conversations/multiwoz21-val.jsonl"
PERSONA = "conversations/synthetic-persona-chat-valid.csv"

_SPAN = re.compile(r"<span class='emphasis'>(.*?)</span>")
_AREAS = {"north", "south", "east", "west", "centre"}
_PRICES = {"cheap", "moderate", "expensive"}
_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
              "eleven", "twelve"]
_UNITS = {"stars": r"stars?|starred|rated|rating", "people": r"people|persons?|guests?|adults?|of us|party|ppl|tickets?",
          "nights": r"nights?"}
_WORD = re.compile(r"[a-z0-9]+(?::[0-9]{2})?")
_STOP = frozenset(
    "i me my mine myself we our ours you your he she it its they them their a an the and or but if of to in on at "
    "for with from by as is am are was were be been being have has had having do does did doing not no so too "
    "very really just than then that this these those there here what which who whom when where why how all any "
    "some can could will would should may might must shall also about into over under up down out off again once "
    "like love lot lots enjoy favorite favourite thing things get got go going make made much many one time "
    "s t m re ve ll d".split()
)


# ---- the baseline -----------------------------------------------------------------------------
def truncate_last(messages: Sequence[Mapping[str, Any]], budget: int, tokenizer: Tokenizer | None = None
                  ) -> list[dict[str, Any]]:
    """System messages plus the newest whole messages that fit ``budget`` (trim_messages "last")."""
    tok = tokenizer or get_tokenizer()
    system = [dict(m) for m in messages if m.get("role") in ("system", "developer")]
    rest = [m for m in messages if m.get("role") not in ("system", "developer")]
    used = tok.count_messages(system)
    kept: list[dict[str, Any]] = []
    for m in reversed(rest):
        t = tok.count_messages([m], reply_priming=False)
        if used + t > budget:
            break
        kept.append(dict(m))
        used += t
    kept.reverse()
    while kept and kept[0].get("role") == "tool":  # never start on an orphan tool result
        kept.pop(0)
    return system + kept


# ---- MultiWOZ ---------------------------------------------------------------------------------
def multiwoz_facts(goal_message: Sequence[str]) -> list[tuple[str, str]]:
    """(kind, value) goal facts from a MultiWOZ goal's emphasised spans, deduplicated, in order."""
    out: list[tuple[str, str]] = []
    for line in goal_message:
        for m in _SPAN.finditer(line):
            v = m.group(1).strip().lower()
            after = line[m.end():m.end() + 6]
            fact: tuple[str, str] | None = None
            if v in _AREAS:
                fact = ("area", v)
            elif v in _PRICES:
                fact = ("price", v)
            elif v in _DAYS:
                fact = ("day", v)
            elif (s := re.fullmatch(r"a star of (\d+)", v)):
                fact = ("stars", s.group(1))
            elif (s := re.fullmatch(r"(\d+) (people|nights?)", v)):
                fact = ("people" if s.group(2) == "people" else "nights", s.group(1))
            elif (s := re.search(r"\b(\d{1,2}:\d{2})\b", v)):
                fact = ("time", s.group(1))
            elif after.startswith(" food"):
                fact = ("food", v)
            if fact and fact not in out:
                out.append(fact)
    return out


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("'", "")))


def multiwoz_present(text_norm: str, kind: str, value: str) -> bool:
    """Is the goal fact ``(kind, value)`` mentioned in ``text_norm`` (a :func:`_norm` text)?"""
    t = f" {text_norm} "
    if kind in ("area", "day", "food"):
        if kind == "area" and value == "centre":
            return " centre " in t or " center " in t or " central " in t
        return f" {value} " in t
    if kind == "price":
        return re.search(rf" {value[:5]}\w* ", t) is not None
    if kind == "time":
        alt = value.lstrip("0")
        return f" {value} " in t or f" {alt} " in t
    n = int(value)
    num = rf"(?:{n}|{_NUM_WORDS[n]})" if n < len(_NUM_WORDS) else str(n)
    unit = _UNITS[kind]
    return re.search(rf" {num} (?:\w+ ){{0,2}}(?:{unit}) | (?:{unit}) (?:\w+ ){{0,2}}{num} ", t) is not None


# ---- Persona-Chat -----------------------------------------------------------------------------
def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower().replace("'", "")) if w not in _STOP}


def _sentence_words(texts: Sequence[str]) -> list[set[str]]:
    out: list[set[str]] = []
    for text in texts:
        for line in text.split("\n"):
            out.extend(_content_words(line[a:b]) for a, b in sentence_spans(line))
    return out


def persona_evidence(fact: str, original_sentences: Sequence[set[str]]) -> frozenset[str] | None:
    """Evidence words of a persona fact in the original, or None when the conversation never states it."""
    words = _content_words(fact)
    if not words:
        return None
    best: set[str] = set()
    for s in original_sentences:
        hit = words & s
        if len(hit) > len(best):
            best = hit
    return frozenset(best) if len(best) >= max(1, math.ceil(len(words) / 2)) else None


def persona_retained(evidence: frozenset[str], fitted_sentences: Sequence[set[str]]) -> bool:
    """True when one sentence of the fitted history holds every evidence word."""
    return any(evidence <= s for s in fitted_sentences)


# ---- loaders ----------------------------------------------------------------------------------
def load_multiwoz(data_dir: Path | None, limit: int | None) -> Iterator[Case]:
    """MultiWOZ 2.1 validation dialogues as user/assistant messages with their goal facts."""
    path = require_file(data_dir, MULTIWOZ)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if limit is not None and n >= limit:
                break
            d = json.loads(line)
            msgs = [{"role": "user" if t["speaker"] == "USER" else "assistant", "content": t["text"]}
                    for t in d["turns"] if t["text"].strip()]
            yield Case(d["dialogue_id"], {"messages": msgs, "facts": multiwoz_facts(d["goal_message"])})


def load_multiwoz_long(data_dir: Path | None, limit: int | None, per_chat: int = 6) -> Iterator[Case]:
    """Long chats: ``per_chat`` consecutive MultiWOZ dialogues as one conversation (all their goal facts).

    Turns are short next to a long chat's budget here, as in real assistants, so batching has room
    to work; the single-dialogue suite measures the tight end.
    """
    dialogues = list(load_multiwoz(data_dir, None if limit is None else limit * per_chat))
    for n in range(len(dialogues) // per_chat):
        group = dialogues[n * per_chat:(n + 1) * per_chat]
        msgs = [m for c in group for m in c.data["messages"]]
        facts = [f for c in group for f in c.data["facts"]]
        yield Case("+".join(c.id for c in group), {"messages": msgs, "facts": list(dict.fromkeys(facts))})


def load_persona(data_dir: Path | None, limit: int | None) -> Iterator[Case]:
    """Synthetic-Persona-Chat validation conversations with both speakers' persona sentences."""
    path = require_file(data_dir, PERSONA)
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh)):
            if limit is not None and n >= limit:
                break
            msgs = []
            for line in row["Best Generated Conversation"].split("\n"):
                speaker, sep, text = line.partition(":")
                if sep and text.strip() and speaker.strip() in ("User 1", "User 2"):
                    msgs.append({"role": "user" if speaker.strip() == "User 1" else "assistant",
                                 "content": text.strip()})
            facts = [s.strip() for col in ("user 1 personas", "user 2 personas")
                     for s in row[col].split("\n") if s.strip()]
            if not any(m["role"] == "user" for m in msgs):
                continue  # nothing to fit: no user turn
            yield Case(f"persona-{n}", {"messages": msgs, "facts": facts})


# ---- methods ----------------------------------------------------------------------------------
def _ends(msgs: list[dict[str, Any]]) -> list[int]:
    """Request points: after each user message, and at the end."""
    ends = [i + 1 for i, m in enumerate(msgs) if m["role"] == "user"]
    if not ends or ends[-1] != len(msgs):
        ends.append(len(msgs))
    return ends


def _requests(method: str, msgs: list[dict[str, Any]], budget: int, params: Mapping[str, Any],
              tok: Tokenizer) -> list[list[dict[str, Any]]]:
    """One request per user turn (and the final one), as a chat loop would send them."""
    ends = _ends(msgs)
    out = []
    if method == "fit_history":
        h = RollingHistory(budget, keep_last=int(params.get("keep_last", 4)), tokenizer=tok,
                           chunk=params.get("chunk", 0.2), summary_tokens=params.get("summary_tokens", 0.6))
        done = 0
        for e in ends:
            h.extend(msgs[done:e])
            done = e
            out.append(h.messages())
    else:
        out = [truncate_last(msgs[:e], budget, tok) for e in ends]
    return out


def _fitted(method: str, msgs: list[dict[str, Any]], budget: int, params: Mapping[str, Any],
            tok: Tokenizer) -> list[dict[str, Any]]:
    if method == "fit_history":
        return fit_history(msgs, budget, keep_last=int(params.get("keep_last", 4)), tokenizer=tok,
                           chunk=params.get("chunk", 0.2), summary_tokens=params.get("summary_tokens", 0.6)).value
    return truncate_last(msgs, budget, tok)


def _request_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation up to its last user message: the request the final reply answers."""
    last = max((i for i, m in enumerate(msgs) if m["role"] == "user"), default=len(msgs) - 1)
    return msgs[: last + 1]


def _run(method: str, scorer: str, case: Case, ratio: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    msgs = _request_messages(case.data["messages"])
    before = tok.count_messages(msgs)
    # a request's final user message is never dropped: a budget below the longest user message is
    # raised to it (the same budget for every method)
    floor = max((tok.count_messages([m]) for m in msgs if m["role"] == "user"), default=0)
    budget = max(floor, int(before * (ratio if ratio is not None else 0.3)))
    fitted = _fitted(method, msgs, budget, params, tok)
    after = tok.count_messages(fitted)
    metrics: dict[str, float] = {}
    texts = [content_text(m.get("content")) for m in fitted]
    if scorer == "multiwoz":
        orig = _norm(" ".join(content_text(m["content"]) for m in msgs))
        fit = _norm(" ".join(texts))
        facts = [f for f in case.data["facts"] if multiwoz_present(orig, *f)]
        if facts:
            metrics["fact_retention"] = sum(multiwoz_present(fit, *f) for f in facts) / len(facts)
    else:
        orig_s = _sentence_words([content_text(m["content"]) for m in msgs])
        fit_s = _sentence_words(texts)
        ev = [e for f in case.data["facts"] if (e := persona_evidence(f, orig_s)) is not None]
        if ev:
            metrics["fact_retention"] = sum(persona_retained(e, fit_s) for e in ev) / len(ev)
    reqs = _requests(method, msgs, budget, params, tok)
    stab = prefix_stability(reqs)
    if stab is not None:
        metrics["prefix_stability"] = stab
    ends = _ends(msgs)
    full = sum(tok.count_messages(msgs[:e]) for e in ends)
    metrics["billed_ratio"] = sum(tok.count_messages(r) for r in reqs) / full if full else 1.0
    return MethodOutput(before, after, metrics)


def _method(method: str, scorer: str) -> Any:
    def run(case: Case, ratio: float | None, params: Mapping[str, Any]) -> MethodOutput:
        return _run(method, scorer, case, ratio, params)

    run.__name__ = f"{method}_{scorer}"
    return run


register_suite(Suite(
    name="history-multiwoz",
    task="history",
    description="MultiWOZ 2.1 validation dialogues: goal facts (area, stars, price, food, people, nights, day, "
                "time) kept by fit_history vs keeping the newest messages, at 50/30/20% of the tokens",
    load=load_multiwoz,
    methods={"fit_history": _method("fit_history", "multiwoz"), "truncate_last": _method("truncate", "multiwoz")},
    budgets=(0.5, 0.3, 0.2),
    needs_shared_data=True,
    primary_metric="fact_retention",
    baselines=("truncate_last",),
))

register_suite(Suite(
    name="history-persona",
    task="history",
    description="Synthetic-Persona-Chat validation: persona facts stated in the conversation kept by "
                "fit_history vs keeping the newest messages, at 50/30/20% of the tokens",
    load=load_persona,
    methods={"fit_history": _method("fit_history", "persona"), "truncate_last": _method("truncate", "persona")},
    budgets=(0.5, 0.3, 0.2),
    needs_shared_data=True,
    primary_metric="fact_retention",
    baselines=("truncate_last",),
))

register_suite(Suite(
    name="history-multiwoz-long",
    task="history",
    description="Long chats of 6 consecutive MultiWOZ dialogues (~90 messages): goal facts and prefix "
                "stability of fit_history vs keeping the newest messages, at 50/30/20% of the tokens",
    load=load_multiwoz_long,
    methods={"fit_history": _method("fit_history", "multiwoz"), "truncate_last": _method("truncate", "multiwoz")},
    budgets=(0.5, 0.3, 0.2),
    needs_shared_data=True,
    primary_metric="fact_retention",
    baselines=("truncate_last",),
))
