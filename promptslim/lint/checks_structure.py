"""PS301 few-shot share, PS302 pretty-printed JSON / pasted JSON Schema, PS303 no output constraint.

Patterns and thresholds come from the rule records' options (``lint_rules.toml``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from .engine import Context, Hit
from .rules import Rule

__all__ = ["check_few_shot_share", "check_pretty_json", "check_output_constraint", "example_regions",
           "json_blocks"]

_ML = re.M | re.I


@cache
def _rx(pattern: str, flags: int = _ML) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# --- PS301 -------------------------------------------------------------------------------------

def example_regions(text: str, options: Any) -> list[tuple[int, int]]:
    """Character ranges of few-shot examples: example sections, ``<examples>`` tags, and runs of
    question/answer-marked lines (``Q:``/``A:``, ``Input:``/``Output:``) that contain at least one answer."""
    regions: list[tuple[int, int]] = []
    heading = _rx(options["heading"])
    for m in heading.finditer(text):
        level = len(m.group(0)) - len(m.group(0).lstrip("#"))
        nxt = _rx(rf"^#{{1,{level}}}\s").search(text, m.end())
        regions.append((m.start(), nxt.start() if nxt else len(text)))
    for m in _rx(options["tag"], re.S | re.I).finditer(text):
        regions.append(m.span())
    q, a = _rx(options["markers_question"]), _rx(options["markers_answer"])
    first_q = q.search(text)
    if first_q:
        answers = list(a.finditer(text, first_q.start()))
        if answers:
            last_a = answers[-1]
            para_end = text.find("\n\n", last_a.end())
            end = len(text) if para_end < 0 else para_end
            # A question after the last answer is the live input, not an example.
            tail_q = q.search(text, last_a.end(), end)
            regions.append((first_q.start(), tail_q.start() if tail_q else end))
    return _merge(regions)


def _merge(regions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(regions):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out if e > s]


def _count_examples(text: str, regions: Sequence[tuple[int, int]], options: Any) -> int:
    q = _rx(options["markers_question"])
    n = sum(len(q.findall(text, s, e)) for s, e in regions)
    return max(n, len(regions))


def check_few_shot_share(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """One finding at the first example when examples take more than ``max_share`` of the prompt."""
    opts = {k: ctx.config.option(rule, k) for k in rule.options}
    total = ctx.total_tokens
    if not total:
        return
    doc = ctx.doc
    if doc.kind == "messages":
        roles = [s.role for s in doc.segments]
        last_user = max((i for i, r in enumerate(roles) if r == "user"), default=-1)
        idx = [i for i, r in enumerate(roles[:last_user]) if r in ("user", "assistant")]
        if not any(roles[i] == "assistant" for i in idx):
            return
        ex_tokens = sum(ctx.count(doc.segments[i].text) for i in idx)
        n_ex = sum(1 for i in idx if roles[i] == "assistant")
        first = (idx[0], 0, len(doc.segments[idx[0]].text))
    else:
        seg = doc.segments[0]
        regions = example_regions(seg.text, opts)
        if not regions:
            return
        ex_tokens = sum(ctx.count(seg.text[s:e]) for s, e in regions)
        n_ex = _count_examples(seg.text, regions, opts)
        first = (0, regions[0][0], regions[0][0])
    share = ex_tokens / total
    if share > float(opts["max_share"]) and ex_tokens >= int(opts["min_example_tokens"]):
        yield Hit(rule.code, f"few-shot examples take {share:.0%} of the prompt ({ex_tokens:,} of {total:,} tokens, "
                             f"{n_ex} example{'s' if n_ex != 1 else ''}); keep the most representative or "
                             "retrieve them per query", first[1], first[2], seg=first[0],
                  detail={"share": round(share, 4), "example_tokens": ex_tokens, "examples": n_ex})


# --- PS302 -------------------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]{0,3}\1[ \t]*$", re.M | re.S)
_BRACKET_LINE = re.compile(r"^[ \t]*[\[{]", re.M)


def json_blocks(text: str) -> Iterator[tuple[int, int, Any]]:
    """Multi-line JSON values in ``text``: inside ```json / unlabelled fences, or starting a line
    outside fences. Yields ``(start, end, value)``."""
    decoder = json.JSONDecoder()
    fenced: list[tuple[int, int]] = []
    for m in _FENCE.finditer(text):
        fenced.append(m.span())
        lang = m.group(2).lower()
        if lang not in ("", "json", "jsonc", "json5"):
            continue
        body_start = m.start(3)
        lead = len(m.group(3)) - len(m.group(3).lstrip())
        try:
            value, end = decoder.raw_decode(text, body_start + lead)
        except (json.JSONDecodeError, RecursionError):
            continue
        if not text[end:m.end(3)].strip():
            yield body_start + lead, end, value
    pos = 0
    for m in _BRACKET_LINE.finditer(text):
        start = m.end() - 1
        if start < pos or any(s <= start < e for s, e in fenced):
            continue
        try:
            value, end = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, (dict, list)) and value and "\n" in text[start:end]:
            pos = end
            yield start, end, value


def _looks_like_schema(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return "$schema" in value or ("properties" in value and value.get("type") == "object") or (
        "type" in value and isinstance(value.get("items"), dict))


def _compact_schema_tokens(ctx: Context, value: Any) -> int | None:
    """Tokens of the compact schema instructions ``promptslim.schema.compact_schema`` writes for ``value``."""
    from ..errors import PromptslimError
    from ..schema import compact_schema

    try:
        compact = compact_schema(value, "json-min", tokenizer=ctx.tokenizer, check_schema=False)
        return ctx.count(compact.instructions)
    except (PromptslimError, ValueError, TypeError, KeyError, RecursionError):
        return None  # a schema the compactor cannot take: report the minified saving only


def check_pretty_json(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """A finding per pretty-printed JSON value whose minified form saves at least ``min_tokens_saved``."""
    floor = int(ctx.config.option(rule, "min_tokens_saved"))
    for si, seg in enumerate(ctx.doc.segments):
        text = seg.text
        if "{" not in text and "[" not in text:
            continue
        for start, end, value in json_blocks(text):
            pretty = text[start:end]
            if "\n" not in pretty:
                continue
            mini = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            saved = ctx.count(pretty) - ctx.count(mini)
            if saved < floor:
                continue
            detail: dict[str, Any] = {"pretty_tokens": ctx.count(pretty), "minified_tokens": ctx.count(mini)}
            if _looks_like_schema(value):
                compact = _compact_schema_tokens(ctx, value)
                if compact is not None:
                    detail["compact_schema_tokens"] = compact
                hint = (f", or use promptslim.schema.compact_schema ({compact:,} tokens instead of "
                        f"{detail['pretty_tokens']:,})" if compact is not None else "")
                msg = f"pasted JSON Schema is pretty-printed: minify it{hint}"
            else:
                msg = "pretty-printed JSON example: minify it"
            yield Hit(rule.code, msg, start, end, seg=si, edits=((start, end, mini),), detail=detail)


# --- PS303 -------------------------------------------------------------------------------------

_UPPER_LITERAL = re.compile(r"(?<!\\)[A-Z]")


@cache
def _constraint_rx(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the constraint patterns, matched against lower-cased text: several times
    faster than each pattern with re.IGNORECASE. A pattern with an upper-case literal keeps the flag.
    None when the patterns cannot be joined (a user pattern with global inline flags)."""
    parts = [p if not _UPPER_LITERAL.search(p) else f"(?i:{p})" for p in patterns]
    try:
        return re.compile("|".join(f"(?:{p})" for p in parts) or r"(?!)")
    except re.error:
        return None

def check_output_constraint(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """One finding at the top when no pattern for a length or format constraint matches the instructions."""
    doc = ctx.doc
    segs = [i for i, s in enumerate(doc.segments) if s.role in (None, "system", "developer")]
    if not segs:
        segs = list(range(len(doc.segments)))
    if not segs:
        return
    text = "\n\n".join(doc.segments[i].text for i in segs)
    if ctx.count(text) < int(ctx.config.option(rule, "min_prompt_tokens")):
        return
    patterns = tuple(ctx.config.option(rule, "patterns"))
    combined = _constraint_rx(patterns)
    if combined is not None and combined.search(text.lower()):
        return
    if combined is None and any(_rx(p, re.I).search(text) for p in patterns):
        return
    yield Hit(rule.code, "no output-length or format constraint: say how long or in what shape to answer "
                         "(output tokens cost more than input tokens)", 0, 0, seg=segs[0])
