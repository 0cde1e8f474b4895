"""compress_prompt throughput against tiktoken encoding the same text, in the same run.

Run: pytest benchmarks/bench_compress.py --benchmark-enable. The prompts are the project's own
``promptslim/eval_sets/prompts.jsonl`` (36 English system prompts, ~46 kB) so the benchmark needs no shared
data: ``test_tiktoken_baseline`` encodes them, ``test_compress_*`` compress them one by one.
Report ``compress mean / tiktoken mean`` as the ratio; the issue's target is balanced >= 2 MB/s.
A 4,000-token single prompt (the same prompts joined) is measured too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptslim import compress_prompt, find_protected_spans, get_tokenizer

PROMPTS = [json.loads(line)["prompt"] for line in
           (Path(__file__).resolve().parents[1] / "promptslim" / "eval_sets" / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]
MB = sum(len(p.encode("utf-8")) for p in PROMPTS) / 1e6
TOK = get_tokenizer()
LONG = "\n\n".join(PROMPTS)
while TOK.count(LONG) < 4000:
    LONG += "\n\n" + LONG
LONG = TOK.decode(TOK.encode(LONG)[:4000])


def _each(fn):  # type: ignore[no-untyped-def]
    def run() -> int:
        return sum(len(fn(p)) for p in PROMPTS)
    return run


def test_tiktoken_baseline(benchmark) -> None:
    enc = TOK.encoding
    benchmark.extra_info["MB"] = MB
    assert benchmark(_each(enc.encode_ordinary)) > 0


@pytest.mark.parametrize("level", ["safe", "balanced", "aggressive"])
def test_compress(benchmark, level: str) -> None:
    benchmark.extra_info["MB"] = MB
    assert benchmark(_each(lambda p: compress_prompt(p, level=level).value)) > 0


def test_find_protected_spans(benchmark) -> None:
    benchmark.extra_info["MB"] = MB
    assert benchmark(_each(find_protected_spans)) > 0


def test_tiktoken_4000_tokens(benchmark) -> None:
    assert benchmark(lambda: len(TOK.encoding.encode_ordinary(LONG))) == TOK.count(LONG)


def test_compress_balanced_4000_tokens(benchmark) -> None:
    res = benchmark(compress_prompt, LONG)
    assert res.savings.after <= res.savings.before
