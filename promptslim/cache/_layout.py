"""split_cacheable: reorder a chat request into a byte-stable prefix and a per-request suffix.

The prefix holds the tools (sorted), the static part of the leading system/developer messages and
the stable history; the suffix holds one dynamic-context message (the spans moved out of the system
text, verbatim) and the newest user turn. Two requests that differ only in dynamic values get a
byte-identical prefix, which is what provider prompt caches match on. Tokens are not saved (the
moved text is still sent); what changes is how many of them a provider can bill at its cache price.

>>> lay = split_cacheable([{"role": "system", "content": "Today is 2026-11-22.\\nYou answer tax questions."},
...                        {"role": "user", "content": "Hi"}])
>>> [m["content"] for m in lay.messages]
['You answer tax questions.', 'Today is 2026-11-22.', 'Hi']
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..result import Change, Result, Savings
from ..tokens import Tokenizer, get_tokenizer
from ._detect import DynamicSpan
from ._stability import canonical_tools, sort_json_in_text, tool_name, unsorted_key_paths
from ._textsplit import split_text

__all__ = ["CacheLayout", "split_cacheable", "validate_messages", "ROLES"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_SYSTEM_ROLES = ("system", "developer")


@dataclass(frozen=True, slots=True)
class CacheLayout:
    """A request cut into a cacheable prefix and a per-request suffix, with what was moved.

    ``prefix``: static system/developer messages, then the stable history. ``suffix``: the newest
    user turn and what follows it. ``dynamic_context`` is rendered as one ``context_role`` message
    between them (see :attr:`messages`). Token counts use ``tokenizer``; ``system_count`` is how
    many leading ``prefix`` messages are system/developer (renderers put a cache marker after them).
    ``spans`` lists ``(message index, span)`` for every dynamic span found; ``token_factor`` is the
    tokenizer's scale (1.0 exact; 1.2 for Claude's approximate counts).
    """

    prefix: tuple[Mapping[str, Any], ...]
    suffix: tuple[Mapping[str, Any], ...]
    tools: tuple[Mapping[str, Any], ...]
    dynamic_context: str
    context_role: str
    system_count: int
    model: str | None
    tokenizer: str
    tools_tokens: int
    system_tokens: int
    prefix_tokens: int
    suffix_tokens: int
    changes: tuple[Change, ...]
    savings: Savings
    spans: tuple[tuple[int, DynamicSpan], ...] = field(default=())
    token_factor: float = 1.0

    @property
    def context_message(self) -> dict[str, Any] | None:
        """The dynamic context as a message, or None when nothing was moved."""
        return {"role": self.context_role, "content": self.dynamic_context} if self.dynamic_context else None

    @property
    def messages(self) -> list[Mapping[str, Any]]:
        """The full OpenAI-shaped message list: prefix, dynamic context, suffix."""
        ctx = self.context_message
        return [*self.prefix, *([ctx] if ctx else []), *self.suffix]

    @property
    def value(self) -> list[Mapping[str, Any]]:
        """Same as :attr:`messages`, so a layout reads like a :class:`Result`."""
        return self.messages

    @property
    def static_tokens(self) -> int:
        """Tokens of the tools plus the static system text: identical across requests of one template."""
        return self.tools_tokens + self.system_tokens

    @property
    def cacheable_share(self) -> float:
        """Share of the request's tokens that sit in the stable prefix (0..1)."""
        total = self.prefix_tokens + self.suffix_tokens
        return self.prefix_tokens / total if total else 0.0

    def result(self) -> Result[list[Mapping[str, Any]]]:
        """The layout as a plain :class:`Result` (messages, savings, changes)."""
        return Result(self.messages, self.savings, self.changes)

    def meets_minimum(self, model: str | None = None, provider: str | None = None) -> bool:
        """True when the prefix reaches the provider's cacheable minimum for ``model``."""
        from ._providers import prefix_meets_minimum

        name = model or self.model
        if name is None:
            raise InputError("meets_minimum needs a model name (none was given to split_cacheable)")
        return prefix_meets_minimum(self.prefix_tokens, name, provider)


