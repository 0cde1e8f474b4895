"""PS101-PS105: the compression passes of :mod:`promptslim.compress`, reported as findings.

Each rule names a pass (``options.pass``). The pass runs on every prompt segment with that segment's
protected spans; each :class:`~promptslim.result.Change` it makes becomes a finding at the change's
span, whose fix is the change itself. A change the pass also makes at its ``safe`` level is a safe
fix; one it makes only at the ``balanced`` level is an unsafe fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..result import Change
from .engine import Context, Hit
from .rules import Rule

__all__ = ["check_pass", "describe_change"]

_LABELS = {"PS101": "verbose phrase", "PS102": "filler", "PS103": "stacked role adjectives",
           "PS104": "duplicate instruction", "PS105": "whitespace"}


def _passes() -> Any:
    from .. import compress

    return compress.PASSES


def _show(s: str, limit: int = 60) -> str:
    s = s if len(s) <= limit else s[:limit - 1] + "…"
    return repr(s) if (not s.strip() or "\n" in s or s != s.strip()) else f"“{s}”"


_QUOTED_REASON = re.compile(r"^'([^']*)'(?: -> '([^']*)')?$")


def describe_change(code: str, c: Change) -> str:
    """The finding message for a change: what it rewrites or removes, and why when the pass says.

    Phrase-table reasons (``'in order to' -> 'to'``) name the phrase without the case and spacing
    adjustments the edit itself carries, so they are shown instead of the raw span.
    """
    label = _LABELS.get(code, c.rule or c.kind)
    m = _QUOTED_REASON.match(c.reason or "")
    if m:
        phrase, repl = m.group(1), m.group(2)
        return f"{label}: remove {_show(phrase)}" if not repl else f"{label}: {_show(phrase)} -> {_show(repl)}"
    if c.after == "" and c.before:
        what = f"remove {_show(c.before)}"
    else:
        what = f"{_show(c.before)} -> {_show(c.after)}"
    why = f" ({c.reason})" if c.reason and c.before.strip() not in c.reason else ""
    return f"{label}: {what}{why}"


def _run(ctx: Context, name: str, si: int, level: str, **options: Any) -> tuple[Change, ...]:
    def compute() -> tuple[Change, ...]:
        fn = _passes()[name]
        seg = ctx.doc.segments[si]
        _, changes = fn(seg.text, ctx.protected(si), ctx.tokenizer, level=level, **options)
        return tuple(c for c in changes if c.span is not None)
    key = ("pass", name, si, level, tuple(sorted(options.items())))
    return ctx.cached(key, compute)  # type: ignore[no-any-return]


def check_pass(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """A hit per change the rule's pass makes on each segment (safe fix where the safe level agrees)."""
    name = str(rule.options["pass"])
    safe_level = str(ctx.config.option(rule, "safe_level") or "safe")
    level = str(ctx.config.option(rule, "level") or "balanced")
    for si, seg in enumerate(ctx.doc.segments):
        if not seg.text.strip():
            continue
        near = float(ctx.config.option(rule, "near_duplicate_threshold") or 0.0)
        full = _run(ctx, name, si, level, **({"threshold": near} if near > 0 else {}))
        # compressor levels are cumulative: nothing at the reporting level means nothing at the safe one
        safe = _run(ctx, name, si, safe_level) if rule.fix == "safe" and full else ()
        safe_keys = {(c.span, c.after) for c in safe}
        safe_spans = sorted(c.span for c in safe if c.span is not None)
        # every safe change, plus the balanced-level changes that do not overlap one
        extra = [c for c in full if (c.span, c.after) not in safe_keys and c.span is not None
                 and not any(s < c.span[1] and c.span[0] < e for s, e in safe_spans)]
        for c in sorted((*safe, *extra), key=lambda c: (c.span, c.after)):
            assert c.span is not None
            a, b = c.span
            yield Hit(rule.code, describe_change(rule.code, c), a, b, seg=si, edits=((a, b, c.after),),
                      applicability="safe" if (c.span, c.after) in safe_keys else "unsafe")
