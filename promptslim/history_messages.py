"""Message checks and turn grouping for :mod:`promptslim.history`.

A *turn* is one non-system message, except that an assistant message with tool calls and the tool
results answering it form a single turn: they must travel together, or the provider rejects the
request (an orphan tool result is the classic failure of message trimmers).

Empty content, precisely: ``system``, ``developer`` and ``user`` messages need some non-whitespace
text or a non-text part (an image); an ``assistant`` message may be empty or ``None`` only when it
carries ``tool_calls`` (or a legacy ``function_call``/``refusal``); a ``tool`` result may be the empty
string (a tool may return nothing) but not missing. Anything else raises :class:`InputError` naming
the message index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .tokens import Tokenizer, content_text, message_text

__all__ = ["ROLES", "SYSTEM_ROLES", "Turn", "MessageCounter", "check_message", "shorten_text", "tool_parent"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
SYSTEM_ROLES = frozenset({"system", "developer"})


@dataclass(slots=True)
class Turn:
    """Messages that move as one (a message, or an assistant tool call and its results)."""

    indices: list[int]
    messages: list[Mapping[str, Any]]
    tokens: int
    sizes: list[int]  # tokens of each message
    pending: set[str] = field(default_factory=set)  # tool_call ids the next tool messages may answer
    legacy_call: bool = False  # assistant used the legacy function_call


def _has_nontext_part(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(p, Mapping) and p.get("type") not in (None, "text", "input_text", "output_text") for p in content
    )


def check_message(msg: Any, index: int) -> str:
    """Validate one OpenAI-shaped message; return its role. Errors name ``messages[index]``."""
    where = f"messages[{index}]"
    if not isinstance(msg, Mapping):
        raise InputError(f"{where} is {type(msg).__name__}, expected a dict with 'role' and 'content'")
    role = msg.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise InputError(f"{where} has role {role!r}; expected one of {', '.join(ROLES)}")
    content = msg.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise InputError(f"{where}.content is {type(content).__name__}; expected a string, a list of parts or None")
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, (Mapping, str)):
                raise InputError(f"{where}.content[{j}] is {type(part).__name__}; expected a content part dict")
    empty = not content_text(content).strip() and not _has_nontext_part(content)
    if role == "assistant":
        calls = msg.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list) or not calls:
                raise InputError(f"{where}.tool_calls must be a non-empty list")
            for j, call in enumerate(calls):
                if not isinstance(call, Mapping) or not isinstance(call.get("id"), str) or not call["id"]:
                    raise InputError(f"{where}.tool_calls[{j}] needs a string 'id'")
        if empty and not (calls or msg.get("function_call") or msg.get("refusal")):
            raise InputError(f"{where} (assistant) has empty content and no tool_calls")
    elif role == "tool":
        if not isinstance(msg.get("tool_call_id"), str):
            raise InputError(f"{where} (tool) needs a string 'tool_call_id'")
        if content is None:
            raise InputError(f"{where} (tool) has no content; use \"\" for a tool that returned nothing")
    elif role == "function":
        if content is None:
            raise InputError(f"{where} (function) has no content")
    elif empty:
        raise InputError(f"{where} ({role}) has empty content; drop the message or give it text")
    return role


def tool_parent(turns: Sequence[Turn], msg: Mapping[str, Any], role: str, index: int) -> Turn:
    """The turn a tool/function result belongs to: the previous turn, when it made that call."""
    last = turns[-1] if turns else None
    if role == "tool":
        cid = msg["tool_call_id"]
        if last is not None and cid in last.pending:
            last.pending.discard(cid)
            return last
        raise InputError(
            f"messages[{index}] is a tool result for tool_call_id {cid!r}, which no assistant message "
            "right before it called (an orphan tool message)"
        )
    if last is not None and last.legacy_call:
        return last
    raise InputError(f"messages[{index}] is a function result with no assistant function_call before it")


def shorten_text(text: str, max_tokens: int, tokenizer: Tokenizer, marker: str) -> str:
    """``text`` cut to at most ``max_tokens`` tokens, keeping its head and ending in ``marker``.

    ``marker`` may contain ``{n}`` (tokens removed). Returns "" when not even the marker fits.
    """
    ids = tokenizer.encode(text)
    if len(ids) <= max_tokens:
        return text
    keep = max_tokens - tokenizer.count(marker.format(n=len(ids)))
    while keep > 0:
        head = tokenizer.decode(ids[:keep]).rstrip()
        out = head + marker.format(n=len(ids) - keep)
        if tokenizer.count(out) <= max_tokens:
            return out
        keep -= 1
    return ""


class MessageCounter:
    """``tokenizer.count_messages([msg], reply_priming=False)`` for one message at a time, faster.

    Same arithmetic (per-message and per-name overhead measured from the tokenizer itself), with the
    counts of short repeated strings (roles, names) memoised: history fitting counts every message.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tok = tokenizer
        self.per_message = tokenizer.count_messages([{}], reply_priming=False)
        self.per_name = tokenizer.count_messages([{"name": ""}], reply_priming=False) - self.per_message
        self._short: dict[str, int] = {}

    def __call__(self, msg: Mapping[str, Any]) -> int:
        total = self.per_message
        for key, value in msg.items():
            if key == "content":
                total += self.tok.count(content_text(value))
                continue
            if key == "name":
                total += self.per_name
            text = message_text(value)
            if len(text) <= 32:
                n = self._short.get(text)
                if n is None:
                    n = self._short[text] = self.tok.count(text)
                total += n
            else:
                total += self.tok.count(text)
        return total