def validate_messages(messages: Any) -> None:
    """Raise :class:`InputError` naming the index and the problem unless ``messages`` is OpenAI-shaped."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InputError(f"messages must be a list of dicts with 'role' and 'content', got {type(messages).__name__}")
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise InputError(f"messages[{i}] is {type(msg).__name__}, expected a dict with 'role' and 'content'")
        role = msg.get("role")
        if role is None:
            raise InputError(f"messages[{i}] has no 'role' (expected one of {', '.join(ROLES)})")
        if role not in ROLES:
            raise InputError(f"messages[{i}] has role {role!r}; expected one of {', '.join(ROLES)}")
        if "content" not in msg and not (role == "assistant" and ("tool_calls" in msg or "function_call" in msg)):
            raise InputError(f"messages[{i}] ({role}) has no 'content'")
        content = msg.get("content")
        if content is None:
            if role not in ("assistant", "tool", "function"):
                raise InputError(f"messages[{i}] ({role}) has content None; expected a string or a list of parts")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, (Mapping, str)):
                    raise InputError(f"messages[{i}].content[{j}] is {type(part).__name__}, expected a dict part")
                if isinstance(part, Mapping) and "type" not in part:
                    raise InputError(f"messages[{i}].content[{j}] has no 'type' (e.g. 'text', 'image_url')")
        elif not isinstance(content, str):
            raise InputError(f"messages[{i}].content is {type(content).__name__}; expected a string or a list of parts")


def _suffix_start(messages: Sequence[Mapping[str, Any]], lead: int) -> int:
    """Index where the per-request suffix begins: the newest user turn, plus system/developer
    messages right before it (a context message a caller or an earlier split put there)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    if last_user < 0:
        return len(messages)
    start = last_user
    while start - 1 >= lead and messages[start - 1].get("role") in _SYSTEM_ROLES:
        start -= 1
    return start


def _tools_text(tools: Sequence[Any]) -> str:
    return json.dumps(list(tools), separators=(",", ":"), ensure_ascii=False, default=str) if tools else ""


