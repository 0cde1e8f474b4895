"""split_cacheable speed on a 30-message conversation with 8 tools, as ratios to counting its tokens.

Run: pytest benchmarks/bench_cache.py --benchmark-enable. Compare ``test_split_cacheable`` with
``test_count_tokens_baseline`` (the same messages and tools counted with the same tokenizer, in the
same run); likewise ``test_find_dynamic_spans`` with ``test_encode_system_baseline`` (tiktoken
encoding the same system prompt). Target: split_cacheable within a few milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import promptslim
from promptslim.cache import TraceRequest, find_dynamic_spans, simulate_cache, split_cacheable, to_anthropic

EXAMPLE = (Path(__file__).resolve().parents[1] / "promptslim" / "examples" / "support_agent.prompt").read_text()
POLICY = "\n".join(
    f"- Policy {i}: when a customer asks about topic {i}, check the knowledge base section {i} first, "
    f"quote the relevant paragraph and never guess numbers." for i in range(1, 31)
)
SYSTEM = EXAMPLE.replace("{user_name}", "Alice Smith") + "\n\n## Policies\n\n" + POLICY
TOOLS = [
    {"type": "function", "function": {
        "name": name, "description": f"{name.replace('_', ' ').capitalize()} for the current customer.",
        "parameters": {"type": "object", "required": ["customer_id"], "properties": {
            "customer_id": {"type": "string", "description": "Customer id"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            "query": {"type": "string", "description": "Free-text filter"}}}}}
    for name in ("search_tickets", "get_invoice", "refund_order", "list_orders", "update_address",
                 "escalate", "get_plan", "cancel_subscription")
]


def conversation(n: int = 30) -> list[dict]:
    msgs: list[dict] = [{"role": "system", "content": SYSTEM}]
    for i in range(n - 2):
        if i % 2 == 0:
            msgs.append({"role": "user", "content": f"Question {i}: my invoice INV-{1000 + i} looks wrong, "
                                                    "the amount differs from last month. " * 2})
        else:
            msgs.append({"role": "assistant", "content": f"I checked invoice INV-{999 + i}. The difference comes "
                                                         "from a plan change on the 3rd; here is the breakdown. " * 3})
    msgs.append({"role": "user", "content": "Thanks. Can you refund the difference?"})
    return msgs


MESSAGES = conversation()


@pytest.fixture(scope="module")
def tok() -> promptslim.Tokenizer:
    return promptslim.get_tokenizer("gpt-4o")


def test_count_tokens_baseline(benchmark, tok) -> None:
    """Baseline: counting the same messages and tools (what any cost estimate does anyway)."""
    n = benchmark(lambda: tok.count_messages(MESSAGES) + tok.count(json.dumps(TOOLS)))
    assert n > 2000


def test_split_cacheable(benchmark) -> None:
    lay = benchmark(split_cacheable, MESSAGES, TOOLS, "gpt-4o")
    assert len(MESSAGES) == 30 and len(lay.tools) == 8
    assert lay.dynamic_context and lay.prefix_tokens > lay.suffix_tokens


def test_encode_system_baseline(benchmark, tok) -> None:
    assert benchmark(lambda: len(tok.encoding.encode_ordinary(SYSTEM))) > 500


def test_find_dynamic_spans(benchmark) -> None:
    spans = benchmark(find_dynamic_spans, SYSTEM)
    assert {s.kind for s in spans} >= {"date", "user_name"}


def test_to_anthropic(benchmark) -> None:
    lay = split_cacheable(MESSAGES, TOOLS, "claude-sonnet-4-5")
    rendered = benchmark(to_anthropic, lay)
    assert rendered.breakpoints


def test_simulate_cache_50_requests(benchmark) -> None:
    """A 50-request trace (5 s apart, dates changing): the cost of the simulation itself."""
    trace = []
    for i in range(50):
        msgs = [dict(m) for m in MESSAGES]
        msgs[0] = {"role": "system", "content": SYSTEM.replace("2026-11-22", f"2026-11-{1 + i % 28:02d}")}
        trace.append(TraceRequest(5.0 * i, msgs, TOOLS))
    rep = benchmark(simulate_cache, trace, "anthropic", "claude-sonnet-4-5")
    assert rep.cached_share() > 0.9
