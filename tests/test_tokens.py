"""Offline token counting: exact against tiktoken's own data, verified, thread-safe, no network."""

from __future__ import annotations

import gzip
import hashlib
import socket
import subprocess
import sys
import threading

import pytest
import tiktoken
from hypothesis import given, settings, strategies as st

import promptslim
from promptslim import tokens
from promptslim.errors import TokenizerDataError, UnknownModelError

SAMPLE = "The quick brown fox jumps over the lazy dog. Prompt caching saves 90% on 1,024+ tokens! 東京 🚀"


def _reference_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's own constructor parameters and the raw bpe-openai file, parsed independently."""
    from tiktoken_ext import openai_public

    captured = {}

    def loader(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        captured["url"], captured["hash"] = url, expected_hash
        return {b"a": 0}

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = loader
    try:
        params = getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original
    raw = gzip.decompress((tokens._bpe_openai_data_dir() / f"{name}.tiktoken.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == captured["hash"]
    import base64

    params["mergeable_ranks"] = {base64.b64decode(t): int(r) for t, r in (ln.split() for ln in raw.splitlines() if ln)}
    return tiktoken.Encoding(**params)


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_counts_match_tiktoken(name: str) -> None:
    ref = _reference_encoding(name)
    tok = promptslim.get_tokenizer(encoding=name)
    assert tok.encode(SAMPLE) == ref.encode_ordinary(SAMPLE)
    assert tok.count(SAMPLE) == len(ref.encode_ordinary(SAMPLE))
    assert tok.decode(tok.encode(SAMPLE)) == SAMPLE


def test_known_counts_of_sample() -> None:
    # Documented in the README; if these change, tiktoken's encodings changed.
    assert promptslim.count_tokens("Hello, world!") == 4
    assert promptslim.get_tokenizer(encoding="cl100k_base").count("Hello, world!") == 4
    assert promptslim.count_tokens(SAMPLE) != promptslim.get_tokenizer("gpt-4").count(SAMPLE)


def test_hash_mismatch_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bad = tmp_path / "o200k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(b"YQ== 0\n"))
    monkeypatch.setattr(tokens, "_bpe_openai_data_dir", lambda: tmp_path)
    with pytest.raises(TokenizerDataError, match="sha256"):
        tokens._read_rank_file("o200k_base", "url", "0" * 64)


@pytest.mark.parametrize(
    ("model", "encoding", "exact"),
    [
        ("gpt-4o", "o200k_base", True),
        ("gpt-4o-mini-2024-07-18", "o200k_base", True),
        ("gpt-4.1", "o200k_base", True),
        ("gpt-5", "o200k_base", True),
        ("o3-mini", "o200k_base", True),
        ("gpt-4", "cl100k_base", True),
        ("gpt-4-turbo", "cl100k_base", True),
        ("gpt-3.5-turbo", "cl100k_base", True),
        ("openai/gpt-4o", "o200k_base", True),
        ("claude-sonnet-4-5", "o200k_base", False),
        ("gemini-2.5-pro", "o200k_base", False),
    ],
)
def test_model_table(model: str, encoding: str, exact: bool) -> None:
    tok = promptslim.get_tokenizer(model)
    assert (tok.name, tok.exact) == (encoding, exact)


def test_approximate_tokenizer_scales_and_says_so() -> None:
    claude = promptslim.get_tokenizer("claude-sonnet-4-5")
    base = promptslim.get_tokenizer()
    assert claude.count(SAMPLE) >= base.count(SAMPLE)
    assert "factor" in claude.identity and claude.note


def test_unknown_model_suggests() -> None:
    with pytest.raises(UnknownModelError) as info:
        promptslim.get_tokenizer("llama-3-70b")
    assert info.value.model == "llama-3-70b"
    with pytest.raises(UnknownModelError, match="encoding"):
        promptslim.get_tokenizer(encoding="o200k_bas")


def test_tokenizers_are_built_once() -> None:
    assert promptslim.get_tokenizer("gpt-4o") is promptslim.get_tokenizer()
    assert promptslim.get_tokenizer("gpt-4") is promptslim.get_tokenizer(encoding="cl100k_base")


def test_thread_safe_counts() -> None:
    tok = promptslim.get_tokenizer()
    expected = tok.count(SAMPLE * 50)
    results: list[int] = []

    def work() -> None:
        for _ in range(20):
            results.append(tok.count(SAMPLE * 50))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 160


def test_messages_use_openai_overhead() -> None:
    tok = promptslim.get_tokenizer()
    msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi", "name": "bob"}]
    body = sum(tok.count(v) for m in msgs for v in m.values())
    assert promptslim.count_tokens(msgs) == body + 3 * 2 + 1 + 3


def test_content_parts_count_text_only() -> None:
    parts = [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {"url": "data:..."}}]
    a = promptslim.count_tokens([{"role": "user", "content": parts}])
    b = promptslim.count_tokens([{"role": "user", "content": "Describe"}])
    assert a == b


def test_special_token_text_is_plain_text() -> None:
    assert promptslim.count_tokens("<|endoftext|>") > 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab .,\n\r\t1é東🚀'")), max_size=40), max_size=30),
       st.sampled_from(["o200k_base", "cl100k_base"]))
def test_stream_count_equals_whole_count(pieces: list[str], name: str) -> None:
    tok = promptslim.get_tokenizer(encoding=name)
    assert tokens.count_text_stream(iter(pieces), tok) == tok.count("".join(pieces))


def test_no_network_with_sockets_blocked() -> None:
    """Fresh interpreter, sockets disabled before import: building both encodings must still work."""
    code = (
        "import socket\n"
        "def _no(*a, **k): raise RuntimeError('network call attempted')\n"
        "socket.socket.connect = _no\nsocket.create_connection = _no\nsocket.getaddrinfo = _no\n"
        "import os, tempfile; os.environ['TIKTOKEN_CACHE_DIR'] = tempfile.mkdtemp()\n"
        "import promptslim\n"
        "print(promptslim.get_tokenizer(encoding='o200k_base').count('hello world'),"
        " promptslim.get_tokenizer(encoding='cl100k_base').count('hello world'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"]
    assert socket.socket.connect is not None


def test_seed_tiktoken_cache_lets_tiktoken_load_offline(tmp_path) -> None:
    folder = tokens.seed_tiktoken_cache(tmp_path)
    code = (
        "import socket\n"
        "def _no(*a, **k): raise RuntimeError('network call attempted')\n"
        "socket.socket.connect = _no; socket.getaddrinfo = _no\n"
        "import tiktoken; print(len(tiktoken.get_encoding('cl100k_base').encode('hello world')))\n"
    )
    env = {"TIKTOKEN_CACHE_DIR": str(folder), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2"


def test_rank_cache_is_used_and_corruption_falls_back(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTSLIM_CACHE_DIR", str(tmp_path))
    from tiktoken_ext import openai_public

    captured = {}
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda url, expected_hash=None: captured.update(u=url, h=expected_hash) or {}
    try:
        openai_public.cl100k_base()
    finally:
        openai_public.load_tiktoken_bpe = original
    fresh = tokens._load_ranks("cl100k_base", captured["u"], captured["h"])
    files = list(tmp_path.glob("cl100k_base-*.ranks"))
    assert len(files) == 1
    assert tokens._load_ranks("cl100k_base", captured["u"], captured["h"]) == fresh
    files[0].write_bytes(files[0].read_bytes()[:-10])  # truncated cache: detected by its checksum
    assert tokens._load_ranks("cl100k_base", captured["u"], captured["h"]) == fresh
    with pytest.raises(TokenizerDataError):  # a wrong expected hash is never served from cache
        tokens._load_ranks("cl100k_base", captured["u"], "f" * 64)