def split_cacheable(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    model: str | Tokenizer | None = None,
    *,
    kinds: Collection[str] | None = None,
    keep: Iterable[str | re.Pattern[str]] = (),
    sort_tools: bool = True,
    sort_tool_keys: bool = True,
    sort_json: bool = False,
    context_role: str | None = None,
    context_header: str = "",
) -> CacheLayout:
    """Cut ``messages`` (+ ``tools``) into a byte-stable prefix and a per-request suffix.

    Dynamic spans (dates, ids, names, e-mails, template slots, counters; see
    :func:`find_dynamic_spans`) in the leading system/developer messages move, verbatim, into one
    context message placed before the newest user turn. ``keep`` marks strings/regexes that are static.
    Tools are sorted by name and their keys sorted (``sort_tools``/``sort_tool_keys``). JSON objects in
    the system text are key-sorted only with ``sort_json=True`` (an output example's key order can
    matter to the model). Content-part lists (images, files) are never modified. ``context_header``
    is an optional first line for the context message (e.g. ``"Request context:"``).
    """
    validate_messages(messages)
    if context_role is not None and context_role not in ROLES:
        raise InputError(f"context_role {context_role!r}; expected one of {', '.join(ROLES)}")
    tok = get_tokenizer(model)
    model_name = model if isinstance(model, str) else None
    tool_list = list(tools or [])
    for i, t in enumerate(tool_list):
        tool_name(t, i)  # validates shape with the index in the message
    changes: list[Change] = []
    lead = 0
    while lead < len(messages) and messages[lead].get("role") in _SYSTEM_ROLES:
        lead += 1
    cut = _suffix_start(messages, lead)
    head: list[Mapping[str, Any]] = []
    moved: list[str] = []
    found: list[tuple[int, DynamicSpan]] = []
    for i in range(lead):
        msg = messages[i]
        content = msg.get("content")
        loc = f"messages[{i}].content"
        if not isinstance(content, str):
            if isinstance(content, list) and split_text(_parts_text(content), kinds=kinds, keep=keep).units:
                changes.append(Change("note", "cache-content-parts", loc, None, "", "", 0,
                                      "dynamic content inside a content-part list was left in place"))
            head.append(msg)
            continue
        text = content
        if sort_json:
            text, edits = sort_json_in_text(text)
            for s, e, old_json, new_json in edits:
                changes.append(Change("sort_keys", "cache-json-keys", loc, (s, e), old_json, new_json, 0,
                                      "JSON keys sorted for a byte-stable prefix"))
        split = split_text(text, kinds=kinds, keep=keep)
        found.extend((i, sp) for sp in split.spans)
        for u in split.units:
            kinds_moved = ", ".join(sorted({sp.kind for sp in u.spans})) or "heading"
            changes.append(Change("move", "cache-dynamic", loc, (u.start, u.end), text[u.start:u.end], u.replacement,
                                  0, f"{kinds_moved} moved to the dynamic context after the cached prefix"))
        moved.extend(split.dynamic)
        if split.static.strip():
            head.append({**msg, "content": split.static} if split.static != content else msg)
        elif split.units:
            changes.append(Change("note", "cache-dynamic", loc, None, "", "", 0,
                                  "system message held only dynamic content; it now lives in the context message"))
    new_tools = tool_list
    if tool_list and (sort_tools or sort_tool_keys):
        if sort_tools:
            new_tools = canonical_tools(tool_list, sort_keys=sort_tool_keys)
        else:
            new_tools = [canonical_tools([t], sort_keys=True)[0] for t in tool_list]
        old_names = [tool_name(t, i) for i, t in enumerate(tool_list)]
        new_names = [tool_name(t, i) for i, t in enumerate(new_tools)]
        if old_names != new_names:
            changes.append(Change("reorder", "cache-tool-order", "tools", None, ", ".join(old_names),
                                  ", ".join(new_names), 0, "tools sorted by name for a byte-stable prefix"))
        if sort_tool_keys:
            for j, t in enumerate(tool_list):
                paths = unsorted_key_paths(t, f"tools[{j}]")
                if paths:
                    changes.append(Change("sort_keys", "cache-json-keys", f"tools[{j}]", None, ", ".join(paths),
                                          tool_name(t, j), 0, "tool definition keys sorted"))
    role = context_role or next((m.get("role", "system") for m in messages[:lead]), "system")
    dynamic = "\n".join(moved)
    if dynamic and context_header:
        dynamic = f"{context_header}\n{dynamic}"
    prefix = tuple(head) + tuple(messages[lead:cut])
    suffix = tuple(messages[cut:])
    ctx = [{"role": role, "content": dynamic}] if dynamic else []
    # each message is counted once (sums of per-message counts equal count_messages of the list)
    counts = [tok.count_messages([m], reply_priming=False) for m in messages]
    priming = tok.count_messages([], reply_priming=True)
    by_id = {id(m): n for m, n in zip(messages, counts, strict=True)}

    def n_msg(m: Mapping[str, Any]) -> int:
        n = by_id.get(id(m))
        return n if n is not None else tok.count_messages([m], reply_priming=False)

    tools_before = tok.count(_tools_text(tool_list))
    tools_tokens = tools_before if new_tools is tool_list else tok.count(_tools_text(new_tools))
    system_tokens = sum(n_msg(m) for m in head)
    prefix_tokens = tools_tokens + system_tokens + sum(counts[lead:cut])
    suffix_tokens = sum(n_msg(m) for m in ctx) + sum(counts[cut:]) + (priming if (suffix or ctx) else 0)
    before = tools_before + sum(counts) + priming
    after = prefix_tokens + suffix_tokens if (suffix or ctx) else prefix_tokens + priming
    return CacheLayout(
        prefix=prefix, suffix=suffix, tools=tuple(new_tools), dynamic_context=dynamic, context_role=role,
        system_count=len(head), model=model_name, tokenizer=tok.name, tools_tokens=tools_tokens,
        system_tokens=system_tokens, prefix_tokens=prefix_tokens, suffix_tokens=suffix_tokens,
        changes=tuple(changes), savings=Savings(before, after, tok.name, tok.exact), spans=tuple(found),
        token_factor=tok.factor,
    )


def _parts_text(parts: list[Any]) -> str:
    return "\n".join(p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str))
