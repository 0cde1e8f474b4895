"""Tests of promptslim.cache: detection, split_cacheable, renderers, provider rules and simulation."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import promptslim
from promptslim import InputError, UnknownModelError
from promptslim.cache import (
    DYNAMIC_KINDS,
    CacheLayout,
    TraceRequest,
    cache_rules,
    cacheable_minimum,
    canonical_tools,
    find_dynamic_spans,
    find_unsorted_json,
    first_cache_break,
    move_dynamic_to_end,
    prefix_meets_minimum,
    provider_for_model,
    simulate_cache,
    sort_json_in_text,
    split_cacheable,
    split_text,
    static_prefix_tokens,
    to_anthropic,
    to_gemini,
    to_openai,
    tool_order_issues,
)
from promptslim.pricing import estimate_cost

STATIC = (
    "# IDENTITY and PURPOSE\n\nYou are an expert travel agent. You help people plan trips within budget.\n\n"
    "# STEPS\n\n- Read the request carefully.\n- Ask for missing details before booking anything.\n"
    "- Never book without explicit confirmation.\n\n# OUTPUT INSTRUCTIONS\n\n- Answer in short Markdown bullets.\n"
)


def kinds_of(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_dynamic_spans(text)]


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("text, kind, value", [
    ("Today is 2026-11-22.", "date", "2026-11-22"),
    ("Current time: 2026-11-22T10:31:02Z", "datetime", "2026-11-22T10:31:02Z"),
    ("Date: 22/11/2026", "date", "22/11/2026"),
    ("Today is Monday, November 22, 2026.", "date", "Monday, November 22, 2026"),
    ("It is 22 November 2026 today.", "date", "22 November 2026"),
    ("Today is Nov 22.", "date", "Nov 22"),
    ("Today is Tuesday.", "weekday", "Tuesday"),
    ("The current time is 10:31 UTC.", "time", "10:31 UTC"),
    ("Session 3f2a9c1e-1b2c-4d5e-8f90-1234567890ab", "uuid", "3f2a9c1e-1b2c-4d5e-8f90-1234567890ab"),
    ("Request ID: req_8f3a2b91.", "id", "req_8f3a2b91"),
    ("trace id = 0af7651916cd43dd8448eb211c80319c", "id", "0af7651916cd43dd8448eb211c80319c"),
    ("Order number: A-12345", "id", "A-12345"),
    ("Customer: cus_NffrFeUfNV2Hib", "id", "cus_NffrFeUfNV2Hib"),
    ("Write to jane.doe@example.org if needed.", "email", "jane.doe@example.org"),
    ("You are talking to Alice Smith.", "user_name", "Alice Smith"),
    ("The user's name is José García.", "user_name", "José García"),
    ("User: Bob Jones", "user_name", "Bob Jones"),
    ("Hello {user_name}!", "placeholder", "{user_name}"),
    ("Hello {{ user.name }}!", "placeholder", "{{ user.name }}"),
    ("{% if vip %}Be extra polite.{% endif %}", "placeholder", "{% if vip %}"),
    ("Hi ${USER}", "placeholder", "${USER}"),
    ("This is turn 5 of 20.", "counter", "turn 5 of 20"),
    ("You have 3 messages remaining.", "counter", "3 messages remaining"),
    ("User timezone: Europe/Berlin", "context", "Europe/Berlin"),
    ("Generated at 1732270000.", "timestamp", "1732270000"),
])
def test_detects_each_kind(text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds_of(text)


@pytest.mark.parametrize("text", [
    "Use the gpt-4o-2024-08-06 model and Python 3.10.12.",
    "Order number must be given before shipping.",
    "Contact support@acme.com for refunds.",
    "User: a person who asks questions.",
    "Our support hours are 9:00 to 17:00 CET.",
    "Now, summarize the text in 3 bullets of 20 words.",
    "Step 1 of 3: read the input.",
    "You are talking to a customer; be kind.",
    "The Sun is a star. Read chapter 3.",
    "```python\nprint(f'{name}')\n```",
    'Return JSON like {"name": "x", "age": 3}.',
    "Office is closed on Sunday.",
])
def test_static_text_is_not_flagged(text: str) -> None:
    assert kinds_of(text) == []


def test_spans_sorted_non_overlapping_and_exact() -> None:
    text = "Today is Monday, November 22, 2026 at 10:30 UTC. You are talking to Ann. Id: 7f3e9a2b11cd."
    spans = find_dynamic_spans(text)
    assert spans == sorted(spans, key=lambda s: s.start)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    for s in spans:
        assert text[s.start:s.end] == s.text and s.kind in DYNAMIC_KINDS and s.label


def test_kinds_and_keep_filters() -> None:
    text = "Today is 2026-11-22. Write to jane@example.org."
    assert [s.kind for s in find_dynamic_spans(text, kinds={"email"})] == ["email"]
    assert [s.kind for s in find_dynamic_spans(text, keep=["jane@example.org"])] == ["date"]
    with pytest.raises(InputError, match="unknown dynamic kinds"):
        find_dynamic_spans(text, kinds={"dates"})
    with pytest.raises(InputError):
        find_dynamic_spans(b"bytes")  # type: ignore[arg-type]


def test_no_catastrophic_backtracking() -> None:
    """Adversarial 100k-character inputs finish; a generous timeout catches exponential regexes."""
    seeds = ["a", "1", "-", "{", "@", "a1", "a@", "1-", "{{", "Monday, ", "user_", "12:", "a.", "a-1",
             "User: A", "The user is A ", "{a", " ", "\\n", "1.", "0a", "Jan 1 ", "ticket no 1", "${a", "{%",
             "x" * 63 + "@", "a.b@", "You are talking to Aa ", "req_a1", "{\\\"a\\\":", "2026-11-22 "]
    code = (
        "from promptslim.cache import find_dynamic_spans, split_text, find_unsorted_json\n"
        f"for seed in {seeds!r}:\n"
        "    seed = seed.encode().decode('unicode_escape')\n"
        "    text = seed * (100_000 // len(seed))\n"
        "    find_dynamic_spans(text); find_unsorted_json(text)\n"
        "    split_text(text[:20_000])\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# ---------------------------------------------------------------- text split

def test_split_text_moves_lines_and_keeps_meaning() -> None:
    text = "Today is Monday, November 22, 2026.\nYou are talking to Alice.\n\n" + STATIC
    split = split_text(text)
    assert split.static == STATIC
    assert split.dynamic == ("Today is Monday, November 22, 2026.", "You are talking to Alice.")


def test_split_text_sentence_value_block_and_heading() -> None:
    text = "Answer briefly. Today is 2026-11-22.\n# CONTEXT\nUser: Bob Jones\n\n# TASK\nHelp.\n"
    split = split_text(text)
    assert split.static == "Answer briefly.\n\n# TASK\nHelp.\n"
    assert split.dynamic == ("Today is 2026-11-22.", "# CONTEXT", "User: Bob Jones")
    long = "Greet the user Alice warmly and " + "keep going with the static instructions " * 12 + "until the end."
    split = split_text(long.replace("the user Alice", "the user, Alice,"))
    assert [u.mode for u in split.units] in ([], ["value"])
    split = split_text("The user is Alice and " + "static words here " * 30 + ".")
    assert [u.mode for u in split.units] == ["value"]
    assert split.static.startswith("The user is [User name] and")
    assert split.dynamic == ("User name: Alice",)
    fenced = "Intro.\n```json\n{\"date\": \"2026-01-02\"}\n```\nRest."
    assert split_text(fenced).dynamic == ('```json\n{"date": "2026-01-02"}\n```',)


def test_move_dynamic_to_end_and_first_cache_break() -> None:
    text = "Today is 2026-11-22.\n" + STATIC
    res = move_dynamic_to_end(text)
    assert res.value == STATIC.rstrip() + "\n\nToday is 2026-11-22.\n"
    assert [c.kind for c in res.changes] == ["move"]
    brk = first_cache_break(text)
    assert brk is not None and brk.span.text == "2026-11-22" and brk.static_tokens_before == 0
    assert brk.static_tokens_after > 30
    assert first_cache_break(STATIC + "Today is 2026-11-22.") is None
    assert static_prefix_tokens(text) == promptslim.count_tokens("Today is ")
    assert move_dynamic_to_end(STATIC).value == STATIC


# ---------------------------------------------------------------- split_cacheable

TOOLS = [
    {"type": "function", "function": {"name": "search_flights", "description": "Find flights.",
                                      "parameters": {"type": "object", "properties": {"to": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "book", "parameters": {"type": "object", "properties": {}},
                                      "description": "Book a flight."}},
]


def request(day: str, name: str, rid: str, question: str = "Find me a flight to Oslo.") -> list[dict]:
    system = f"Today is {day}. You are talking to {name}.\nRequest ID: {rid}\n\n{STATIC}"
    return [{"role": "system", "content": system},
            {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! Where to?"},
            {"role": "user", "content": question}]


def test_split_cacheable_layout() -> None:
    msgs = request("2026-11-22", "Alice Smith", "req_8f3a2b91")
    lay = split_cacheable(msgs, TOOLS, "gpt-4o")
    assert isinstance(lay, CacheLayout)
    assert lay.prefix[0] == {"role": "system", "content": STATIC}
    assert lay.prefix[1:] == tuple(msgs[1:3]) and lay.suffix == (msgs[3],)
    assert lay.dynamic_context == "Today is 2026-11-22. You are talking to Alice Smith.\nRequest ID: req_8f3a2b91"
    assert lay.messages[3] == {"role": "system", "content": lay.dynamic_context}
    assert [t["function"]["name"] for t in lay.tools] == ["book", "search_flights"]
    assert list(lay.tools[0]["function"]) == ["description", "name", "parameters"]
    kinds = sorted(c.kind for c in lay.changes)
    assert kinds == ["move", "move", "reorder", "sort_keys", "sort_keys"]
    assert lay.prefix_tokens > lay.suffix_tokens > 0 and 0 < lay.cacheable_share < 1
    assert lay.savings.tokenizer == "o200k_base" and lay.result().value == lay.messages
    assert lay.static_tokens == lay.tools_tokens + lay.system_tokens
    tok = promptslim.get_tokenizer("gpt-4o")
    tools_json = json.dumps(list(lay.tools), separators=(",", ":"), ensure_ascii=False)
    assert lay.prefix_tokens + lay.suffix_tokens == tok.count(tools_json) + tok.count_messages(lay.messages)
    assert lay.savings.before == tok.count(json.dumps(TOOLS, separators=(",", ":"))) + tok.count_messages(msgs)
    assert msgs[0]["content"].startswith("Today")  # input untouched


def test_split_cacheable_is_idempotent_and_pure() -> None:
    msgs = request("2026-11-22", "Alice", "req_8f3a2b91")
    a = split_cacheable(msgs, TOOLS)
    b = split_cacheable(a.messages, a.tools)
    assert b.messages == a.messages and b.changes == ()
    assert split_cacheable(msgs, TOOLS) == a


def test_content_part_lists_stay_untouched() -> None:
    parts = [{"type": "text", "text": "What is in this photo taken 2026-11-22?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    sys_parts = [{"type": "text", "text": "Today is 2026-11-22. Describe images."}]
    msgs = [{"role": "system", "content": sys_parts}, {"role": "user", "content": parts}]
    lay = split_cacheable(msgs)
    assert lay.messages[0]["content"] is sys_parts and lay.messages[-1]["content"] is parts
    assert [c.kind for c in lay.changes] == ["note"]


@pytest.mark.parametrize("messages, match", [
    ("hello", "messages must be a list"),
    ([{"role": "user", "content": "a"}, "b"], r"messages\[1\] is str"),
    ([{"content": "a"}], r"messages\[0\] has no 'role'"),
    ([{"role": "bot", "content": "a"}], r"messages\[0\] has role 'bot'"),
    ([{"role": "user"}], r"messages\[0\] \(user\) has no 'content'"),
    ([{"role": "user", "content": 5}], r"messages\[0\]\.content is int"),
    ([{"role": "user", "content": None}], r"messages\[0\] \(user\) has content None"),
    ([{"role": "user", "content": [{"text": "a"}]}], r"messages\[0\]\.content\[0\] has no 'type'"),
    ([{"role": "user", "content": [3]}], r"messages\[0\]\.content\[0\] is int"),
])
def test_bad_messages_name_index_and_problem(messages: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        split_cacheable(messages)  # type: ignore[arg-type]


def test_bad_tools() -> None:
    with pytest.raises(InputError, match=r"tools\[1\] has no name"):
        split_cacheable([{"role": "user", "content": "x"}], [TOOLS[0], {"type": "function"}])
    with pytest.raises(InputError, match="context_role"):
        split_cacheable([{"role": "user", "content": "x"}], context_role="narrator")


def test_assistant_tool_calls_allowed() -> None:
    msgs = [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "book", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}, {"role": "user", "content": "thanks"}]
    lay = split_cacheable(msgs, TOOLS)
    assert lay.messages == msgs


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9).map(str.capitalize)
ids = st.one_of(st.uuids().map(str), st.binary(min_size=8, max_size=16).map(lambda b: "req_" + b.hex()))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
date_fmts = st.sampled_from(["%Y-%m-%d", "%A, %B %d, %Y", "%d %B %Y", "%B %d, %Y", "%d/%m/%Y"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d1=dates, d2=dates, fmt=date_fmts, n1=names, n2=st.tuples(names, names), i1=ids, i2=ids,
       email_user=names, seconds=st.integers(0, 86399))
def test_prefix_is_byte_identical_across_dynamic_values(d1, d2, fmt, n1, n2, i1, i2, email_user, seconds) -> None:
    def build(d: date, name: str, rid: str) -> list[dict]:
        stamp = datetime.combine(d, datetime.min.time()) + timedelta(seconds=seconds)
        system = (f"Current date: {d.strftime(fmt)}\nYou are talking to {name}.\n\n{STATIC}\n"
                  f"Request ID: {rid}\nUser e-mail: {name.lower()}@example.com\n"
                  f"Log stamp {stamp.isoformat()} (current time).\n# NOTES\nBe concise.")
        return [{"role": "system", "content": system}, {"role": "user", "content": f"Hi, I am {name}."}]

    a = split_cacheable(build(d1, n1, i1), TOOLS)
    b = split_cacheable(build(d2, " ".join(n2), i2), list(reversed(TOOLS)))
    dump = lambda lay: json.dumps([lay.prefix, lay.tools], sort_keys=False)  # noqa: E731
    assert dump(a) == dump(b)
    assert a.prefix[0]["content"] == STATIC + "\n# NOTES\nBe concise."


@settings(max_examples=60, deadline=None)
@given(static_lines=st.lists(st.sampled_from(STATIC.splitlines() + ["", "Be kind.", "Use tables."]), max_size=12),
       dyn=st.lists(st.tuples(st.integers(0, 12), st.sampled_from([
           "Today is {d}.", "Current date: {d}", "You are talking to {n}.", "Session id: {i}", "Write to {n}@mail.org.",
           "It is {d} and the user is {n}."])), max_size=4),
       d=dates, n=names, i=ids)
def test_nothing_dropped_nothing_duplicated(static_lines, dyn, d, n, i) -> None:
    lines = list(static_lines)
    for pos, template in dyn:
        lines.insert(min(pos, len(lines)), template.format(d=d.isoformat(), n=n, i=i))
    text = "\n".join(lines)
    lay = split_cacheable([{"role": "system", "content": text}, {"role": "user", "content": "q"}])
    out = "\n".join(m["content"] for m in lay.messages[:-1])
    for span in find_dynamic_spans(text):
        assert out.count(span.text) == text.count(span.text), span
    for line in static_lines:
        if line.strip():
            assert line in out
    # tokens: only the moved text's position changes (plus message overhead for the context message)
    assert abs(lay.savings.after - lay.savings.before) <= 10


fragments = st.sampled_from([
    "Today is 2026-11-22.", "You are talking to Zoë Ng.", "Id: 7f3e9a2b11cd", "{name}", "a@b.co", "\n", "\n\n",
    "# Head\n", "```\nx = {y}\n```\n", " turn 3 of 9 ", "Be brief. ", "- item\n", "Current time: 10:30.",
])


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(st.one_of(fragments, st.text(max_size=40)), max_size=14))
def test_split_text_never_loses_characters(parts) -> None:
    """Any text: spans are exact slices, sorted and disjoint; every non-blank character survives."""
    from collections import Counter

    text = "".join(parts)
    spans = find_dynamic_spans(text)
    assert all(text[s.start:s.end] == s.text for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    split = split_text(text)
    before = Counter(c for c in text if not c.isspace())
    after = Counter(c for c in split.static + "".join(split.dynamic) if not c.isspace())
    assert not before - after
    assert find_dynamic_spans(split.static) == []  # what stays in the prefix is static


# ---------------------------------------------------------------- order checks

def test_tool_order_and_json_helpers() -> None:
    issues = tool_order_issues(TOOLS)
    assert issues[0].kind == "tool_order" and {i.kind for i in issues[1:]} == {"json_keys"}
    assert "tools[1].function" in {i.location for i in issues}
    assert tool_order_issues(canonical_tools(TOOLS)) == []
    dup = tool_order_issues([{"name": "a"}, {"name": "a"}], check_keys=False)
    assert [i.kind for i in dup] == ["duplicate_tool"]
    text = 'Example:\n{"b": 1, "a": [{"d": 1, "c": 2}]}\nNested style: {\n  "z": 1,\n  "y": {"q": 1}\n}'
    spans = find_unsorted_json(text)
    assert [s.kind for s in spans] == ["unsorted_json", "unsorted_json"]
    new, edits = sort_json_in_text(text)
    assert new.startswith('Example:\n{"a": [{"c": 2, "d": 1}], "b": 1}')
    assert len(edits) == 1  # the mixed-style object cannot be re-serialized byte-exactly: left alone
    assert json.loads(new[9:new.index("\n", 9)]) == json.loads(text[9:text.index("\n", 9)])


# ---------------------------------------------------------------- providers

def test_provider_rules() -> None:
    assert provider_for_model("gpt-4o") == "openai"
    assert provider_for_model("claude-sonnet-4-5") == "anthropic"
    assert provider_for_model("google/gemini-2.5-flash") == "google"
    r = cache_rules("claude-sonnet-4-5")
    assert (r.min_tokens, r.max_breakpoints, r.ttl("1h")) == (1024, 4, 3600)
    assert r.as_of and "Anthropic" in r.source
    assert cacheable_minimum("claude-haiku-4-5-20251001") == 4096
    assert cache_rules("gpt-4o").cacheable_tokens(1300) == 1280
    assert cache_rules("gpt-4o").cacheable_tokens(1000) == 0
    assert prefix_meets_minimum(1024, "gpt-4o") and not prefix_meets_minimum(1023, "gpt-4o")
    with pytest.raises(UnknownModelError):
        provider_for_model("llama-3-70b")
    with pytest.raises(InputError):
        cache_rules("gpt-4o").ttl("2h")
    with pytest.raises(InputError):
        cache_rules("gpt-4o", "azure")


# ---------------------------------------------------------------- renderers

def long_request(**kw: str) -> list[dict]:
    msgs = request(kw.get("day", "2026-11-22"), "Alice", "req_8f3a2b91")
    msgs[0]["content"] += "\n" + "Always double-check dates, airports and fares. " * 150
    msgs[-1] = {"role": "user", "content": [{"type": "text", "text": "And this?"},
                                            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}
    return msgs


def test_to_anthropic_breakpoints_and_shapes() -> None:
    lay = split_cacheable(long_request(), TOOLS, "claude-sonnet-4-5")
    r = to_anthropic(lay)
    req = r.request
    assert req["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert r.breakpoints == ("system[0]", "messages[1].content[0]") and len(r.breakpoints) <= 4
    assert [t["name"] for t in req["tools"]] == ["book", "search_flights"] and "input_schema" in req["tools"][0]
    last = req["messages"][-1]
    assert last["role"] == "user" and last["content"][0] == {"type": "text", "text": lay.dynamic_context}
    assert last["content"][2] == {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
    assert r.meets_minimum and r.cacheable_tokens >= r.min_tokens
    r1h = to_anthropic(lay, ttl="1h", history_ttl="5m")
    assert r1h.request["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert r1h.request["messages"][1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    with pytest.raises(InputError, match="1-hour"):
        to_anthropic(lay, ttl="5m", history_ttl="1h")
    with pytest.raises(InputError):
        to_anthropic(lay, ttl="10m")
    assert to_anthropic(lay, max_breakpoints=1).breakpoints == ("messages[1].content[0]",)


def test_to_anthropic_respects_minimum_and_lookback() -> None:
    short = split_cacheable(request("2026-11-22", "Al", "req_12345678"), TOOLS, "claude-sonnet-4-5")
    r = to_anthropic(short)
    assert r.breakpoints == () and not r.meets_minimum and "below 1024" in r.notes[0]
    haiku = to_anthropic(split_cacheable(long_request(), TOOLS, "claude-haiku-4-5"))
    assert haiku.breakpoints == () and haiku.min_tokens == 4096 and haiku.prefix_tokens > 1024
    history = [m for k in range(15) for m in ({"role": "user", "content": f"q{k} " * 40},
                                                {"role": "assistant", "content": f"a{k} " * 40})]
    msgs = [{"role": "system", "content": STATIC * 20}, *history, {"role": "user", "content": "last"}]
    r = to_anthropic(split_cacheable(msgs, None, "claude-sonnet-4-5"))
    assert len(r.breakpoints) == 3 and r.breakpoints[1] == "messages[9].content[0]"


def test_to_openai_and_gemini() -> None:
    lay = split_cacheable(long_request(), TOOLS, "gpt-4o")
    r = to_openai(lay, prompt_cache_key="travel-v1")
    assert r.request["prompt_cache_key"] == "travel-v1" and r.request["messages"] == lay.messages
    assert r.meets_minimum and r.cacheable_tokens % 128 == 0 and r.cacheable_tokens <= r.prefix_tokens
    short = to_openai(split_cacheable(request("2026-11-22", "Al", "req_12345678")))
    assert not short.meets_minimum and short.cacheable_tokens == 0 and "below" in short.notes[0]
    with pytest.raises(InputError):
        to_openai(lay, prompt_cache_key="")
    g = to_gemini(lay).request
    assert g["system_instruction"]["parts"][0]["text"].startswith("# IDENTITY")
    assert g["contents"][1]["role"] == "model"
    assert g["contents"][-1]["parts"][0] == {"text": lay.dynamic_context}
    assert [d["name"] for d in g["tools"][0]["function_declarations"]] == ["book", "search_flights"]
    claude = split_cacheable(long_request(), TOOLS, "claude-sonnet-4-5")
    # re-expressed in gpt-4o tokens (Claude counts are rounded up per piece, so allow a little drift)
    assert abs(to_openai(claude).prefix_tokens - lay.prefix_tokens) <= 0.01 * lay.prefix_tokens


# ---------------------------------------------------------------- simulation

def trace(gaps: list[float], vary: bool = True) -> list[TraceRequest]:
    out, t = [], 0.0
    for k, gap in enumerate(gaps):
        t += gap
        day = f"2026-11-{10 + k % 18:02d}" if vary else "2026-11-22"
        out.append(TraceRequest(t, long_request(day=day), TOOLS))
    return out


def test_simulate_openai_prefix_increments() -> None:
    rep = simulate_cache(trace([0, 10, 20]), "openai", "gpt-4o")
    first, second, third = rep.restructured
    assert not first.hit and second.hit and third.hit
    assert second.cached_tokens >= 1024 and second.cached_tokens % 128 == 0
    assert all(r.cached_tokens + r.written_tokens + r.uncached_tokens == r.input_tokens for r in rep.restructured)
    assert not any(r.hit for r in rep.naive)  # the date at the top breaks every naive prefix
    assert rep.cost("restructured") < rep.cost("naive") <= rep.nocache_cost
    late = simulate_cache(trace([0, 400]), "openai", "gpt-4o")
    assert not late.restructured[1].hit  # past the 5-minute TTL


def test_simulate_anthropic_ttl_refresh_and_write_premium() -> None:
    rep = simulate_cache(trace([0, 250, 250, 250]), "anthropic", "claude-sonnet-4-5", ttl="5m")
    assert [r.hit for r in rep.restructured] == [False, True, True, True]  # hits refresh the TTL
    assert rep.restructured[0].written_tokens > 0 and rep.restructured[1].written_tokens == 0  # same history
    assert rep.cached_share() > 0.95 and rep.cached_share("naive") == 0.0
    cold = simulate_cache(trace([0, 400, 400]), "anthropic", "claude-sonnet-4-5", ttl="5m")
    assert [r.hit for r in cold.restructured] == [False, False, False]
    warm_1h = simulate_cache(trace([0, 400, 400]), "anthropic", "claude-sonnet-4-5", ttl="1h")
    assert [r.hit for r in warm_1h.restructured] == [False, True, True]
    assert rep.cost_reduction(static=True, after_warmup=True) > 0.9  # 0.1x reads vs 1.25x writes
    plain = simulate_cache(trace([0, 10]), "anthropic", "claude-sonnet-4-5", naive_caching=False)
    assert plain.cost("naive") == plain.nocache_cost  # no markers: every token at the base price
    assert rep.naive[0].cost > rep.nocache_cost / 4  # naive markers pay the write premium on every miss


def test_simulated_cost_matches_estimate_cost() -> None:
    rep = simulate_cache(trace([0, 30]), "anthropic", "claude-sonnet-4-5")
    for r in rep.restructured:
        est = estimate_cost(r.input_tokens, 0, "claude-sonnet-4-5", cached_input_tokens=r.cached_tokens,
                            cache_write_tokens=r.written_tokens)
        assert abs(est.input_cost - r.cost) < Decimal("1e-9")
    rep = simulate_cache(trace([0, 30]), "openai", "gpt-4o")
    r = rep.restructured[1]
    est = estimate_cost(r.input_tokens, 0, "gpt-4o", cached_input_tokens=r.cached_tokens)
    assert abs(est.input_cost - r.cost) < Decimal("1e-9")


def test_simulate_bad_input() -> None:
    reqs = trace([0, 10])
    with pytest.raises(InputError, match=r"requests\[1\] arrives"):
        simulate_cache([reqs[1], reqs[0]], "openai", "gpt-4o")
    with pytest.raises(InputError, match=r"requests\[0\] has no 'time'"):
        simulate_cache([{"messages": reqs[0].messages}], "openai", "gpt-4o")
    with pytest.raises(InputError):
        simulate_cache(reqs, "openai", "gpt-4o", ttl=-1)
    rep = simulate_cache([(0, reqs[0].messages), {"t": 5, "messages": reqs[1].messages}], "openai", "gpt-4o")
    assert len(rep.restructured) == 2 and rep.summary()["requests"] == 2


# ---------------------------------------------------------------- shared data

def test_fabric_prompts_are_mostly_static(shared_data) -> None:
    """Real static prompts: few false positives (they would only cost cacheable tokens, never meaning)."""
    rows = [json.loads(line) for line in (shared_data / "prompts" / "fabric-patterns.jsonl").open(encoding="utf-8")]
    tok = promptslim.get_tokenizer()
    total = moved = 0
    for row in rows:
        split = split_text(row["system"])
        total += tok.count(row["system"])
        moved += sum(tok.count(u.text) for u in split.units)
        assert split.static.strip() or not row["system"].strip()
    assert moved / total < 0.02
