"""Tests of fit_history, RollingHistory and the extractive summarizer (issue 7).

Property tests cover every invariant the issue lists: system messages first and unchanged, the last
keep_last turns verbatim (or listed as degraded), tool-call groups never split, no orphan tool message
at the start, the request fits the budget, the final message never dropped, every dropped message
listed in the Change records; plus determinism and fit_history == RollingHistory.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import promptslim
from promptslim import InputError, RollingHistory, extractive_summarizer, fit_history
from promptslim.history import prefix_stability
from promptslim.history_messages import MessageCounter
from promptslim.history_rules import clean_sentence, fact_terms, fragments
from promptslim.summarize import ExtractiveSummarizer, summary_sentences
from promptslim.tokens import get_tokenizer

TOK = get_tokenizer()
HEADER = "Earlier in this conversation:"

SENTENCES = [
    "I need a hotel in the east with 4 stars.",
    "My name is Ada Lovelace and I live in London.",
    "Book it for 3 people and 2 nights starting Friday.",
    "Thanks, goodbye!",
    "What time does the train leave?",
    "The train leaves at 17:29 and arrives by 18:07.",
    "Booking was successful, reference number is BMUKPTG6.",
    "I don't eat meat, so no steakhouse please.",
    "Sure.",
    "That sounds great!",
    "We are a party of five celebrating a birthday on 12 March.",
    "Is there anything else I can help you with?",
    "Use `pip install promptslim` and see https://example.com/docs for details.",
    "I prefer the cheap price range, not expensive.",
]


# ---- strategies ---------------------------------------------------------------------------------
def _content(draw: Any, text: str) -> Any:
    if draw(st.booleans()):
        return text
    return [{"type": "text", "text": text}] + (
        [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}] if draw(st.booleans()) else [])


@st.composite
def conversations(draw: Any) -> list[dict[str, Any]]:
    """A valid OpenAI-shaped conversation: optional system prompt, then turns, ending on a user message."""
    text = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3).map(" ".join)
    msgs: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        msgs.append({"role": "system", "content": draw(st.sampled_from(["You are terse.", "Answer in English."]))})
    n_call = 0
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["user", "assistant", "assistant", "tool"]))
        if kind == "user":
            msgs.append({"role": "user", "content": _content(draw, draw(text))})
        elif kind == "assistant":
            msgs.append({"role": "assistant", "content": draw(text)})
        else:
            ids = [f"call_{n_call + j}" for j in range(draw(st.integers(1, 2)))]
            n_call += len(ids)
            msgs.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": i, "type": "function", "function": {"name": "lookup", "arguments": json.dumps({"q": draw(text)})}}
                for i in ids]})
            for i in ids:
                msgs.append({"role": "tool", "tool_call_id": i, "content": draw(text)})
    msgs.append({"role": "user", "content": _content(draw, draw(text))})
    return msgs


def _turns(msgs: list[dict[str, Any]]) -> list[list[int]]:
    """Indices of non-system messages grouped as turns (a tool call with its results is one turn)."""
    turns: list[list[int]] = []
    for i, m in enumerate(msgs):
        if m["role"] in ("system", "developer"):
            continue
        if m["role"] == "tool":
            turns[-1].append(i)
        else:
            turns.append([i])
    return turns


def _min_budget(msgs: list[dict[str, Any]]) -> int:
    """System messages plus the whole final turn: the least budget that needs no message shortened."""
    sys_msgs = [m for m in msgs if m["role"] == "system"]
    last = _turns(msgs)[-1]
    return TOK.count_messages(sys_msgs + [msgs[i] for i in last])


@st.composite
def cases(draw: Any) -> tuple[list[dict[str, Any]], int, int]:
    msgs = draw(conversations())
    lo, hi = _min_budget(msgs), TOK.count_messages(msgs) + 20
    budget = draw(st.integers(lo, max(lo, hi)))
    return msgs, budget, draw(st.integers(0, 5))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_invariants(msgs: list[dict[str, Any]], budget: int, keep_last: int, res: Any) -> None:
    out = res.value
    systems = [m for m in msgs if m["role"] == "system"]
    n_sys = len(systems)
    # system messages kept, unchanged, first
    assert out[:n_sys] == systems
    rest = out[n_sys:]
    if rest and rest[0]["role"] == "system":
        assert rest[0]["content"].startswith(HEADER)
        rest = rest[1:]
    assert all(m["role"] != "system" for m in rest)
    # fits the budget, and Savings tells the truth
    assert TOK.count_messages(out) <= budget
    assert res.savings.after == TOK.count_messages(out)
    assert res.savings.before == TOK.count_messages(msgs)
    # never starts with an orphan tool message; tool results follow their call
    assert not rest or rest[0]["role"] != "tool"
    for j, m in enumerate(rest):
        if m["role"] == "tool":
            k = j - 1
            while rest[k]["role"] == "tool":
                k -= 1
            assert rest[k]["role"] == "assistant"
            assert m["tool_call_id"] in {c["id"] for c in rest[k]["tool_calls"]}
        if m.get("tool_calls"):
            ids = [c["id"] for c in m["tool_calls"]]
            following = [x.get("tool_call_id") for x in rest[j + 1: j + 1 + len(ids)]]
            present = [i for i in ids if any(x.get("tool_call_id") == i for x in msgs)]
            assert following[: len(present)] == present
    # the output tail is a verbatim suffix of the input (bar listed shortenings); the final message last
    nonsys = [i for i, m in enumerate(msgs) if m["role"] != "system"]
    kept_idx = nonsys[len(nonsys) - len(rest):]
    shortened = {c.location for c in res.changes if c.kind == "shorten"}
    for i, m in zip(kept_idx, rest, strict=True):
        assert m == msgs[i] or f"messages[{i}]" in shortened
    assert rest[-1] == msgs[-1]
    # every message that left is listed in the Change records
    listed = {c.location for c in res.changes if c.kind in ("summarize", "drop")}
    for i in nonsys[: len(nonsys) - len(rest)]:
        assert f"messages[{i}]" in listed
    # the last keep_last turns are verbatim, or listed as degraded because they did not fit
    degraded = {c.location for c in res.changes if c.rule == "history-degrade"}
    for turn in _turns(msgs)[-keep_last:] if keep_last else []:
        for i in turn:
            assert i in kept_idx or f"messages[{i}]" in degraded


# ---- properties -------------------------------------------------------------------------------
@SETTINGS
@given(cases())
def test_invariants_hold(case: tuple[list[dict[str, Any]], int, int]) -> None:
    msgs, budget, keep_last = case
    frozen = copy.deepcopy(msgs)
    res = fit_history(msgs, budget, keep_last=keep_last)
    assert msgs == frozen  # pure: the input is not modified
    _check_invariants(msgs, budget, keep_last, res)


@SETTINGS
@given(cases(), st.sampled_from([0.0, 0.1, 0.3]), st.sampled_from([0.3, 0.6, 8]))
def test_invariants_hold_across_options(case: tuple[list[dict[str, Any]], int, int], chunk: float,
                                        summary_tokens: float | int) -> None:
    msgs, budget, keep_last = case
    res = fit_history(msgs, budget, keep_last=keep_last, chunk=chunk, summary_tokens=summary_tokens)
    _check_invariants(msgs, budget, keep_last, res)


@SETTINGS
@given(cases())
def test_deterministic_and_equal_to_rolling_history(case: tuple[list[dict[str, Any]], int, int]) -> None:
    msgs, budget, keep_last = case
    a = fit_history(msgs, budget, keep_last=keep_last)
    b = fit_history(copy.deepcopy(msgs), budget, keep_last=keep_last)
    assert json.dumps(a.value) == json.dumps(b.value)
    assert a.changes == b.changes
    h = RollingHistory(budget, keep_last=keep_last)
    for m in msgs:
        h.append(m)
    assert h.messages() == a.value
    assert h.tokens == a.savings.after


@SETTINGS
@given(conversations())
def test_summary_is_byte_stable_between_batches(msgs: list[dict[str, Any]]) -> None:
    """Between two batches a request only appends: the summary and system prefix do not change."""
    checkpoints = [k for k in range(1, len(msgs) + 1)
                   if msgs[k - 1]["role"] != "system" and (k == len(msgs) or msgs[k]["role"] != "tool")]
    budget = max(max(_min_budget(msgs[:k]) for k in checkpoints) * 2, TOK.count_messages(msgs) // 2)
    h = RollingHistory(budget, keep_last=2)
    prev: list[dict[str, Any]] | None = None
    batches = h.compactions
    for m in msgs:
        h.append(m)
        if h._w.turns and h._w.turns[-1].pending:  # a tool call still waiting for its results
            continue
        cur = h.messages()
        if prev is not None and h.compactions == batches:
            assert cur[: len(prev)] == prev
        prev, batches = cur, h.compactions


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=30), st.integers(0, 120),
       st.sampled_from(["user", "assistant", "tool"]))
def test_extractive_summary_stays_within_its_budget(sents: list[str], budget: int, role: str) -> None:
    msgs = [{"role": role, "content": s} for s in sents]
    out = extractive_summarizer(msgs, None, max_tokens=budget)
    assert TOK.count(out) <= budget
    assert out == "" or out.startswith(HEADER)
    assert extractive_summarizer(msgs, None, max_tokens=budget) == out
    again = extractive_summarizer([], out, max_tokens=budget)  # re-reading its own summary keeps it
    assert TOK.count(again) <= budget


@settings(max_examples=50, deadline=None)
@given(conversations())
def test_message_counter_matches_count_messages(msgs: list[dict[str, Any]]) -> None:
    count = MessageCounter(TOK)
    for m in msgs + [{"role": "user", "name": "ada", "content": "hi"}]:
        assert count(m) == TOK.count_messages([m], reply_priming=False)


# ---- behaviour ----------------------------------------------------------------------------------
def _chat(n: int) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": "You are a booking assistant."}]
    for i in range(n):
        msgs.append({"role": "user", "content": f"Turn {i}: I need a table for {i + 2} people on Friday at 19:{i:02d}."})
        msgs.append({"role": "assistant", "content": f"Sure. Booked table {i} for {i + 2} people. Anything else?"})
    msgs.append({"role": "user", "content": "Thanks. What was my first booking?"})
    return msgs


def test_under_budget_is_a_no_op() -> None:
    msgs = _chat(3)
    res = fit_history(msgs, 10_000)
    assert res.value == msgs and res.changes == () and res.savings.saved == 0


def test_over_budget_summarizes_the_oldest_turns() -> None:
    msgs = _chat(30)
    budget = TOK.count_messages(msgs) // 2
    res = fit_history(msgs, budget, keep_last=3)
    out = res.value
    assert out[0] == msgs[0]
    assert out[1]["role"] == "system" and out[1]["content"].startswith(HEADER)
    assert out[-3:] == msgs[-3:] and len(out) < len(msgs)  # the last 3 turns verbatim
    assert not [c for c in res.changes if c.rule == "history-degrade"]
    assert res.savings.after <= budget < res.savings.before
    summarized = [c for c in res.changes if c.kind == "summarize"]
    assert summarized and all(c.tokens_saved > 0 and c.before for c in summarized)
    assert res.by_kind("insert")[0].after == out[1]["content"]
    assert "Turn 0: table for 2 people on Friday at 19:00." in out[1]["content"]


def test_kept_turns_that_do_not_fit_are_summarized_oldest_first() -> None:
    msgs = _chat(12)
    res = fit_history(msgs, TOK.count_messages(msgs) // 4, keep_last=6)
    degraded = [c for c in res.changes if c.rule == "history-degrade"]
    assert degraded and "keep_last" in degraded[0].reason
    assert res.value[-1] == msgs[-1]


def test_summary_role_and_header() -> None:
    msgs = _chat(10)
    res = fit_history(msgs, TOK.count_messages(msgs) // 3, summary_role="user")
    assert res.value[1]["role"] == "user" and res.value[1]["content"].startswith(HEADER)


def test_late_system_message_is_moved_first_and_recorded() -> None:
    msgs = _chat(2) + [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "And now?"}]
    res = fit_history(msgs, 10_000)
    assert [m["content"] for m in res.value[:2]] == ["You are a booking assistant.", "Be brief."]
    assert res.by_kind("move")[0].location == "messages[6]"


def test_tool_group_moves_together_and_never_starts_the_window() -> None:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris and Rome on Friday?"}]
    msgs.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "b", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}}]})
    msgs.append({"role": "tool", "tool_call_id": "a", "content": "Paris: 21 C, sunny. " * 5})
    msgs.append({"role": "tool", "tool_call_id": "b", "content": "Rome: 25 C, clear. " * 5})
    msgs.append({"role": "assistant", "content": "Paris 21 C, Rome 25 C."})
    msgs.append({"role": "user", "content": "Thanks!"})
    for budget in range(TOK.count_messages(msgs[-1:]) + 30, TOK.count_messages(msgs) + 5, 7):
        out = fit_history(msgs, budget, keep_last=1).value
        roles = [m["role"] for m in out if not (m["role"] == "system")]
        assert roles[0] != "tool"
        if "tool" in roles:
            i = roles.index("assistant")
            assert roles[i: i + 3] == ["assistant", "tool", "tool"]


def test_final_turn_too_large_shortens_the_longest_non_final_message() -> None:
    msgs: list[dict[str, Any]] = [{"role": "user", "content": "Fetch the report and the weather."}]
    msgs.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": "r", "type": "function", "function": {"name": "fetch", "arguments": "{}"}},
        {"id": "w", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]})
    msgs.append({"role": "tool", "tool_call_id": "r", "content": "Quarterly revenue rose 12% to $4.1M. " * 40})
    msgs.append({"role": "tool", "tool_call_id": "w", "content": "Sunny, 21 C."})
    budget = 150
    res = fit_history(msgs, budget)
    assert TOK.count_messages(res.value) <= budget
    cut = res.by_kind("shorten")
    assert [c.location for c in cut] == ["messages[2]"] and cut[0].rule == "history-overflow"
    assert res.value[-1] == msgs[-1] and res.value[-3] == msgs[1]
    assert res.value[-2]["content"].startswith("Quarterly revenue rose 12%")
    assert "[...trimmed" in res.value[-2]["content"]
    with pytest.raises(InputError, match=r"final turn \(messages\[2\]"):
        fit_history(msgs[:3], budget)  # the final message itself is never shortened


def test_final_message_is_never_dropped() -> None:
    msgs = [{"role": "system", "content": "Short."}, {"role": "user", "content": "word " * 400}]
    with pytest.raises(InputError, match=r"messages\[1\]"):
        fit_history(msgs, 100)


@pytest.mark.parametrize(
    ("msgs", "match"),
    [
        ([{"role": "robot", "content": "hi"}], r"messages\[0\] has role 'robot'"),
        ([{"role": "user", "content": "   "}], r"messages\[0\] \(user\) has empty content"),
        ([{"role": "user", "content": []}], r"messages\[0\] \(user\) has empty content"),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}], r"messages\[1\] \(assistant\)"),
        ([{"role": "user"}], r"messages\[0\] \(user\) has empty content"),
        ([{"role": "user", "content": 3}], r"messages\[0\]\.content is int"),
        ([{"role": "user", "content": "a"}, {"role": "tool", "tool_call_id": "x", "content": "1"}], r"orphan"),
        (["hello"], r"messages\[0\] is str"),
    ],
)
def test_bad_messages_raise_naming_the_index(msgs: list[Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        fit_history(msgs, 1000)


def test_budget_below_system_messages_raises() -> None:
    msgs = [{"role": "system", "content": "You are a careful assistant. " * 20}, {"role": "user", "content": "Hi"}]
    with pytest.raises(InputError, match=r"smaller than the system messages \(messages\[0\]"):
        fit_history(msgs, 50)


@pytest.mark.parametrize("kwargs", [{"budget": 0}, {"budget": 10, "keep_last": -1}, {"budget": 10, "chunk": 1.5},
                                    {"budget": 10, "summary_tokens": 0.9, "chunk": 0.2},
                                    {"budget": 10, "summary_role": "tool"}, {"budget": 10, "summarizer": 3}])
def test_bad_options_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        fit_history([{"role": "user", "content": "hi"}], **kwargs)


def test_empty_tool_result_and_content_parts_are_accepted() -> None:
    msgs = [
        {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "x"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t", "type": "function",
                                                                "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t", "content": ""},
        {"role": "user", "content": [{"type": "text", "text": "ok"}]},
    ]
    assert fit_history(msgs, 1000).value == msgs


def test_pluggable_summarizer_gets_leaving_messages_and_previous_summary() -> None:
    calls: list[tuple[list[str], str | None]] = []

    def llm(messages: list[dict[str, Any]], previous_summary: str | None) -> str:
        calls.append(([m["content"] for m in messages], previous_summary))
        return f"SUMMARY {len(calls)}"

    msgs = _chat(15)
    res = fit_history(msgs, TOK.count_messages(msgs) // 3, summarizer=llm)
    assert calls[0][1] is None and calls[1][1] == "SUMMARY 1"
    assert calls[0][0][0].startswith("Turn 0")
    assert res.value[1]["content"] == f"SUMMARY {len(calls)}"
    seen = [c for batch, _ in calls for c in batch]
    assert len(seen) == len(set(seen))  # each message is summarized once: incremental, not rebuilt


def test_pluggable_summarizer_budget_and_overlong_output() -> None:
    got: dict[str, Any] = {}

    def verbose(messages: list[dict[str, Any]], previous_summary: str | None, *, max_tokens: int) -> str:
        got["max_tokens"] = max_tokens
        return "blah " * 1000

    msgs = _chat(12)
    budget = TOK.count_messages(msgs) // 3
    res = fit_history(msgs, budget, summarizer=verbose)
    assert got["max_tokens"] > 0
    assert TOK.count_messages(res.value) <= budget
    assert "trimmed" in res.value[1]["content"]
    assert res.by_kind("shorten")[0].rule == "history-summary-budget"

    with pytest.raises(InputError, match="summarizer returned int"):
        fit_history(msgs, budget, summarizer=lambda m, p: 3)


def test_rolling_history_api_and_prefix_stability() -> None:
    msgs = _chat(20)
    h = RollingHistory(TOK.count_messages(msgs) // 2, keep_last=2)
    requests = []
    for m in msgs:
        h.append(m)
        if m["role"] == "user":
            requests.append(h.messages())
    assert len(h) == len(msgs)
    assert h.summary and h.summary.startswith(HEADER) and h.compactions >= 1
    assert 0 < h.prefix_stability < 1  # batches break the prefix; turns in between only append
    assert h.prefix_stability == prefix_stability(requests)
    assert any(c.kind == "summarize" for c in h.changes)
    m = {"role": "user", "content": "Mutable"}
    h.append(m)
    m["content"] = "changed"
    assert h.messages()[-1]["content"] == "Mutable"  # appended messages are copied


def test_prefix_stability_function() -> None:
    a = [{"role": "user", "content": "1"}]
    b = a + [{"role": "assistant", "content": "2"}]
    c = [{"role": "system", "content": "s"}] + b
    assert prefix_stability([a]) is None
    assert prefix_stability([a, b, c]) == 0.5


# ---- the extractive summarizer ------------------------------------------------------------------
def test_summarizer_prefers_facts_over_small_talk() -> None:
    msgs = [
        {"role": "user", "content": "Hi there! How are you?"},
        {"role": "assistant", "content": "I'm fine, thanks. How can I help?"},
        {"role": "user", "content": "I am vegetarian and I need a table for 4 people on Saturday at 19:30."},
        {"role": "assistant", "content": "That sounds great! I booked Giraffe, reference ABC123X."},
        {"role": "user", "content": "Thanks, that's lovely."},
    ]
    out = extractive_summarizer(msgs, None, max_tokens=40)
    assert "4 people on Saturday at 19:30" in out and "vegetarian" in out.lower()
    assert "How are you" not in out and "lovely" not in out


def test_summarizer_is_incremental_and_parses_its_own_output() -> None:
    first = extractive_summarizer([{"role": "user", "content": "My name is Ada and I live in Paris."}], None)
    second = extractive_summarizer([{"role": "assistant", "content": "Your flight AF123 leaves at 09:40."}], first)
    assert "Ada" in second and "AF123" in second
    assert summary_sentences(second)[0][0] == "user"
    assert summary_sentences("free text from an LLM. Another sentence.") == [
        ("", "free text from an LLM."), ("", "Another sentence.")]


def test_summarizer_keeps_protected_text_verbatim() -> None:
    s = 'Run `pip  install promptslim` and read "the docs" at https://example.com/a .'
    assert clean_sentence(s, compact=True) == 'Run `pip install promptslim` and read "the docs" at https://example.com/a .'
    assert clean_sentence("I do n't need the hotel .", compact=True) == "I don't need hotel."
    assert ExtractiveSummarizer(compact=False)([{"role": "user", "content": "I need the hotel ."}]) .endswith(
        "I need the hotel.")


def test_fact_terms_and_fragments() -> None:
    assert fact_terms("Book 3 nights from Friday at the Lensfield") == {
        "book": 0.3, "#3 nights": 1.0, "friday": 1.0, "lensfield": 1.0}
    assert fragments("No preference, I need it for 2 nights, and a reference number please.") == [
        "No preference, I need it for 2 nights", "and a reference number please."]
    assert fragments("I need 3, 4 or 5 rooms.") == ["I need 3, 4 or 5 rooms."]


def test_bad_summarizer_options() -> None:
    with pytest.raises(InputError):
        ExtractiveSummarizer(max_tokens=-1)
    with pytest.raises(InputError):
        extractive_summarizer(["not a message"], None)  # type: ignore[list-item]


def test_public_api() -> None:
    for name in ("fit_history", "RollingHistory", "extractive_summarizer"):
        assert name in promptslim.__all__ and hasattr(promptslim, name)


# ---- eval suites --------------------------------------------------------------------------------
def test_eval_helpers_without_data() -> None:
    from promptslim.eval.tasks.history import multiwoz_facts, multiwoz_present, truncate_last

    goal = ["The hotel should have <span class='emphasis'>a star of 4</span> and should be in the "
            "<span class='emphasis'>east</span>", "book it for <span class='emphasis'>3 people</span> and "
            "<span class='emphasis'>2 nights</span> starting from <span class='emphasis'>monday</span>",
            "The train should <span class='emphasis'>arrive by 19:45</span>",
            "serves <span class='emphasis'>chinese</span> food in the <span class='emphasis'>cheap</span> price range"]
    assert multiwoz_facts(goal) == [("stars", "4"), ("area", "east"), ("people", "3"), ("nights", "2"),
                                    ("day", "monday"), ("time", "19:45"), ("food", "chinese"), ("price", "cheap")]
    assert multiwoz_present("a 4 star hotel", "stars", "4")
    assert multiwoz_present("party of three please", "people", "3")
    assert not multiwoz_present("4 nights", "stars", "4")
    assert multiwoz_present("moderately priced", "price", "moderate")
    msgs = [{"role": "user", "content": "a " * 30}, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t", "content": "r"}, {"role": "user", "content": "b"}]
    out = truncate_last(msgs, 15)
    assert out and out[0]["role"] != "tool" and out[-1]["content"] == "b"


def test_eval_suites_on_shared_data(shared_data: Any) -> None:
    from promptslim.eval.core import get_suite

    for name in ("history-multiwoz", "history-persona"):
        suite = get_suite(name)
        assert suite.budgets == (0.5, 0.3, 0.2) and suite.primary_metric == "fact_retention"
        cases_ = list(suite.load(shared_data, 12))
        assert len(cases_) == 12 and all(c.data["messages"] and c.data["facts"] for c in cases_)
        ours = [suite.methods["fit_history"](c, 0.3, {}) for c in cases_]
        base = [suite.methods["truncate_last"](c, 0.3, {}) for c in cases_]
        for o in ours + base:
            assert o.tokens_after <= o.tokens_before
            assert 0 <= o.metrics["prefix_stability"] <= 1
        mean = [sum(o.metrics.get("fact_retention", 0) for o in xs) / len(xs) for xs in (ours, base)]
        assert mean[0] > mean[1]
    long = list(get_suite("history-multiwoz-long").load(shared_data, 2))
    assert len(long) == 2 and all(len(c.data["messages"]) > 40 and c.id.count("+") == 5 for c in long)


def test_developer_role_and_legacy_function_call_group() -> None:
    msgs: list[dict[str, Any]] = [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "name": "ada", "content": "What is the weather in Paris on Friday?"},
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"role": "function", "name": "weather", "content": "Sunny, 21 C."},
        {"role": "assistant", "content": "Sunny and 21 C in Paris on Friday."},
        {"role": "user", "content": "And Rome?"},
    ]
    assert fit_history(msgs, 10_000).value == msgs
    for budget in range(TOK.count_messages([msgs[0], msgs[-1]]), TOK.count_messages(msgs) + 1, 5):
        out = fit_history(msgs, budget, keep_last=1).value
        assert out[0] == msgs[0] and out[-1] == msgs[-1] and TOK.count_messages(out) <= budget
        rest = [m["role"] for m in out[1:]]
        assert not rest or rest[0] != "function"
        if "function" in rest:
            assert rest[rest.index("function") - 1] == "assistant"
    with pytest.raises(InputError, match=r"messages\[1\] is a function result"):
        fit_history([{"role": "user", "content": "hi"}, {"role": "function", "name": "f", "content": "x"}], 100)
