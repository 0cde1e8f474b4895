"""fit_history and RollingHistory speed against counting the same conversation's tokens (issue 7).

Run: pytest benchmarks/bench_history.py --benchmark-enable. The conversation is 50 real MultiWOZ
turns (consecutive validation dialogues). Compare, in the same run:

* ``test_fit_history_*`` with ``test_count_conversation_baseline`` (``Tokenizer.count_messages`` on the
  same 50 messages). Targets: fit_history within 5 ms. ``warm`` re-fits a conversation whose sentences
  were seen before (a stateless server calling fit_history on every turn); ``cold`` clears the
  sentence-analysis caches before every call (a conversation never seen).
* ``test_rolling_append_50`` (51 appends of never-seen messages, then one ``messages()``) with
  ``test_count_each_message_baseline`` (counting each message as it arrives). Target: append within
  1 ms amortized (time / 51).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptslim import RollingHistory, fit_history, get_tokenizer, summarize as _summarize

TURNS = 50


@pytest.fixture(scope="module")
def conversation(shared_data: Path) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    with (shared_data / "conversations" / "multiwoz21-val.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            for t in json.loads(line)["turns"]:
                msgs.append({"role": "user" if t["speaker"] == "USER" else "assistant", "content": t["text"]})
            if len(msgs) >= TURNS + 1:
                break
    msgs = msgs[:TURNS]
    if msgs[-1]["role"] != "user":
        msgs[-1] = {"role": "user", "content": "Thanks. Can you remind me what I booked?"}
    return [{"role": "system", "content": "You are a helpful travel booking assistant."}] + msgs


def _budget(msgs: list[dict[str, Any]], ratio: float) -> int:
    return int(get_tokenizer().count_messages(msgs) * ratio)


def _clear_caches() -> None:
    _summarize._analyze.cache_clear()
    _summarize._sentences.cache_clear()


def test_count_conversation_baseline(benchmark, conversation) -> None:
    tok = get_tokenizer()
    assert benchmark(tok.count_messages, conversation) > 500


@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_fit_history_warm(benchmark, conversation, ratio) -> None:
    budget = _budget(conversation, ratio)
    fit_history(conversation, budget)
    res = benchmark(fit_history, conversation, budget)
    assert res.savings.after <= budget and res.value[-1] == conversation[-1]


@pytest.mark.parametrize("ratio", [0.5, 0.3])
def test_fit_history_cold(benchmark, conversation, ratio) -> None:
    budget = _budget(conversation, ratio)
    res = benchmark.pedantic(fit_history, args=(conversation, budget), setup=_clear_caches, rounds=30, iterations=1)
    assert res.savings.after <= budget


def test_count_each_message_baseline(benchmark, conversation) -> None:
    tok = get_tokenizer()

    def run() -> int:
        return sum(tok.count_messages([m], reply_priming=False) for m in conversation)

    assert benchmark(run) > 500


def test_rolling_append_50(benchmark, conversation) -> None:
    budget = _budget(conversation, 0.5)

    def run() -> list[dict[str, Any]]:
        h = RollingHistory(budget)
        for m in conversation:
            h.append(m)
        return h.messages()

    # every message of a chat loop is new: clear the sentence caches before each round
    out = benchmark.pedantic(run, setup=_clear_caches, rounds=30, iterations=1)
    assert out[-1] == conversation[-1]
