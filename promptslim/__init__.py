"""promptslim: cut what LLM applications pay for tokens without cutting answer quality.

Every transform is a pure function returning a :class:`Result` (value, savings, changes).
Public names load lazily on first use (PEP 562), so ``import promptslim`` and the CLI start fast;
``__all__`` is the tested contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .errors import (
    InputError as InputError,
    MissingExtraError as MissingExtraError,
    ParseError as ParseError,
    PromptslimError as PromptslimError,
    TokenizerDataError as TokenizerDataError,
    UnknownModelError as UnknownModelError,
)
from .result import (
    Change as Change,
    Result as Result,
    Savings as Savings,
)

# public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "CacheLayout": (".cache", "CacheLayout"),
    "DynamicSpan": (".cache", "DynamicSpan"),
    "find_dynamic_spans": (".cache", "find_dynamic_spans"),
    "simulate_cache": (".cache", "simulate_cache"),
    "split_cacheable": (".cache", "split_cacheable"),
    "to_anthropic": (".cache", "to_anthropic"),
    "to_gemini": (".cache", "to_gemini"),
    "to_openai": (".cache", "to_openai"),
    "compress_prompt": (".compress", "compress_prompt"),
    "COMPRESSION_PASSES": (".compress_passes", "PASSES"),
    "Baseline": (".gate", "Baseline"),
    "BaselineError": (".gate", "BaselineError"),
    "CheckReport": (".gate", "CheckReport"),
    "Thresholds": (".gate", "Thresholds"),
    "TokenizerMismatchError": (".gate", "TokenizerMismatchError"),
    "build_baseline": (".gate", "build_baseline"),
    "check_against_baseline": (".gate", "check_against_baseline"),
    "check_paths": (".gate", "check_paths"),
    "load_baseline": (".gate", "load_baseline"),
    "RollingHistory": (".history", "RollingHistory"),
    "fit_history": (".history", "fit_history"),
    "lint_paths": (".lint", "lint_paths"),
    "lint_text": (".lint", "lint_text"),
    "CostEstimate": (".pricing", "CostEstimate"),
    "estimate_cost": (".pricing", "estimate_cost"),
    "BM25Ranker": (".rag", "BM25Ranker"),
    "Chunk": (".rag", "Chunk"),
    "EmbeddingRanker": (".rag", "EmbeddingRanker"),
    "HybridRanker": (".rag", "HybridRanker"),
    "format_context": (".rag", "format_context"),
    "select_chunks": (".rag", "select_chunks"),
    "CompactSchema": (".schema", "CompactSchema"),
    "compact_schema": (".schema", "compact_schema"),
    "find_protected_spans": (".spans", "find_protected_spans"),
    "extractive_summarizer": (".summarize", "extractive_summarizer"),
    "DEFAULT_ENCODING": (".tokens", "DEFAULT_ENCODING"),
    "Tokenizer": (".tokens", "Tokenizer"),
    "count_tokens": (".tokens", "count_tokens"),
    "get_tokenizer": (".tokens", "get_tokenizer"),
}

if TYPE_CHECKING:  # static view of the lazy names for type checkers and IDEs
    from .cache import (
        CacheLayout as CacheLayout,
        DynamicSpan as DynamicSpan,
        find_dynamic_spans as find_dynamic_spans,
        simulate_cache as simulate_cache,
        split_cacheable as split_cacheable,
        to_anthropic as to_anthropic,
        to_gemini as to_gemini,
        to_openai as to_openai,
    )
    from .compress import (
        compress_prompt as compress_prompt,
    )
    from .compress_passes import (
        PASSES as COMPRESSION_PASSES,
    )
    from .gate import (
        Baseline as Baseline,
        BaselineError as BaselineError,
        CheckReport as CheckReport,
        Thresholds as Thresholds,
        TokenizerMismatchError as TokenizerMismatchError,
        build_baseline as build_baseline,
        check_against_baseline as check_against_baseline,
        check_paths as check_paths,
        load_baseline as load_baseline,
    )
    from .history import (
        RollingHistory as RollingHistory,
        fit_history as fit_history,
    )
    from .lint import (
        lint_paths as lint_paths,
        lint_text as lint_text,
    )
    from .pricing import (
        CostEstimate as CostEstimate,
        estimate_cost as estimate_cost,
    )
    from .rag import (
        BM25Ranker as BM25Ranker,
        Chunk as Chunk,
        EmbeddingRanker as EmbeddingRanker,
        HybridRanker as HybridRanker,
        format_context as format_context,
        select_chunks as select_chunks,
    )
    from .schema import (
        CompactSchema as CompactSchema,
        compact_schema as compact_schema,
    )
    from .spans import (
        find_protected_spans as find_protected_spans,
    )
    from .summarize import (
        extractive_summarizer as extractive_summarizer,
    )
    from .tokens import (
        DEFAULT_ENCODING as DEFAULT_ENCODING,
        Tokenizer as Tokenizer,
        count_tokens as count_tokens,
        get_tokenizer as get_tokenizer,
    )



def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'promptslim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "Change",
    "CostEstimate",
    "DEFAULT_ENCODING",
    "InputError",
    "MissingExtraError",
    "ParseError",
    "PromptslimError",
    "Result",
    "Savings",
    "Tokenizer",
    "TokenizerDataError",
    "UnknownModelError",
    "count_tokens",
    "estimate_cost",
    "get_tokenizer",
    "CompactSchema",
    "compact_schema",
    "RollingHistory",
    "extractive_summarizer",
    "compress_prompt",
    "COMPRESSION_PASSES",
    "find_protected_spans",
    "fit_history",
    "BM25Ranker",
    "Chunk",
    "EmbeddingRanker",
    "HybridRanker",
    "format_context",
    "select_chunks",
    "Baseline",
    "BaselineError",
    "CheckReport",
    "Thresholds",
    "TokenizerMismatchError",
    "build_baseline",
    "check_against_baseline",
    "check_paths",
    "load_baseline",
    "CacheLayout",
    "DynamicSpan",
    "find_dynamic_spans",
    "simulate_cache",
    "split_cacheable",
    "to_anthropic",
    "to_gemini",
    "to_openai",
    "lint_paths",
    "lint_text",
]
