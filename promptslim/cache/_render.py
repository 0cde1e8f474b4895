"""Render a :class:`CacheLayout` as an Anthropic, OpenAI or Gemini request with cache hints.

Anthropic caches up to explicit ``cache_control`` breakpoints (at most 4, each only if the prefix up
to it reaches the model's minimum; 1-hour entries must come before 5-minute ones). OpenAI and Gemini
cache automatically on an exact prefix above a minimum length, so their renderers put the static
prefix first and report whether it is long enough. The dynamic context always goes into the newest
user turn, after every breakpoint.

>>> from promptslim.cache import split_cacheable
>>> lay = split_cacheable([{"role": "system", "content": "Be brief. " * 400}, {"role": "user", "content": "Hi"}])
>>> r = to_anthropic(lay, model="claude-sonnet-4-5")
>>> r.breakpoints, r.request["system"][-1]["cache_control"]
(('system[0]',), {'type': 'ephemeral'})
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, UnknownModelError
from ..tokens import content_text, get_tokenizer
from ._layout import CacheLayout
from ._providers import CacheRules, cache_rules, provider_for_model

__all__ = ["RenderedRequest", "to_anthropic", "to_openai", "to_gemini", "anthropic_breakpoints"]

_DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o", "google": "gemini-2.5-flash"}


@dataclass(frozen=True, slots=True)
class RenderedRequest:
    """A provider request body (pass ``**request`` to the SDK call) and what it means for caching.

    ``prefix_tokens`` is the stable prefix in the model's tokens (approximate where the provider
    publishes no tokenizer); ``cacheable_tokens`` how much of it the provider can serve from cache
    once warm (0 below ``min_tokens``); ``breakpoints`` where cache markers went.
    """

    provider: str
    model: str
    request: dict[str, Any]
    prefix_tokens: int
    cacheable_tokens: int
    min_tokens: int
    breakpoints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def meets_minimum(self) -> bool:
        """True when the stable prefix is long enough to be cached at all."""
        return self.prefix_tokens >= self.min_tokens


def _rules(layout: CacheLayout, model: str | None, provider: str) -> CacheRules:
    """Rules for ``model``, else the layout's model when it belongs to ``provider``, else a default."""
    name = model
    if name is None and layout.model is not None:
        try:
            same = provider_for_model(layout.model) == provider
        except UnknownModelError:
            same = False
        name = layout.model if same else None
    return cache_rules(name or _DEFAULT_MODELS[provider], provider)


def _model_tokens(layout: CacheLayout, model: str, n_layout_tokens: int) -> int:
    """Layout token counts re-expressed in ``model``'s tokens (scaled for approximate tokenizers)."""
    factor = get_tokenizer(model).factor
    if factor == layout.token_factor:
        return n_layout_tokens
    return math.ceil(n_layout_tokens / layout.token_factor * factor)


def _text_of(content: Any) -> str:
    return content if isinstance(content, str) else content_text(content)


def _data_url(url: str) -> tuple[str, str] | None:
    if url.startswith("data:") and ";base64," in url:
        head, data = url[5:].split(";base64,", 1)
        return head or "application/octet-stream", data
    return None


def _anthropic_part(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    kind = part.get("type")
    if kind in ("text", "input_text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind == "image_url":
        url = part["image_url"]["url"] if isinstance(part.get("image_url"), Mapping) else part.get("image_url", "")
        data = _data_url(url)
        source = {"type": "base64", "media_type": data[0], "data": data[1]} if data else {"type": "url", "url": url}
        return {"type": "image", "source": source}
    if kind == "file" and isinstance(part.get("file"), Mapping):
        data = _data_url(part["file"].get("file_data", ""))
        if data:
            return {"type": "document", "source": {"type": "base64", "media_type": data[0], "data": data[1]}}
    return dict(part)  # already an Anthropic block (or unknown): passed through as is


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_anthropic_part(p) for p in content]


def _anthropic_message(msg: Mapping[str, Any]) -> dict[str, Any]:
    role = msg["role"]
    if role in ("tool", "function"):
        return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": msg.get("tool_call_id", msg.get("name", "")),
                                             "content": _text_of(msg.get("content"))}]}
    blocks = _anthropic_blocks(msg.get("content"))
    if role == "assistant":
        for call in msg.get("tool_calls") or []:
            fn = call.get("function", {})
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except ValueError as exc:
                raise InputError(f"tool call {call.get('id')!r}: arguments are not JSON ({exc})") from None
            blocks.append({"type": "tool_use", "id": call.get("id", ""), "name": fn.get("name", ""), "input": args})
        return {"role": "assistant", "content": blocks}
    return {"role": "user", "content": blocks}


