"""count_tokens throughput against raw tiktoken on the same text, and CLI cold start.

Run: pytest benchmarks/bench_tokens.py --benchmark-enable. Compare the mean of
``test_count_tokens`` with ``test_tiktoken_baseline`` (same text, same run): the target overhead is <= 10%.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import promptslim

TEXT = (Path(__file__).resolve().parents[1] / "promptslim" / "examples" / "support_agent.prompt").read_text() * 100


@pytest.fixture(scope="module")
def tok():
    return promptslim.get_tokenizer()


def test_tiktoken_baseline(benchmark, tok) -> None:
    enc = tok.encoding
    n = benchmark(lambda: len(enc.encode_ordinary(TEXT)))
    assert n == tok.count(TEXT)


def test_count_tokens(benchmark) -> None:
    n = benchmark(promptslim.count_tokens, TEXT)
    assert n > 10_000


def test_count_tokens_cl100k(benchmark) -> None:
    tok = promptslim.get_tokenizer("gpt-4")
    assert benchmark(tok.count, TEXT) > 10_000


def test_tiktoken_baseline_cl100k(benchmark) -> None:
    enc = promptslim.get_tokenizer("gpt-4").encoding
    assert benchmark(lambda: len(enc.encode_ordinary(TEXT))) > 10_000


def _run(args: list[str]) -> int:
    return subprocess.run([sys.executable, "-m", "promptslim", *args], capture_output=True).returncode


def test_cold_start_help(benchmark) -> None:
    assert benchmark.pedantic(_run, args=(["--help"],), rounds=5, iterations=1) == 0


def test_cold_start_count_2000_tokens(benchmark, tmp_path) -> None:
    tok = promptslim.get_tokenizer()
    text = tok.decode(tok.encode(TEXT)[:2000])
    p = tmp_path / "p.txt"
    p.write_text(text)
    assert benchmark.pedantic(_run, args=(["count", str(p)],), rounds=5, iterations=1) == 0


def test_cold_start_python_baseline(benchmark) -> None:
    """A bare interpreter start, the floor under both cold-start figures."""
    assert benchmark.pedantic(lambda: subprocess.run([sys.executable, "-c", "pass"]).returncode,
                              rounds=5, iterations=1) == 0
