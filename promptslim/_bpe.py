"""Exact token counts for short-lived processes, without building tiktoken's full encoder.

Building tiktoken's encoder converts all ~200,000 ranks into Rust structures (~150 ms), which
dominates a CLI run over one prompt file. Byte-pair encoding of a pre-token only ever looks up byte
strings that occur inside that pre-token, so counting needs the ranks of a few hundred byte strings,
not all of them. :class:`LazyEncoding` splits text with the encoding's own pattern (the ``regex``
module, as tiktoken's reference implementation does), merges each distinct pre-token with ranks
loaded shard by shard from a verified on-disk cache, and hands over to tiktoken's encoder once a
process has counted enough text for that encoder to pay for itself. Text with characters whose
Unicode class could differ between the two regex engines' Unicode tables always goes to tiktoken.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

__all__ = ["LazyEncoding", "write_shards", "shard_key"]

# After this many bytes counted in Python, build tiktoken's encoder: it is ~3x faster per byte.
HANDOVER_BYTES = 512 * 1024
# Pre-tokens longer than this go to tiktoken: Python merging is quadratic in the piece length.
MAX_PIECE_BYTES = 256
# Batches smaller than this are counted text by text: tiktoken's thread-pool batch call was slower at
# every size tried on a 2-core machine (100 x 900 B: 5.8 ms vs 1.9 ms; 100 x 60 KB: 260 vs 169 ms).
BATCH_MIN_BYTES = 8 * 1024 * 1024
_MEMO_LIMIT = 200_000
_MAGIC = b"PSBPE1\n"
_OLD_UNICODE = unicodedata.ucd_3_2_0
# Categories whose characters fall in the patterns' "other" class under any Unicode table version:
# if one table does not know such a character yet (Cn), it is "other" there too.
_OTHER_CATEGORIES = frozenset({"Sm", "Sc", "Sk", "So", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Co"})
_SAFE_FORMAT = frozenset("\u200d\u200c")  # joiners inside emoji and Indic text: "other" everywhere
# ASCII controls other than tab and line breaks: whitespace-ness differs between regex engines.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shard_key(token: bytes) -> bytes:
    """The shard a rank lives in: its first two bytes."""
    return token[:2]


def write_shards(path: Path, ranks: dict[bytes, int]) -> None:
    """Store ``ranks`` as independently loadable shards, with a SHA-256 of the payload, atomically."""
    shards: dict[bytes, dict[bytes, int]] = {}
    for token, rank in ranks.items():
        shards.setdefault(shard_key(token), {})[token] = rank
    blobs: list[bytes] = []
    index: dict[bytes, tuple[int, int]] = {}
    offset = 0
    for key in sorted(shards):
        blob = marshal.dumps(shards[key])
        index[key] = (offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps(index)
    payload = len(head).to_bytes(8, "little") + head + b"".join(blobs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
    os.replace(tmp, path)


class _ShardedRanks:
    """Read-only rank lookup that unpickles one shard at a time."""

    def __init__(self, blob: bytes) -> None:
        if not blob.startswith(_MAGIC):
            raise ValueError("not a promptslim rank shard file")
        digest = blob[len(_MAGIC):len(_MAGIC) + 32]
        payload = memoryview(blob)[len(_MAGIC) + 32:]
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("rank shard file is corrupt")
        n = int.from_bytes(payload[:8], "little")
        index = marshal.loads(payload[8:8 + n])
        if not isinstance(index, dict):
            raise ValueError("rank shard index is corrupt")
        self._index: dict[bytes, tuple[int, int]] = index
        self._data = payload[8 + n:]
        self._shards: dict[bytes, dict[bytes, int]] = {}

    def get(self, token: bytes) -> int | None:
        key = token[:2]
        shard = self._shards.get(key)
        if shard is None:
            where = self._index.get(key)
            shard = {} if where is None else marshal.loads(self._data[where[0]:where[0] + where[1]])
            self._shards[key] = shard
        return shard.get(token)


def _merge_count(piece: bytes, rank: Callable[[bytes], int | None]) -> int:
    """Number of tokens byte-pair merging gives ``piece``, merging the lowest-ranked pair first
    (leftmost on ties), exactly as tiktoken's ``_byte_pair_merge`` does."""
    parts = [piece[i:i + 1] for i in range(len(piece))]
    pair_ranks = [rank(parts[i] + parts[i + 1]) for i in range(len(parts) - 1)]
    while pair_ranks:
        best = -1
        best_rank = None
        for i, r in enumerate(pair_ranks):
            if r is not None and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best < 0:
            break
        parts[best:best + 2] = [parts[best] + parts[best + 1]]
        del pair_ranks[best]
        if best < len(parts) - 1:
            pair_ranks[best] = rank(parts[best] + parts[best + 1])
        if best > 0:
            pair_ranks[best - 1] = rank(parts[best - 1] + parts[best])
    return len(parts)


