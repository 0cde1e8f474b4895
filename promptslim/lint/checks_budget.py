"""PS401 token budget and PS402 cost per 1,000 calls: whole-file checks on the document's token count."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import cache

from .engine import Context, Hit
from .rules import Rule

__all__ = ["check_token_budget", "check_cost"]


def check_token_budget(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """One finding at the top of the file when its tokens exceed the budget its path matches."""
    budget = ctx.config.budget_for(ctx.doc.path, int(ctx.config.option(rule, "default_budget")))
    n = ctx.total_tokens
    if n > budget:
        yield Hit(rule.code, f"{n:,} tokens, over the budget of {budget:,} by {n - budget:,} "
                             f"({ctx.tokenizer.name})", 0, 0, seg=None,
                  detail={"tokens": n, "budget": budget})


@cache
def _first_over(model: str, out_tokens: int, limit: Decimal) -> int:
    """The fewest input tokens whose cost per 1,000 calls exceeds ``limit`` (binary search, once per run).

    Cost never falls as input grows, so files below this count need no price lookup at all.
    """
    from ..pricing import estimate_cost

    def over(n: int) -> bool:
        return estimate_cost(n, out_tokens, model).per_calls(1000) > limit

    hi = 1
    while not over(hi):
        if hi > 1 << 40:
            return hi
        hi *= 2
    lo = hi // 2  # over(lo) is False (or lo == 0)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if over(mid) else (mid, hi)
    return hi


def check_cost(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """One finding when the prompt alone (plus assumed output tokens) costs more per 1,000 calls than allowed."""
    from ..pricing import estimate_cost

    limit = Decimal(str(ctx.config.option(rule, "max_usd_per_1k_calls")))
    out_tokens = int(ctx.config.option(rule, "output_tokens"))
    n = ctx.total_tokens
    model = ctx.config.model
    if n < _first_over(model, out_tokens, limit):
        return
    est = estimate_cost(n, out_tokens, model)
    per_1k = est.per_calls(1000)
    if per_1k > limit:
        extra = f" + {out_tokens:,} output tokens" if out_tokens else ""
        yield Hit(rule.code, f"${per_1k:,.2f} per 1,000 calls ({n:,} input tokens{extra} on {est.model}), "
                             f"over the ${limit:,.2f} threshold", 0, 0, seg=None,
                  detail={"usd_per_1k_calls": float(per_1k), "threshold_usd": float(limit), "model": est.model,
                          "tokens": n})
