"""Conversation history under a token budget: a rolling window of verbatim turns plus one summary.

Turns that leave the window are summarized (by default extractively, offline) into one message placed
right after the system messages. Summaries are made in *batches*: when the request overflows the
budget, enough old turns leave to free an extra ``chunk`` of room, so the next several requests only
append turns and share their whole prefix with the previous one (provider prompt caches keep
hitting). Between batches the summary message is byte-stable. :func:`fit_history` replays the same
batching over a message list, so a stateless server calling it on every turn sends exactly what a
:class:`RollingHistory` would.

Guarantees: system messages are kept unchanged and first; a tool call and its results move together
and the output never starts with an orphan tool result; the request fits ``budget`` (counted with
the OpenAI per-message overhead); the final message is never dropped; every message that leaves is
listed in the ``Change`` records. The budget is laid out as system | summary reserve
(``summary_tokens``) | window, and the last ``keep_last`` turns stay verbatim while they fit the
window. When they do not (these turns, or keep_last turns of the window's average size), turns are large
next to the budget and a share reserve grows to ``[window] tight_summary`` of the room left after the
chunk (rules/history.toml). Degradation is, in order: summarize the older kept turns (oldest first,
never the final turn; rule ``history-degrade``), shrink the summary to the room left, then shorten
the longest non-final message with a visible marker; if the system messages plus the final message
still do not fit, InputError.

>>> msgs = [{"role": "user", "content": "I need a hotel in the east for 3 people."},
...         {"role": "assistant", "content": "Sure. Which day?"},
...         {"role": "user", "content": "Monday, 4 nights."}]
>>> fit_history(msgs, budget=1000).value == msgs
True
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._toml import load_package_toml
from .errors import InputError
from .history_messages import SYSTEM_ROLES, MessageCounter, Turn, check_message, shorten_text, tool_parent
from .result import Change, Result, Savings
from .summarize import ExtractiveSummarizer, SummaryState, extractive_summarizer
from .tokens import Tokenizer, content_text, get_tokenizer, message_text

__all__ = ["fit_history", "RollingHistory", "prefix_stability", "Summarizer"]

Summarizer = Callable[..., str]
"""``summarizer(messages, previous_summary) -> str``; may also accept ``max_tokens=`` and ``tokenizer=``."""

_RULES = load_package_toml("rules/history.toml")
_MARKER: str = _RULES["summary"]["trim_marker"]
_TIGHT: float = float(_RULES["window"]["tight_summary"])


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _text_of(msg: Mapping[str, Any]) -> str:
    text = content_text(msg.get("content"))
    if msg.get("tool_calls"):
        text = (text + "\n" if text else "") + message_text(msg["tool_calls"])
    return text


class _Window:
    """The batching engine shared by :func:`fit_history` and :class:`RollingHistory`."""

    def __init__(self, budget: int, keep_last: int, summarizer: Summarizer | None, tokenizer: Any,
                 chunk: float | int, summary_tokens: float | int, summary_role: str, copy_messages: bool) -> None:
        if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
            raise InputError(f"budget must be a positive number of tokens, got {budget!r}")
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 0:
            raise InputError(f"keep_last must be a non-negative int, got {keep_last!r}")
        if isinstance(chunk, bool) or not isinstance(chunk, (int, float)) or chunk < 0 or (
                isinstance(chunk, float) and chunk >= 1):
            raise InputError(f"chunk must be a float in [0, 1) (share of the window) or an int of tokens, got {chunk!r}")
        if isinstance(summary_tokens, bool) or not isinstance(summary_tokens, (int, float)) or summary_tokens < 0 or (
                isinstance(summary_tokens, float) and summary_tokens > 1):
            raise InputError(f"summary_tokens must be a float in [0, 1] (share of the budget left after the system "
                             f"messages) or an int of tokens, got {summary_tokens!r}")
        if isinstance(summary_tokens, float) and isinstance(chunk, float) and summary_tokens + chunk >= 1:
            raise InputError(f"summary_tokens ({summary_tokens}) + chunk ({chunk}) must stay below 1: the window needs room")
        if summary_role not in ("system", "developer", "user", "assistant"):
            raise InputError(f"summary_role must be system, developer, user or assistant, got {summary_role!r}")
        self.budget, self.keep_last, self.chunk = budget, keep_last, chunk
        self.summary_cap_tokens, self.summary_role, self.copy = summary_tokens, summary_role, copy_messages
        self.tok: Tokenizer = get_tokenizer(tokenizer)
        self.summarizer = summarizer if summarizer is not None else extractive_summarizer
        if not callable(self.summarizer):
            raise InputError(f"summarizer must be callable(messages, previous_summary) -> str, got {summarizer!r}")
        plain = not isinstance(self.summarizer, ExtractiveSummarizer)
        self._pass_budget = plain and _accepts(self.summarizer, "max_tokens")
        self._pass_tok = plain and _accepts(self.summarizer, "tokenizer")
        self.count = MessageCounter(self.tok)
        self.priming = self.tok.count_messages([])
        self._summary_overhead = self.tok.count_messages([{"role": summary_role, "content": ""}], reply_priming=False)
        self.system: list[tuple[int, Mapping[str, Any]]] = []
        self.input_tokens = self.priming  # tokens of every message appended, as one request
        self.sys_tokens = 0
        self.turns: list[Turn] = []
        self.turn_tokens = 0
        self.summary: str | None = None
        self.summary_tokens = 0
        self._state: SummaryState | None = None
        self.changes: list[Change] = []
        self.n = 0
        self.compactions = 0

    # ---- sizes -------------------------------------------------------------------------------
    def total(self) -> int:
        """Tokens of the request as it stands (before any render-time shortening)."""
        return self.priming + self.sys_tokens + self.summary_tokens + self.turn_tokens

    def _room(self) -> int:
        return self.budget - self.priming - self.sys_tokens

    def _summary_cap(self) -> int:
        if isinstance(self.summary_cap_tokens, int):
            return self.summary_cap_tokens
        return max(0, int(self._room() * self.summary_cap_tokens))

    def _chunk_tokens(self) -> int:
        chunk = self.chunk if isinstance(self.chunk, int) else int(self.chunk * max(0, self._room()))
        # slack smaller than one exchange (two typical turns) cannot spare the next request a batch: do not
        # waste the budget on it
        n = len(self.turns)
        typical = self.turn_tokens / n if n else 0
        return chunk if chunk >= 2 * typical else 0

    # ---- appending ---------------------------------------------------------------------------
    def append(self, msg: Any) -> None:
        i = self.n
        role = check_message(msg, i)
        m: Mapping[str, Any] = copy.deepcopy(msg) if self.copy else msg
        t = self.count(m)
        self.input_tokens += t
        if role in SYSTEM_ROLES:
            if self.priming + self.sys_tokens + t > self.budget:
                idx = ", ".join(f"messages[{j}]" for j, _ in self.system + [(i, m)])
                raise InputError(f"budget {self.budget} is smaller than the system messages ({idx}: "
                                 f"{self.sys_tokens + t + self.priming} tokens with reply priming)")
            if self.turns or self.summary is not None:
                self.changes.append(Change("move", "history-system-first", f"messages[{i}]", None,
                                           _text_of(m), _text_of(m), 0,
                                           "system message moved up to join the system messages"))
            self.system.append((i, m))
            self.sys_tokens += t
        else:
            if role in ("tool", "function"):
                parent = tool_parent(self.turns, m, role, i)
                parent.indices.append(i)
                parent.messages.append(m)
                parent.tokens += t
                parent.sizes.append(t)
                parent.legacy_call = False if role == "function" else parent.legacy_call
            else:
                calls = m.get("tool_calls") if role == "assistant" else None
                self.turns.append(Turn([i], [m], t, [t], {c["id"] for c in calls} if calls else set(),
                                       role == "assistant" and bool(m.get("function_call"))))
            self.turn_tokens += t
        self.n += 1
        if self.total() > self.budget:
            self._compact()

    # ---- batching ----------------------------------------------------------------------------
    def _compact(self) -> None:
        """Move the oldest turns into the summary until the request fits with ``chunk`` to spare."""
        cap = self._summary_cap()
        target = self.budget - self._chunk_tokens()
        fixed = self.priming + self.sys_tokens + cap
        k, left = 0, self.turn_tokens
        protected = max(self.keep_last, 1)
        while k < len(self.turns) - protected and fixed + left > target:
            left -= self.turns[k].tokens
            k += 1
        if cap and isinstance(self.summary_cap_tokens, float) and _TIGHT > self.summary_cap_tokens and (
                fixed + left > target or self.turn_tokens / len(self.turns) * protected > target - fixed):
            # keep_last turns (these, or of the typical size) do not fit beside the reserve: turns are large next
            # to the budget, and a summary line holds more facts per token than a verbatim turn, so the summary's
            # share grows
            cap = max(cap, int((target - self.priming - self.sys_tokens) * _TIGHT))  # the chunk keeps its slack
            fixed = self.priming + self.sys_tokens + cap
            while k < len(self.turns) - protected and fixed + left > target:
                left -= self.turns[k].tokens
                k += 1
        # degrade: the kept turns do not fit beside the summary reserve; summarize the older ones, oldest
        # first, but never the final turn (summary_tokens=0 makes the kept turns win whenever they fit)
        while k < len(self.turns) - 1 and fixed + left > (target if cap else self.budget):
            left -= self.turns[k].tokens
            k += 1
        if k == 0:
            if self.summary is not None and self.total() > self.budget:  # the summary outgrew its reserve
                old, before = self.summary, self.summary_tokens
                self.compactions += 1  # a rewrite of the summary, like a batch
                room = (target if fixed + left <= target else self.budget) - self.priming - self.sys_tokens - left
                self._summarize([], room)
                if self.summary:
                    self.changes.append(Change("shorten", "history-summary-budget", "summary", None, old,
                                               self.summary, before - self.summary_tokens,
                                               "summary shrunk to the room the kept turns leave"))
            return
        first_kept = len(self.turns) - protected  # turns from here on were promised verbatim
        leaving, self.turns = self.turns[:k], self.turns[k:]
        self.turn_tokens = left
        self.compactions += 1
        # the summary may use all the room the window leaves below the target (at least its reserve), or up
        # to the budget when even the kept turns did not fit; it shrinks back when the window grows
        limit = target if fixed + left <= target else self.budget
        room = limit - self.priming - self.sys_tokens - left
        self._summarize(leaving, room, first_kept)

    def _summarize(self, leaving: list[Turn], room: int, first_kept: int = 0) -> None:
        msgs = [m for t in leaving for m in t.messages]
        max_text = room - self._summary_overhead
        previous = self.summary
        text, n_text = "", 0
        if max_text > 0 and isinstance(self.summarizer, ExtractiveSummarizer):
            text, self._state = self.summarizer.update(self._state, msgs, max_tokens=max_text, tokenizer=self.tok)
            n_text = self._state.tokens
        elif max_text > 0:
            kwargs: dict[str, Any] = {}
            if self._pass_budget:
                kwargs["max_tokens"] = max_text
            if self._pass_tok:
                kwargs["tokenizer"] = self.tok
            out = self.summarizer([dict(m) for m in msgs], previous, **kwargs)
            if not isinstance(out, str):
                raise InputError(f"summarizer returned {type(out).__name__}, expected str")
            text = out.strip()
            n = self.tok.count(text)
            if n > max_text:
                text = shorten_text(text, max_text, self.tok, _MARKER)
                self.changes.append(Change("shorten", "history-summary-budget", "summary", None, out, text,
                                           n - self.tok.count(text), f"summary cut to its budget of {max_text} tokens"))
            n_text = self.tok.count(text)
        if text:
            self.summary = text
            self.summary_tokens = self._summary_overhead + n_text
            why = f"left the window (batch {self.compactions}); summarized into the history summary"
        else:
            if previous:
                self.changes.append(Change("drop", "history-summary", "summary", None, previous, "",
                                           0, "no room left for a summary"))
            self.summary, self.summary_tokens = None, 0
            why = f"left the window (batch {self.compactions}); no room for a summary, dropped"
        for j, t in enumerate(leaving):
            rule = "history-degrade" if j >= first_kept else "history-window"
            reason = why + ("; one of the last keep_last turns: they did not fit beside the summary reserve" if j >= first_kept else "")
            for i, m, n in zip(t.indices, t.messages, t.sizes, strict=True):
                self.changes.append(Change("summarize" if text else "drop", rule, f"messages[{i}]", None,
                                           _text_of(m), "", n, reason))

    # ---- rendering ---------------------------------------------------------------------------
    def summary_message(self) -> dict[str, Any] | None:
        return {"role": self.summary_role, "content": self.summary} if self.summary else None

    def render(self) -> tuple[list[dict[str, Any]], list[Change]]:
        """The request messages, and any render-time shortening needed to fit the budget."""
        out: list[dict[str, Any]] = [dict(m) for _, m in self.system]
        where: list[str] = [f"messages[{i}]" for i, _ in self.system]
        sm = self.summary_message()
        if sm is not None:
            out.append(sm)
            where.append("summary")
        for t in self.turns:
            out.extend(dict(m) for m in t.messages)
            where.extend(f"messages[{i}]" for i in t.indices)
        excess = self.total() - self.budget
        changes: list[Change] = []
        n_sys = len(self.system)
        while excess > 0:
            best, best_n = -1, 0
            for j in range(n_sys, len(out) - 1):  # never system messages, never the final message
                if isinstance(out[j].get("content"), str):
                    n = self.tok.count(out[j]["content"])
                    if n > best_n:
                        best, best_n = j, n
            if best < 0:
                what = f"the final turn ({where[-1]} and the messages it needs)" if where else "an empty request"
                raise InputError(f"budget {self.budget} cannot hold the system messages plus {what}: "
                                 f"{self.budget + excess} tokens")
            old = out[best]["content"]
            new = shorten_text(old, max(0, best_n - excess), self.tok, _MARKER)
            saved = best_n - self.tok.count(new)
            out[best] = {**out[best], "content": new}
            changes.append(Change("shorten", "history-overflow", where[best], None, old, new, saved,
                                  "kept turns exceed the budget: longest non-final message shortened"))
            excess -= saved
        return out, changes


def prefix_stability(requests: Sequence[Sequence[Mapping[str, Any]]]) -> float | None:
    """Share of consecutive request pairs where the earlier request is a prefix of the later one.

    A pair is stable when the next request only appends messages: a provider prompt cache then
    reuses everything sent before. None for fewer than two requests.
    """
    if len(requests) < 2:
        return None
    stable = sum(1 for a, b in zip(requests[:-1], requests[1:], strict=True) if len(a) <= len(b) and list(b[: len(a)]) == list(a))
    return stable / (len(requests) - 1)


def fit_history(
    messages: Sequence[Mapping[str, Any]],
    budget: int,
    keep_last: int = 4,
    summarizer: Summarizer | None = None,
    tokenizer: Tokenizer | str | None = None,
    *,
    chunk: float | int = 0.2,
    summary_tokens: float | int = 0.6,
    summary_role: str = "system",
) -> Result[list[dict[str, Any]]]:
    """Fit a chat history into ``budget`` tokens: system first, a summary, then the newest turns.

    ``keep_last`` turns (a tool call with its results counts as one) stay verbatim while they fit
    beside the summary reserve; ``chunk`` is the extra room freed at each summary batch and
    ``summary_tokens`` the summary's reserve (each a share of the budget left after the system
    messages, or an int of tokens; defaults 20% and 60%). The default
    summarizer is :data:`promptslim.extractive_summarizer`; any ``callable(messages,
    previous_summary) -> str`` works (an LLM call). Pure: the input is not modified.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InputError(f"messages must be a list of message dicts, got {type(messages).__name__}")
    w = _Window(budget, keep_last, summarizer, tokenizer, chunk, summary_tokens, summary_role, False)
    for m in messages:
        w.append(m)
    out, extra = w.render()
    changes = list(w.changes)
    if w.summary:
        changes.append(Change("insert", "history-summary", "summary", None, "", w.summary, -w.summary_tokens,
                              f"summary of {w.n - len(w.system) - sum(len(t.indices) for t in w.turns)} earlier "
                              "messages, placed after the system messages"))
    before = w.input_tokens
    after = w.total() - sum(c.tokens_saved for c in extra)
    return Result(out, Savings(before, after, w.tok.name, w.tok.exact), tuple(changes + extra))


