"""promptslim: cut what LLM applications pay for tokens without cutting answer quality.

Every transform is a pure function returning a :class:`Result` (value, savings, changes).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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
from .compress import compress_prompt as compress_prompt
from .compress_passes import PASSES as COMPRESSION_PASSES
from .errors import (
    InputError as InputError,
    MissingExtraError as MissingExtraError,
    ParseError as ParseError,
    PromptslimError as PromptslimError,
    TokenizerDataError as TokenizerDataError,
    UnknownModelError as UnknownModelError,
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
from .history import RollingHistory as RollingHistory, fit_history as fit_history
from .lint import lint_paths as lint_paths, lint_text as lint_text
from .pricing import CostEstimate as CostEstimate, estimate_cost as estimate_cost
from .rag import (
    BM25Ranker as BM25Ranker,
    Chunk as Chunk,
    EmbeddingRanker as EmbeddingRanker,
    HybridRanker as HybridRanker,
    format_context as format_context,
    select_chunks as select_chunks,
)
from .result import Change as Change, Result as Result, Savings as Savings
from .schema import CompactSchema as CompactSchema, compact_schema as compact_schema
from .spans import find_protected_spans as find_protected_spans
from .summarize import extractive_summarizer as extractive_summarizer
from .tokens import (
    DEFAULT_ENCODING as DEFAULT_ENCODING,
    Tokenizer as Tokenizer,
    count_tokens as count_tokens,
    get_tokenizer as get_tokenizer,
)

try:
    __version__ = version("promptslim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

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