def _char_is_portable(ch: str) -> bool:
    """True when every Unicode table since 3.2 puts ``ch`` in the same class of the split pattern."""
    cat = unicodedata.category(ch)
    if cat in _OTHER_CATEGORIES or ch in _SAFE_FORMAT:
        return True
    if ch == "\u180e":  # whitespace in Unicode 3.2, a format character now
        return False
    return cat[0] in "LMNZ" and _OLD_UNICODE.category(ch) == cat


class LazyEncoding:
    """Counts tokens of one tiktoken encoding exactly, building tiktoken's encoder only when it pays.

    ``build`` returns the real ``tiktoken.Encoding``; ``shards`` returns the bytes of a shard file
    written by :func:`write_shards` or ``None`` when there is none yet (then everything goes to
    tiktoken from the start). ``pattern`` is the encoding's pre-token pattern.
    """

    def __init__(self, name: str, pattern: str, build: Callable[[], tiktoken.Encoding],
                 shards: Callable[[], bytes | None]) -> None:
        self.name = name
        self._pattern = pattern
        self._build = build
        self._load_shards = shards
        self._lock = threading.Lock()
        self._encoding: tiktoken.Encoding | None = None
        self._ranks: _ShardedRanks | None = None
        self._regex: Any = None
        self._fast_ok = True
        self._counted = 0
        self._memo: dict[str, int] = {}
        self._portable: dict[str, bool] = {}

    @property
    def encoding(self) -> tiktoken.Encoding:
        """tiktoken's encoder, built on first use."""
        enc = self._encoding
        if enc is None:
            with self._lock:
                if self._encoding is None:
                    self._encoding = self._build()
                enc = self._encoding
        return enc

    @property
    def built(self) -> bool:
        """True once tiktoken's encoder exists in this process."""
        return self._encoding is not None

    def _fast_ready(self) -> bool:
        if self._encoding is not None or not self._fast_ok:
            return False
        if self._ranks is None:
            with self._lock:
                if self._ranks is None and self._fast_ok:
                    try:
                        blob = self._load_shards()
                        if blob is None:
                            self._fast_ok = False
                            return False
                        import regex

                        self._regex = regex.compile(self._pattern)
                        self._ranks = _ShardedRanks(blob)
                    except (OSError, ValueError, EOFError, TypeError):
                        self._fast_ok = False
                        return False
        return self._ranks is not None

    def _portable_text(self, text: str) -> bool:
        if text.isascii():
            return _ASCII_CONTROL.search(text) is None
        seen = self._portable
        for ch in set(text):
            ok = seen.get(ch)
            if ok is None:
                ok = _ASCII_CONTROL.match(ch) is None if ch.isascii() else _char_is_portable(ch)
                seen[ch] = ok
            if not ok:
                return False
        return True

    def _fast_count(self, text: str) -> int | None:
        """Count in Python, or ``None`` when this text must go to tiktoken."""
        if not self._portable_text(text):
            return None
        ranks = self._ranks
        assert ranks is not None
        memo = self._memo
        total = 0
        for piece in self._regex.findall(text):
            n = memo.get(piece)
            if n is None:
                raw = piece.encode("utf-8")
                if len(raw) > MAX_PIECE_BYTES:
                    return None
                n = 1 if ranks.get(raw) is not None else _merge_count(raw, ranks.get)
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[piece] = n
            total += n
        self._counted += len(text)
        if self._counted > HANDOVER_BYTES:
            self._fast_ok = False
        return total

    def count(self, text: str) -> int:
        """Exact number of tokens of ``text`` (ordinary encoding: special tokens are plain text)."""
        if not text:
            return 0
        if self._fast_ready() and len(text) <= HANDOVER_BYTES:
            n = self._fast_count(text)
            if n is not None:
                return n
        return len(self.encoding.encode_ordinary(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """Counts for many texts; only very large batches go to tiktoken's thread pool."""
        if len(texts) < 2 or sum(map(len, texts)) < BATCH_MIN_BYTES:
            return [self.count(t) for t in texts]
        return [len(ids) for ids in self.encoding.encode_ordinary_batch(list(texts))]