class RollingHistory:
    """A chat loop's history under a budget: ``append`` each message, send ``messages()``.

    The summary is updated incrementally (previous summary plus the turns leaving now) and only in
    batches, so consecutive requests share their prefix. ``prefix_stability`` reports the share of
    consecutive ``messages()`` calls where the earlier request was a prefix of the later one.

    >>> h = RollingHistory(budget=200)
    >>> h.append({"role": "system", "content": "You are terse."})
    >>> h.append({"role": "user", "content": "Hi, I am Ada."})
    >>> [m["role"] for m in h.messages()]
    ['system', 'user']
    """

    def __init__(self, budget: int, keep_last: int = 4, summarizer: Summarizer | None = None, *,
                 tokenizer: Tokenizer | str | None = None, chunk: float | int = 0.2,
                 summary_tokens: float | int = 0.6, summary_role: str = "system") -> None:
        self._w = _Window(budget, keep_last, summarizer, tokenizer, chunk, summary_tokens, summary_role, True)
        self._last: list[dict[str, Any]] | None = None
        self._pairs = self._stable = 0

    def append(self, message: Mapping[str, Any]) -> None:
        """Add one message (validated; copied, so later edits by the caller do not leak in)."""
        self._w.append(message)

    def extend(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Append several messages in order."""
        for m in messages:
            self._w.append(m)

    def messages(self) -> list[dict[str, Any]]:
        """The request to send now: system messages, the summary, the window (fits the budget)."""
        out, _ = self._w.render()
        if self._last is not None:
            self._pairs += 1
            n = len(self._last)
            self._stable += int(len(out) >= n and out[:n] == self._last)
        self._last = out
        return [dict(m) for m in out]

    @property
    def summary(self) -> str | None:
        """The current summary text (None before any turn has left the window)."""
        return self._w.summary

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every message that left the window so far, and other edits, in order."""
        return tuple(self._w.changes)

    @property
    def compactions(self) -> int:
        """How many summary batches have run."""
        return self._w.compactions

    @property
    def prefix_stability(self) -> float | None:
        """Share of consecutive ``messages()`` calls whose requests share the whole earlier one."""
        return self._stable / self._pairs if self._pairs else None

    @property
    def tokens(self) -> int:
        """Tokens of the current request (OpenAI per-message overhead, reply priming included)."""
        return self._w.tok.count_messages(self._w.render()[0])

    def __len__(self) -> int:
        return self._w.n
