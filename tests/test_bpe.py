"""The fast cold-start counter gives exactly tiktoken's counts, falls back safely, and hands over."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from promptslim import _bpe, tokens
from promptslim._bpe import LazyEncoding, _merge_count, write_shards

NAMES = ("o200k_base", "cl100k_base")


def _fresh(name: str, tmp: Path) -> tuple[LazyEncoding, object]:
    """A new lazy counter over shards written to ``tmp``, and tiktoken's real encoder to compare with."""
    real = tokens._encoding(name)
    path = tmp / f"{name}.shards"
    if not path.exists():
        write_shards(path, real._mergeable_ranks)
    built: list[int] = []

    def build():  # noqa: ANN202 - returns tiktoken.Encoding
        built.append(1)
        return real

    eng = LazyEncoding(name, real._pat_str, build, path.read_bytes)
    eng.built_calls = built  # type: ignore[attr-defined]
    return eng, real


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shards")


# Letters, marks, digits, spaces and symbols from many scripts, plus the characters that decide
# pre-token boundaries (apostrophes, line breaks, NBSP, joiners, emoji modifiers).
ALPHABET = st.sampled_from(
    list("abcXYZ019 .,;:!?'\"-_/\\()[]{}<>#*@$%&+=~`^|\n\r\t")
    + list("éÉßøœæ ñ东京日本語한국어 Привет мир ΑΒΓ αβγ عربي हिन्दी ไทย")
    + ["\u00a0", "\u200d", "\u200c", "\ufe0f", "\u0301", "🚀", "👍🏽", "🧠", "’", "“", "”", "…", "—", "1️⃣", "½", "²", "٣"]
    + ["'s", "'T", "'ll", " 's", "  ", "\n\n", " \n"]
)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(ALPHABET, max_size=60))
def test_fast_count_equals_tiktoken(name: str, parts: list[str], shard_dir: Path) -> None:
    eng, real = _fresh(name, shard_dir)
    text = "".join(parts)
    assert eng.count(text) == len(real.encode_ordinary(text))
    assert eng.built_calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_any_unicode_text_is_counted_exactly(name: str, text: str, shard_dir: Path) -> None:
    """Arbitrary code points (unassigned, controls, surrogate-free) are either counted exactly in
    Python or sent to tiktoken; the answer is the same either way."""
    eng, real = _fresh(name, shard_dir)
    assert eng.count(text) == len(real.encode_ordinary(text))


@pytest.mark.parametrize("name", NAMES)
def test_fallbacks_build_tiktoken_and_stay_exact(name: str, shard_dir: Path) -> None:
    for text in ("x" * 5000, "a\x0bb", "a\x1cb", "new letter \U0001e4d0 here", "\u180e"):
        eng, real = _fresh(name, shard_dir)
        assert eng.count(text) == len(real.encode_ordinary(text))
        assert eng.built_calls == [1], repr(text[:20])  # type: ignore[attr-defined]


def test_handover_after_enough_text(shard_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bpe, "HANDOVER_BYTES", 1000)
    eng, real = _fresh("o200k_base", shard_dir)
    text = "The quick brown fox jumps over the lazy dog. " * 10
    assert eng.count(text) == len(real.encode_ordinary(text))
    assert eng.built_calls == []  # type: ignore[attr-defined]
    for _ in range(3):
        assert eng.count(text) == len(real.encode_ordinary(text))
    assert eng.built_calls == [1]  # type: ignore[attr-defined]
    assert eng.count_many([text, "", "hi"]) == [len(real.encode_ordinary(t)) for t in (text, "", "hi")]


def test_count_many_batch_path_matches(shard_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches over BATCH_MIN_BYTES go to tiktoken's batch call; below it, text by text: same counts."""
    eng, real = _fresh("o200k_base", shard_dir)
    texts = ["Café naïve — 12 tokens?", "", "x" * 300, "def f(a):\n    return a  # ok"]
    want = [len(real.encode_ordinary(t)) for t in texts]
    assert eng.count_many(texts) == want
    monkeypatch.setattr(_bpe, "BATCH_MIN_BYTES", 10)
    assert eng.count_many(texts) == want
    assert eng.count_many([]) == []


def test_corrupt_or_missing_shards_fall_back(tmp_path: Path) -> None:
    real = tokens._encoding("o200k_base")
    good = tmp_path / "good.shards"
    write_shards(good, real._mergeable_ranks)
    blob = bytearray(good.read_bytes())
    blob[-5] ^= 0xFF
    for source in (lambda: bytes(blob), lambda: None, lambda: b"garbage", lambda: (_ for _ in ()).throw(OSError("x"))):
        calls: list[int] = []
        eng = LazyEncoding("o200k_base", real._pat_str, lambda c=calls: c.append(1) or real, source)
        assert eng.count("Hello, world!") == 4
        assert calls == [1]


def test_merge_matches_tiktoken_on_rare_words(shard_dir: Path) -> None:
    real = tokens._encoding("o200k_base")
    ranks = real._mergeable_ranks
    for word in ("antidisestablishmentarianism", "Pneumonoultramicroscopic", "zzzzqqqxxj", "aaaaaaaaaaaaa"):
        raw = word.encode()
        assert _merge_count(raw, ranks.get) == len(real.encode_ordinary(word))


def test_tokenizer_counts_without_building_tiktoken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process counting a prompt never builds tiktoken's encoder once the shard cache exists."""
    import subprocess
    import sys

    monkeypatch.setenv("PROMPTSLIM_CACHE_DIR", str(tmp_path))
    code = (
        "import promptslim.tokens as T\n"
        "t = T.get_tokenizer()\n"
        "n = t.count('You are a helpful assistant. Answer in 3 sentences: ' * 40)\n"
        "print(n, t.engine.built)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert first[1] == "True"  # no shard cache yet: tiktoken builds it and writes the shards
    assert second == [first[0], "False"]
    assert list(tmp_path.glob("o200k_base-*.shards"))


def test_cache_off_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSLIM_CACHE_DIR", "off")
    assert tokens._read_shards("o200k_base", "0" * 64) is None


def _corpus(shared: Path) -> list[str]:
    texts = [json.loads(line)["system"] for line in (shared / "prompts" / "fabric-patterns.jsonl").open(encoding="utf-8")]
    csv.field_size_limit(1 << 30)
    with (shared / "prompts" / "awesome-chatgpt-prompts.csv").open(encoding="utf-8", newline="") as fh:
        texts += [row["prompt"] for row in csv.DictReader(fh)]
    texts += [p.read_text(encoding="utf-8") for p in sorted((shared / "prompts" / "bbh-cot-prompts").glob("*.txt"))]
    return texts


@pytest.mark.parametrize("name", NAMES)
def test_real_prompts_count_exactly(name: str, shared_data: Path, shard_dir: Path) -> None:
    """Every shared prompt (fabric, awesome-chatgpt-prompts, BBH): fast count == tiktoken's."""
    real = tokens._encoding(name)
    eng, _ = _fresh(name, shard_dir)
    texts = _corpus(shared_data)
    for text in texts:
        eng._counted, eng._fast_ok, eng._encoding = 0, True, None  # Python path again for every prompt
        assert eng.count(text) == len(real.encode_ordinary(text))
    fallbacks = len(eng.built_calls)  # type: ignore[attr-defined]
    assert fallbacks < len(texts) // 10, fallbacks  # nearly all prompts took the Python path
