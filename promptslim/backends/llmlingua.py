"""LLMLingua-2 token-classification compression as a pass (extra ``llmlingua``).

LLMLingua-2 (Pan et al., 2024) labels each word keep/drop with a BERT-style classifier. Its
published models (``microsoft/llmlingua-2-xlm-roberta-large-meetingbank``,
``microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank``) come from a model hub and
their weights are licensed CC-BY-NC-SA 4.0 (non-commercial): download one yourself and pass its
folder (or hub name, if it is in your local cache) as ``model``. Nothing is downloaded here.

Only unprotected text is given to the model: protected spans and negation/constraint clauses stay
verbatim, and a segment is replaced only if its compressed form has fewer tokens. ``import
llmlingua`` is slow (torch, transformers, nltk), so it happens once, on first use. LLMLingua's
constructor asks tiktoken for ``cl100k_base``; the rank file is seeded into tiktoken's cache from
promptslim's offline data first, so no network is needed.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..compress_kit import Edit, Span, apply_edits
from ..errors import InputError, MissingExtraError
from ..result import Change
from ..spans import find_constraint_spans, merge_spans, unprotected_segments
from ..tokens import Tokenizer, seed_tiktoken_cache

__all__ = ["get_compressor", "llmlingua2_pass", "MIN_SEGMENT_WORDS"]

MIN_SEGMENT_WORDS = 4  # shorter unprotected pieces are left as they are
_FORCE_TOKENS = ["\n", "?", "!", ".", ","]

_lock = threading.Lock()
_compressors: dict[str, Any] = {}


def _prepare_environment() -> None:
    """Offline hub access and a tiktoken cache that already holds cl100k_base."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or str(Path(tempfile.gettempdir()) / "promptslim-tiktoken")
    seed_tiktoken_cache(cache, ("cl100k_base",))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache


def get_compressor(model: str) -> Any:
    """The ``llmlingua.PromptCompressor`` for ``model`` (LLMLingua-2, CPU), built once per process.

    LLMLingua accepts a model folder only if its name contains ``bert-base-multilingual-cased`` or
    ``xlm-roberta-large`` (it picks the tokenizer's word-joining rule from the name).
    """
    comp = _compressors.get(model)
    if comp is not None:
        return comp
    with _lock:
        comp = _compressors.get(model)
        if comp is None:
            _prepare_environment()
            try:
                from llmlingua import PromptCompressor
            except ImportError as exc:
                raise MissingExtraError("the LLMLingua-2 backend", "llmlingua", exc) from exc
            try:
                comp = PromptCompressor(model_name=model, device_map="cpu", use_llmlingua2=True)
            except OSError as exc:
                raise InputError(
                    f"cannot load LLMLingua-2 model {model!r} offline ({exc}); download it first "
                    "(weights are CC-BY-NC-SA 4.0) and pass its folder"
                ) from exc
            _compressors[model] = comp
    return comp


def llmlingua2_pass(text: str, protected_spans: Sequence[Span], tokenizer: Tokenizer, *,
                    model: str | None = None, rate: float = 0.5, compressor: Any = None,
                    level: str = "balanced", **options: Any) -> tuple[str, tuple[Change, ...]]:
    """Compress each unprotected run of text (per line) with LLMLingua-2, keeping ``rate`` of its
    tokens; protected spans and constraint clauses are not sent to the model."""
    if not 0.0 < rate <= 1.0:
        raise InputError(f"rate must be in (0, 1], got {rate}")
    if compressor is None:
        if not model:
            raise InputError(
                "backend='llmlingua2' needs model=: a local LLMLingua-2 model folder or hub name, e.g. "
                "microsoft/llmlingua-2-xlm-roberta-large-meetingbank (CC-BY-NC-SA weights, download it first)"
            )
        compressor = get_compressor(model)
    keep = merge_spans([*protected_spans, *find_constraint_spans(text)])
    pieces: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        line_keep = [(max(a, pos), min(b, end)) for a, b in keep if a < end and b > pos]
        for a, b, protected in unprotected_segments(text[:end], [s for s in line_keep]):
            if protected or a < pos:
                continue
            # trim surrounding whitespace: the model's output does not keep it
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if len(text[a:b].split()) >= MIN_SEGMENT_WORDS:
                pieces.append((a, b))
        pos = end + 1
    if not pieces:
        return text, ()
    res = compressor.compress_prompt_llmlingua2(
        [text[a:b] for a, b in pieces], rate=rate, force_tokens=_FORCE_TOKENS, drop_consecutive=True,
    )
    outs = res["compressed_prompt_list"]
    if len(outs) != len(pieces):  # pragma: no cover - defensive: llmlingua merged or split contexts
        raise InputError(f"LLMLingua-2 returned {len(outs)} segments for {len(pieces)} inputs")
    edits = [Edit(a, b, " ".join(o.split()), "rewrite", f"LLMLingua-2 (rate {rate})")
             for (a, b), o in zip(pieces, outs, strict=True) if o.strip() and " ".join(o.split()) != text[a:b]]
    return apply_edits(text, edits, tokenizer, "llmlingua2", protected=protected_spans)
