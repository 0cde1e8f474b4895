"""``promptslim check`` over 1,000 prompt files, beside reading and tokenizing the same files.

The issue's target: a check of 1,000 files within a few seconds, dominated by tokenization. Compare
``test_check_1000_files`` (load + validate the lock, walk, read, hash, count, price, compare, render)
with ``test_baseline_tokenize_1000_files`` (read the same files and count them with tiktoken).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptslim import get_tokenizer
from promptslim.gate import build_baseline, check_paths, format_text, write_baseline

N_FILES = 1000
WORDS = ("the assistant must answer refund shipping account policy customer clearly briefly cite page "
         "never share data escalate billing over limit within days order status tracking number "
         "{user_name} {{ order_id }} JSON schema field string boolean example: - * ## Rules Output").split()


def _text(rng: random.Random, n_words: int) -> str:
    lines = []
    while n_words > 0:
        k = min(n_words, rng.randint(6, 18))
        lines.append(" ".join(rng.choice(WORDS) for _ in range(k)) + f" ({rng.randint(1, 999)}).")
        n_words -= k
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """1,000 prompt files (about 3 KB each; one in ten a JSON message file) and a baseline for them."""
    root = tmp_path_factory.mktemp("gatebench")
    rng = random.Random(10)
    for i in range(N_FILES):
        folder = root / "prompts" / f"team{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if i % 10 == 0:
            msgs = [{"role": "system", "content": _text(rng, 300)}, {"role": "user", "content": _text(rng, 60)}]
            (folder / f"chat{i:04d}.json").write_text(json.dumps({"messages": msgs}))
        else:
            (folder / f"prompt{i:04d}.{('md', 'txt', 'prompt', 'j2')[i % 4]}").write_text(_text(rng, 450))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        write_baseline(build_baseline(["prompts"]), root / "promptslim.lock.json")
    finally:
        os.chdir(cwd)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    for args in (["init", "-q"], ["add", "."], ["-c", "commit.gpgsign=false", "commit", "-q", "-m", "x"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    # edit 5% of the files so the check has something to report
    for i, path in enumerate(sorted((root / "prompts").rglob("*.md"))):
        if i % 5 == 0:
            path.write_text(path.read_text() + _text(rng, 40 if i % 2 else 5))
    yield root
    shutil.rmtree(root, ignore_errors=True)  # 1,000 files would slow every later pytest's temp cleanup


def _files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "prompts").rglob("*") if p.is_file())


def test_baseline_tokenize_1000_files(benchmark, corpus: Path) -> None:
    """Baseline: read every file and count its tokens with tiktoken (o200k_base, batch)."""
    tok = get_tokenizer("gpt-4o")
    files = _files(corpus)

    def tokenize() -> int:
        return sum(tok.count_many([p.read_text(encoding="utf-8") for p in files]))

    assert benchmark(tokenize) > 0
    assert len(files) == N_FILES


def test_check_1000_files(benchmark, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate against a committed lock file, as ``promptslim check prompts`` runs it."""
    monkeypatch.chdir(corpus)

    def check() -> int:
        outcome = check_paths(["prompts"], baseline_path="promptslim.lock.json")
        format_text(outcome.report)
        return outcome.report.exit_code

    assert benchmark(check) == 1


def test_check_base_ref_1000_files(benchmark, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate against ``HEAD`` via git (ls-tree + one cat-file --batch): both sides counted."""
    monkeypatch.chdir(corpus)

    def check() -> int:
        return check_paths(["prompts"], base_ref="HEAD").report.exit_code

    assert benchmark(check) == 1


def test_build_baseline_1000_files(benchmark, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``promptslim baseline prompts -o -``: count, hash and price every file, then serialise."""
    from promptslim.gate import dumps_baseline

    monkeypatch.chdir(corpus)
    assert len(benchmark(lambda: dumps_baseline(build_baseline(["prompts"])))) > 0