def _anthropic_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    fn = tool.get("function")
    if isinstance(fn, Mapping):
        out = {"name": fn["name"], "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}}
        if fn.get("description"):
            out["description"] = fn["description"]
        return out
    return dict(tool)


def anthropic_breakpoints(segment_tokens: Sequence[int], min_tokens: int, max_breakpoints: int = 4) -> list[int]:
    """Indexes of the segments whose end gets a cache marker.

    ``segment_tokens`` are the token sizes of the cacheable segments in order (tools, system,
    history); a segment qualifies when it is non-empty and the prefix up to its end reaches
    ``min_tokens``. When more than ``max_breakpoints`` qualify, the latest ones win (they cover more).

    >>> anthropic_breakpoints([300, 900, 0, 500], 1024)
    [1, 3]
    """
    chosen: list[int] = []
    total = 0
    for i, n in enumerate(segment_tokens):
        total += n
        if n and total >= min_tokens:
            chosen.append(i)
    return chosen[-max_breakpoints:] if max_breakpoints > 0 else []


def _check_ttl(ttl: str, name: str) -> None:
    if ttl not in ("5m", "1h"):
        raise InputError(f"{name} must be '5m' or '1h', got {ttl!r}")


def to_anthropic(layout: CacheLayout, ttl: str = "5m", *, model: str | None = None,
                 history_ttl: str | None = None, max_breakpoints: int | None = None) -> RenderedRequest:
    """Anthropic Messages API body: ``tools``, ``system`` blocks and ``messages`` with cache markers.

    Markers go after the tools, after the static system text and after the stable history (and once
    more inside a history longer than the 20-block lookback), each only where the prefix up to it
    reaches the model's minimum, at most 4. ``ttl`` applies to tools and system, ``history_ttl``
    (default ``ttl``) to history; a 1-hour marker may not follow a 5-minute one.
    """
    _check_ttl(ttl, "ttl")
    hist_ttl = history_ttl or ttl
    _check_ttl(hist_ttl, "history_ttl")
    if ttl == "5m" and hist_ttl == "1h":
        raise InputError("1-hour cache entries must come before 5-minute ones: use ttl='1h' with history_ttl='1h'")
    rules = _rules(layout, model, "anthropic")
    limit = rules.max_breakpoints if max_breakpoints is None else min(max_breakpoints, rules.max_breakpoints)
    tools = [_anthropic_tool(t) for t in layout.tools]
    system_msgs = layout.prefix[:layout.system_count]
    history = layout.prefix[layout.system_count:]
    system = [b for m in system_msgs for b in _anthropic_blocks(m.get("content"))]
    messages = [_anthropic_message(m) for m in history]
    tok = get_tokenizer(encoding=layout.tokenizer)  # factor 1; scaled by layout.token_factor below
    hist_tokens = layout.prefix_tokens - layout.tools_tokens - layout.system_tokens
    # candidate markers: (segment tokens, where, ttl)
    cands: list[tuple[int, str, str]] = [(layout.tools_tokens, "tools", ttl), (layout.system_tokens, "system", ttl)]
    if len(messages) > rules.lookback_blocks:
        mid = len(messages) - rules.lookback_blocks
        first = math.ceil(tok.count_messages(history[:mid], reply_priming=False) * layout.token_factor)
        cands += [(first, f"messages:{mid - 1}", hist_ttl), (hist_tokens - first, "messages:last", hist_ttl)]
    else:
        cands.append((hist_tokens, "messages:last", hist_ttl))
    sizes = [_model_tokens(layout, rules.model, n) for n, _, _ in cands]
    picked = anthropic_breakpoints(sizes, rules.min_tokens, limit)
    where: list[str] = []
    for i in picked:
        _, seg, seg_ttl = cands[i]
        control = {"type": "ephemeral", **({"ttl": "1h"} if seg_ttl == "1h" else {})}
        if seg == "tools" and tools:
            tools[-1] = {**tools[-1], "cache_control": control}
            where.append(f"tools[{len(tools) - 1}]")
        elif seg == "system" and system:
            system[-1] = {**system[-1], "cache_control": control}
            where.append(f"system[{len(system) - 1}]")
        elif seg.startswith("messages:") and messages:
            k = len(messages) - 1 if seg.endswith("last") else int(seg.split(":")[1])
            if messages[k]["content"]:
                messages[k]["content"][-1] = {**messages[k]["content"][-1], "cache_control": control}
                where.append(f"messages[{k}].content[{len(messages[k]['content']) - 1}]")
    pending: list[dict[str, Any]] = []
    if layout.dynamic_context:
        pending.append({"type": "text", "text": layout.dynamic_context})
    for m in layout.suffix:
        if m.get("role") in ("system", "developer"):
            pending.extend(_anthropic_blocks(m.get("content")))
            continue
        conv = _anthropic_message(m)
        if pending and conv["role"] == "user":
            conv["content"] = pending + conv["content"]
            pending = []
        messages.append(conv)
    if pending:
        messages.append({"role": "user", "content": pending})
    request: dict[str, Any] = {"model": rules.model, "system": system, "messages": messages}
    if tools:
        request["tools"] = tools
    prefix = _model_tokens(layout, rules.model, layout.prefix_tokens)
    covered = sum(sizes[: picked[-1] + 1]) if picked else 0
    notes = [] if picked else [f"static prefix of ~{prefix} tokens is below {rules.min_tokens}, the minimum "
                               f"{rules.model} caches (as of {rules.as_of}): no cache marker placed"]
    if not get_tokenizer(rules.model).exact:
        notes.append("token counts are approximate: Anthropic publishes no tokenizer")
    return RenderedRequest("anthropic", rules.model, request, prefix, covered, rules.min_tokens, tuple(where), tuple(notes))


def to_openai(layout: CacheLayout, prompt_cache_key: str | None = None, *, model: str | None = None) -> RenderedRequest:
    """OpenAI Chat Completions body: static prefix first, dynamic context and newest turn last.

    OpenAI caches automatically from 1,024 tokens in 128-token steps; ``prompt_cache_key`` (a stable
    id per template or tenant) helps route requests that share a prefix to the same cache.
    """
    rules = _rules(layout, model, "openai")
    request: dict[str, Any] = {"model": rules.model, "messages": [dict(m) for m in layout.messages]}
    if layout.tools:
        request["tools"] = [dict(t) for t in layout.tools]
    if prompt_cache_key is not None:
        if not isinstance(prompt_cache_key, str) or not prompt_cache_key:
            raise InputError("prompt_cache_key must be a non-empty string")
        request["prompt_cache_key"] = prompt_cache_key
    prefix = _model_tokens(layout, rules.model, layout.prefix_tokens)
    cacheable = rules.cacheable_tokens(prefix)
    notes = [] if cacheable else [f"static prefix of {prefix} tokens is below OpenAI's {rules.min_tokens}-token "
                                  f"minimum (as of {rules.as_of}): nothing will be cached"]
    return RenderedRequest("openai", rules.model, request, prefix, cacheable, rules.min_tokens, (), tuple(notes))


def _gemini_part(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"text": part}
    kind = part.get("type")
    if kind in ("text", "input_text"):
        return {"text": part.get("text", "")}
    if kind == "image_url":
        url = part["image_url"]["url"] if isinstance(part.get("image_url"), Mapping) else part.get("image_url", "")
        data = _data_url(url)
        return {"inline_data": {"mime_type": data[0], "data": data[1]}} if data else {"file_data": {"file_uri": url}}
    return dict(part)


def _gemini_content(msg: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    role = msg["role"]
    content = msg.get("content")
    if role in ("tool", "function"):
        name = msg.get("name") or names.get(msg.get("tool_call_id", ""), "")
        return {"role": "user", "parts": [{"function_response": {"name": name, "response": {"content": _text_of(content)}}}]}
    parts: list[dict[str, Any]] = (
        [{"text": content}] if isinstance(content, str) and content else [_gemini_part(p) for p in content or []])
    for call in msg.get("tool_calls") or []:
        fn = call.get("function", {})
        parts.append({"function_call": {"name": fn.get("name", ""), "args": json.loads(fn.get("arguments") or "{}")}})
    return {"role": "model" if role == "assistant" else "user", "parts": parts}


def to_gemini(layout: CacheLayout, *, model: str | None = None) -> RenderedRequest:
    """Gemini ``generateContent`` body (``system_instruction``, ``contents``, ``tools``) for implicit caching."""
    rules = _rules(layout, model, "google")
    names = {c.get("id", ""): c.get("function", {}).get("name", "")
             for m in layout.messages for c in (m.get("tool_calls") or [])}
    system_text = "\n\n".join(_text_of(m.get("content")) for m in layout.prefix[:layout.system_count])
    contents = [_gemini_content(m, names) for m in layout.prefix[layout.system_count:]]
    pending = [{"text": layout.dynamic_context}] if layout.dynamic_context else []
    for m in layout.suffix:
        if m.get("role") in ("system", "developer"):
            pending.append({"text": _text_of(m.get("content"))})
            continue
        conv = _gemini_content(m, names)
        if pending and conv["role"] == "user":
            conv["parts"] = pending + conv["parts"]
            pending = []
        contents.append(conv)
    if pending:
        contents.append({"role": "user", "parts": pending})
    request: dict[str, Any] = {"contents": contents}
    if system_text:
        request["system_instruction"] = {"parts": [{"text": system_text}]}
    if layout.tools:
        decls = []
        for t in layout.tools:
            fn = t.get("function", t)
            decl = {"name": fn["name"], "description": fn.get("description", "")}
            if fn.get("parameters") or fn.get("input_schema"):
                decl["parameters"] = fn.get("parameters") or fn.get("input_schema")
            decls.append(decl)
        request["tools"] = [{"function_declarations": decls}]
    prefix = _model_tokens(layout, rules.model, layout.prefix_tokens)
    cacheable = rules.cacheable_tokens(prefix)
    notes = [] if cacheable else [f"static prefix of ~{prefix} tokens is below the {rules.min_tokens}-token minimum "
                                  f"for implicit caching on {rules.model} (as of {rules.as_of})"]
    return RenderedRequest("google", rules.model, request, prefix, cacheable, rules.min_tokens, (), tuple(notes))
