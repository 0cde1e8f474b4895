"""`promptslim lint` speed: whole CLI process on one 2,000-token prompt and on 1,000 files, with baselines.

Run: pytest benchmarks/bench_lint.py --benchmark-enable. Targets (issue 9): one 2,000-token file,
whole process, 300 ms median; 1,000 files within 5 s. Each figure has a baseline from the same run:
``promptslim count`` on the same files (same interpreter start, imports, tokenizer load and price
lookup, no linting) and a bare interpreter start, so results read as ratios on a loaded machine.
In-process, ``lint_text`` is compared with counting the same prompt's tokens.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptslim.lint import lint_text
from promptslim.tokens import get_tokenizer

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = (REPO / "promptslim" / "examples" / "support_agent.prompt").read_text(encoding="utf-8")


def _corpus() -> list[str]:
    """Real prompts (shared fabric + awesome-chatgpt-prompts) when the shared data is there, else the bundled
    example with numbered variations."""
    data = Path(os.environ.get("PROMPTSLIM_SHARED_DATA", REPO.parent / "shared" / "data")) / "prompts"
    if (data / "fabric-patterns.jsonl").is_file() and (data / "awesome-chatgpt-prompts.csv").is_file():
        with (data / "fabric-patterns.jsonl").open(encoding="utf-8") as fh:
            texts = [json.loads(line)["system"] for line in fh if line.strip()]
        csv.field_size_limit(1 << 30)
        with (data / "awesome-chatgpt-prompts.csv").open(encoding="utf-8", newline="") as fh:
            texts += [row["prompt"] for row in csv.DictReader(fh) if len(row["prompt"]) < 20_000]
        return texts
    return [EXAMPLE.replace("Acme Cloud", f"Acme Cloud {i}") for i in range(50)]


def _prompt_2000() -> str:
    """About 2,000 tokens of real prompt text (whole prompts, concatenated)."""
    tok = get_tokenizer()
    out = ""
    for text in _corpus():
        if tok.count(out + text) <= 2000:
            out += text + "\n\n"
        if tok.count(out) >= 1800:
            break
    return out


@pytest.fixture(scope="module")
def one_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("one") / "p2000.prompt"
    p.write_text(_prompt_2000(), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("k")
    texts = _corpus()
    for i in range(1000):
        (folder / f"p{i:04d}.prompt").write_text(texts[(i * 7) % len(texts)], encoding="utf-8")
    return folder


def _cli(*args: str, cwd: Path | None = None) -> int:
    return subprocess.run([sys.executable, "-m", "promptslim", *args], capture_output=True, cwd=cwd).returncode


def test_cli_lint_one_2000_token_file(benchmark, one_file: Path) -> None:
    """Cold process, no result cache: rule tables load, regexes compile, the prompt is counted from the
    rank shards in the user cache (written by any earlier promptslim run on the machine)."""
    assert get_tokenizer().count(one_file.read_text(encoding="utf-8")) in range(1500, 2101)
    assert benchmark.pedantic(_cli, args=("lint", "--isolated", "--no-cache", str(one_file)), rounds=7,
                              iterations=1) in (0, 1)


def test_cli_lint_one_2000_token_file_first_run_on_machine(benchmark, one_file: Path,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    """First run on a fresh machine: no promptslim disk cache at all, so the tokenizer ranks are parsed
    and verified, tiktoken's encoder is built and the rank shards and price cache are written."""
    def run() -> int:
        env = {**os.environ, "PROMPTSLIM_CACHE_DIR": str(tmp_path_factory.mktemp("fresh-cache"))}
        return subprocess.run([sys.executable, "-m", "promptslim", "lint", "--isolated", "--no-cache",
                               str(one_file)], capture_output=True, env=env).returncode
    assert benchmark.pedantic(run, rounds=5, iterations=1) in (0, 1)


def test_cli_lint_one_2000_token_file_cached(benchmark, one_file: Path) -> None:
    """Warm: the file is unchanged since the last run, so its findings come from .promptslim_cache."""
    assert _cli("lint", "--isolated", str(one_file), cwd=one_file.parent) in (0, 1)
    assert (one_file.parent / ".promptslim_cache").is_dir()
    assert benchmark.pedantic(_cli, args=("lint", "--isolated", str(one_file)), kwargs={"cwd": one_file.parent},
                              rounds=7, iterations=1) in (0, 1)


def test_cli_count_one_2000_token_file_baseline(benchmark, one_file: Path) -> None:
    assert benchmark.pedantic(_cli, args=("count", str(one_file)), rounds=7, iterations=1) == 0


def test_cli_python_start_baseline(benchmark) -> None:
    assert benchmark.pedantic(lambda: subprocess.run([sys.executable, "-c", "pass"]).returncode,
                              rounds=7, iterations=1) == 0


def test_cli_lint_1000_files(benchmark, thousand: Path) -> None:
    assert benchmark.pedantic(_cli, args=("lint", "--isolated", "--no-cache", "--statistics", str(thousand)),
                              rounds=1, iterations=1) in (0, 1)


def test_cli_count_1000_files_baseline(benchmark, thousand: Path) -> None:
    files = sorted(str(p) for p in thousand.iterdir())
    assert benchmark.pedantic(_cli, args=("count", *files), rounds=1, iterations=1) == 0


def test_lint_text_2000_tokens(benchmark) -> None:
    text = _prompt_2000()
    lint_text(text)  # warm: tokenizer, rule tables, regexes
    findings = benchmark(lint_text, text)
    assert isinstance(findings, list)


def test_count_2000_tokens_baseline(benchmark) -> None:
    text = _prompt_2000()
    tok = get_tokenizer()
    assert benchmark(tok.count, text) > 1000
