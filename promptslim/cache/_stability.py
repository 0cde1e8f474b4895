"""Deterministic order for tools and JSON keys, and checks that find unstable order (linter PS203).

A cached prefix must be byte-identical. Tool lists built from a set, or JSON dumped from a dict
merged at run time, change order between calls and invalidate the cache for everything after them.

>>> [t["function"]["name"] for t in canonical_tools([{"type": "function", "function": {"name": "b"}},
...                                                   {"type": "function", "function": {"name": "a"}}])]
['a', 'b']
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ._detect import DynamicSpan

__all__ = ["OrderIssue", "tool_name", "canonical_tools", "tool_order_issues", "unsorted_key_paths",
           "sort_keys_deep", "find_unsorted_json", "sort_json_in_text"]


@dataclass(frozen=True, slots=True)
class OrderIssue:
    """An ordering problem: ``kind`` is ``tool_order``, ``duplicate_tool`` or ``json_keys``."""

    kind: str
    location: str
    message: str


def tool_name(tool: Any, index: int = 0) -> str:
    """The name of a tool in OpenAI (``{"type": "function", "function": {...}}``), flat or Anthropic shape."""
    if not isinstance(tool, Mapping):
        raise InputError(f"tools[{index}] is {type(tool).__name__}, expected a dict with a name")
    fn = tool.get("function")
    name = fn.get("name") if isinstance(fn, Mapping) else None
    if isinstance(name, str):
        return name
    name = tool.get("name")
    if isinstance(name, str):
        return name
    raise InputError(f"tools[{index}] has no name (expected tool['function']['name'] or tool['name'])")


def sort_keys_deep(value: Any) -> Any:
    """A copy of ``value`` with every mapping's keys sorted (lists keep their order: order is meaning)."""
    if isinstance(value, Mapping):
        return {k: sort_keys_deep(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [sort_keys_deep(v) for v in value]
    return value


def canonical_tools(tools: Sequence[Any], *, sort_keys: bool = True) -> list[Any]:
    """Tools sorted by name (stable for equal names), keys sorted recursively when ``sort_keys``."""
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Sequence):
        raise InputError(f"tools must be a list of tool definitions, got {type(tools).__name__}")
    named = [(tool_name(t, i), i, t) for i, t in enumerate(tools)]
    named.sort(key=lambda x: (x[0], x[1]))
    return [sort_keys_deep(t) if sort_keys else t for _, _, t in named]


def unsorted_key_paths(value: Any, path: str = "$") -> list[str]:
    """JSON paths of the mappings inside ``value`` whose keys are not in sorted order."""
    out: list[str] = []
    if isinstance(value, Mapping):
        keys = [str(k) for k in value]
        if keys != sorted(keys):
            out.append(path)
        for k in value:
            out.extend(unsorted_key_paths(value[k], f"{path}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(unsorted_key_paths(v, f"{path}[{i}]"))
    return out


def tool_order_issues(tools: Sequence[Any], *, check_keys: bool = True) -> list[OrderIssue]:
    """Problems that make a tool list's serialization unstable: unsorted names, duplicates, unsorted keys.

    >>> [i.kind for i in tool_order_issues([{"name": "b"}, {"name": "a"}])]
    ['tool_order']
    """
    names = [tool_name(t, i) for i, t in enumerate(tools)]
    issues: list[OrderIssue] = []
    if names != sorted(names):
        issues.append(OrderIssue("tool_order", "tools",
                                 f"tools are not sorted by name ({', '.join(names)}); sort them to keep the prefix stable"))
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            issues.append(OrderIssue("duplicate_tool", f"tools[{i}]", f"tool name {n!r} appears more than once"))
        seen.add(n)
    if check_keys:
        for i, t in enumerate(tools):
            for p in unsorted_key_paths(t, f"tools[{i}]"):
                issues.append(OrderIssue("json_keys", p, f"keys of {p} are not sorted"))
    return issues


_JSON_START = re.compile(r"(?:^|(?<=[\n:=`(\[]))[ \t]*\{(?=\s*\")")
_MAX_ATTEMPTS = 200


def _json_objects(text: str) -> list[tuple[int, int, Any]]:
    """(start, end, value) of JSON objects written in ``text`` (at a line start, after ``:``/``=``/a fence)."""
    decoder = json.JSONDecoder()
    out: list[tuple[int, int, Any]] = []
    attempts = 0
    pos = 0
    while attempts < _MAX_ATTEMPTS:
        m = _JSON_START.search(text, pos)
        if m is None:
            break
        start = text.index("{", m.start())
        attempts += 1
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            pos = start + 1
            continue
        if isinstance(value, dict):
            out.append((start, end, value))
        pos = end
    return out


def find_unsorted_json(text: str) -> list[DynamicSpan]:
    """JSON objects in ``text`` whose keys (at any depth) are not sorted, as spans of kind ``unsorted_json``."""
    return [DynamicSpan("unsorted_json", s, e, text[s:e], "JSON object")
            for s, e, v in _json_objects(text) if unsorted_key_paths(v)]


def _dump_like(original: str, value: Any, sort_keys: bool) -> str | None:
    """Re-serialize ``value`` in the style of ``original`` (indent, separators); None if no style matches."""
    indent: int | str | None = None
    if "\n" in original:
        m = re.search(r"\n([ \t]+)\S", original)
        indent = (len(m.group(1)) if m.group(1).strip(" ") == "" else m.group(1)) if m else 0
    for seps in ((", ", ": "), (",", ":"), (",", ": ")):
        if indent is not None and seps[0] == ", ":
            seps = (",", seps[1])
        for ascii_ in (False, True):
            if json.dumps(value, indent=indent, separators=seps, ensure_ascii=ascii_) == original:
                return json.dumps(value, indent=indent, separators=seps, ensure_ascii=ascii_, sort_keys=sort_keys)
    return None


def sort_json_in_text(text: str) -> tuple[str, list[tuple[int, int, str, str]]]:
    """``text`` with the keys of its JSON objects sorted where that is provably safe.

    An object is rewritten only when re-serializing it unsorted reproduces its exact bytes (same
    indent and separators), so nothing but key order changes. Objects inside fenced code blocks are
    included. Returns the new text and ``(start, end, before, after)`` for each rewrite.
    """
    edits = []
    for s, e, v in _json_objects(text):
        if not unsorted_key_paths(v):
            continue
        after = _dump_like(text[s:e], v, sort_keys=True)
        if after is not None and after != text[s:e]:
            edits.append((s, e, text[s:e], after))
    if not edits:
        return text, []
    pieces = []
    cursor = 0
    for s, e, _, after in edits:
        pieces.append(text[cursor:s])
        pieces.append(after)
        cursor = e
    pieces.append(text[cursor:])
    return "".join(pieces), edits

