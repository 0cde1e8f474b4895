"""Eval throughput: 1,000 cases with lexical methods (no-op, truncation, random drop) in seconds.

Baseline in the same run: tokenizing every case once, the floor under any eval's cost.
Run: pytest benchmarks/bench_eval.py --benchmark-enable
"""

from __future__ import annotations

import random

from promptslim.eval import Case, Suite
from promptslim.eval.metrics import fact_retention
from promptslim.eval.runner import run_eval
from promptslim.eval.tasks.builtin import text_methods
from promptslim.tokens import get_tokenizer

WORDS = ("the cache hit rate rose to 93 percent after we moved the timestamp Alice Bob never share keys "
         "https://acme.io/docs on 2026-11-22 with 4 people for 3 nights in Camden").split()


def _text(rng: random.Random) -> str:
    sents = []
    for _ in range(rng.randint(6, 14)):
        sents.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + ".")
    return " ".join(sents)


RNG = random.Random(7)
CASES = [Case(f"c{i}", {"text": _text(RNG)}) for i in range(1000)]
SUITE = Suite(
    name="bench-lexical", task="prompts", description="synthetic",
    load=lambda _d, limit: CASES[:limit] if limit else CASES,
    methods=text_methods(lambda c: c.data["text"], lambda c, o, out: {"fact_retention": fact_retention(o, out) or 1.0}),
    budgets=(0.5,), baselines=("noop", "truncate", "random_drop"), primary_metric="fact_retention",
)


def test_tokenize_all_cases_baseline(benchmark) -> None:
    tok = get_tokenizer()
    total = benchmark(lambda: sum(tok.count(c.data["text"]) for c in CASES))
    assert total > 100_000


def test_eval_1000_cases_three_methods(benchmark) -> None:
    report = benchmark.pedantic(run_eval, args=([SUITE],), kwargs={"progress": False}, rounds=3, iterations=1)
    assert [r.n for r in report.rows] == [1000, 1000, 1000]
    assert report.rows[0].savings_pct == 0.0 and report.rows[1].savings_pct > 40
