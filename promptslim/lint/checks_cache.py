"""PS201-PS203: prompt-cache breakers, found by the detectors of :mod:`promptslim.cache`.

PS201 is the cache package's ``first_cache_break`` (a dynamic span with static text after it) and its
fix is ``move_dynamic_to_end``; PS202 compares the static prefix with the provider minimum from
``promptslim/data/providers.toml``; PS203 asks the cache package's stability checks about tool order
and JSON key order in chat-message files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import PromptslimError
from .engine import Context, Hit
from .rules import Rule

__all__ = ["check_dynamic_before_static", "check_cache_minimum", "check_unstable_ordering"]


def _cache_api(name: str) -> Any:
    """A function of the cache package's text-splitting module (imported alone: the linter needs
    neither the layout builder nor the simulator)."""
    from ..cache import _textsplit

    return getattr(_textsplit, name)


def _dynamic_spans(ctx: Context, si: int) -> list[Any]:
    """``find_dynamic_spans`` of a segment, computed once for PS201 and PS202."""
    from ..cache._detect import find_dynamic_spans

    return ctx.cached(("dynamic", si), lambda: find_dynamic_spans(ctx.doc.segments[si].text))  # type: ignore[no-any-return]


def check_dynamic_before_static(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """A finding per segment whose first dynamic span has at least ``min_static_tokens_after`` static tokens after it."""
    first_cache_break = _cache_api("first_cache_break")
    move_dynamic_to_end = _cache_api("move_dynamic_to_end")
    floor = int(ctx.config.option(rule, "min_static_tokens_after"))
    for si, seg in enumerate(ctx.doc.segments):
        spans = _dynamic_spans(ctx, si)
        if not spans:
            continue
        brk = first_cache_break(seg.text, ctx.tokenizer, min_static_tokens=floor, spans=spans)
        if brk is None:
            continue
        span = brk.span
        fixed = move_dynamic_to_end(seg.text, model=ctx.tokenizer, spans=spans).value
        edits = ((0, len(seg.text), fixed),) if fixed != seg.text else ()
        yield Hit(rule.code, f"dynamic content ({span.label} {span.text!r}) before {brk.static_tokens_after:,} "
                             "static tokens: everything after it misses the prompt cache; move it to the end",
                  span.start, span.end, seg=si, edits=edits,
                  detail={"kind": span.kind, "static_tokens_after": brk.static_tokens_after,
                          "static_tokens_before": brk.static_tokens_before})


def check_cache_minimum(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """One informational finding when the static prefix is short of the provider's cacheable minimum
    although the whole prompt reaches it (dynamic content is in the way), or comes within half of it."""
    from ..cache._providers import cacheable_minimum

    try:
        minimum = cacheable_minimum(ctx.config.model)
    except PromptslimError:  # a model no provider table knows: nothing to say
        return
    doc = ctx.doc
    prefix = 0
    broken = False
    if doc.tools:
        from ..tokens import message_text

        prefix += ctx.count(message_text(doc.tools))
    for si, seg in enumerate(doc.segments):
        spans = _dynamic_spans(ctx, si)
        if spans:
            prefix += ctx.count(seg.text[:spans[0].start])
            broken = True
            break
        prefix += ctx.count(seg.text)
    total = ctx.total_tokens
    if prefix >= minimum or not (total >= minimum or prefix * 2 >= minimum):
        return
    why = ("dynamic content ends it early" if broken and total >= minimum
           else "the whole prompt is short of it" if total < minimum else "")
    yield Hit(rule.code, f"static prefix is {prefix:,} tokens, below the {minimum:,}-token minimum the provider "
                         f"caches for {ctx.config.model}" + (f" ({why})" if why else ""), 0, 0, seg=None,
              detail={"prefix_tokens": prefix, "minimum": minimum, "total_tokens": total})


def check_unstable_ordering(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """Chat files only: tools not sorted by name or named twice (``tool_order_issues``), and JSON objects
    in message contents whose keys are unsorted (``find_unsorted_json``, fixed by ``sort_json_in_text``)."""
    from ..cache._stability import find_unsorted_json, sort_json_in_text, tool_name, tool_order_issues

    doc = ctx.doc
    if doc.kind != "messages":
        return
    tools = doc.tools if isinstance(doc.tools, list) else []
    if tools:
        try:
            issues = tool_order_issues(tools, check_keys=False)
            names = [tool_name(t, i) for i, t in enumerate(tools)]
        except PromptslimError:  # a tool without a name: nothing to order by
            issues, names = [], []
        for issue in issues:
            idx = _issue_index(issue.location, names)
            pos = doc.tool_positions[idx] if idx < len(doc.tool_positions) else -1
            pos = pos if pos >= 0 else 0
            yield Hit(rule.code, issue.message, pos, pos, seg=None, detail={"kind": issue.kind})
    for si, seg in enumerate(doc.segments):
        if "{" not in seg.text:
            continue
        spans = find_unsorted_json(seg.text)
        if not spans:
            continue
        fixes = {(s, e): after for s, e, _, after in sort_json_in_text(seg.text)[1]}
        for sp in spans:
            after = fixes.get((sp.start, sp.end))
            yield Hit(rule.code, "JSON object with unsorted keys: if code builds it, serialize with sorted keys "
                                 "so the cached prefix stays byte-identical", sp.start, sp.end, seg=si,
                      edits=((sp.start, sp.end, after),) if after is not None else (), detail={"kind": "json_keys"})


def _issue_index(location: str, names: list[str]) -> int:
    """Tool index an issue points at: ``tools[i]...``, or the first tool out of name order."""
    if location.startswith("tools["):
        return int(location[6:location.index("]")])
    for i in range(1, len(names)):
        if names[i] < names[i - 1]:
            return i
    return 0
