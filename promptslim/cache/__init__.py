"""Cacheable prefixes: find per-request content, split prompts into a stable prefix and a variable
suffix, render provider cache markers and simulate what caching saves.

Modules: ``_detect`` (dynamic-content detectors), ``_textsplit`` (moving dynamic spans in text),
``_stability`` (tool order and JSON key order), ``_providers`` (dated provider facts), ``_layout``
(split_cacheable), ``_render`` (provider request shapes), ``_simulate`` (cache simulation).
"""

from __future__ import annotations

from ._detect import DYNAMIC_KINDS, DynamicSpan, code_fence_spans, find_dynamic_spans
from ._layout import CacheLayout, split_cacheable, validate_messages
from ._providers import CacheRules, cache_rules, cacheable_minimum, prefix_meets_minimum, provider_for_model
from ._render import RenderedRequest, anthropic_breakpoints, to_anthropic, to_gemini, to_openai
from ._simulate import RequestOutcome, SimulationReport, TraceRequest, simulate_cache
from ._stability import (
    OrderIssue,
    canonical_tools,
    find_unsorted_json,
    sort_json_in_text,
    sort_keys_deep,
    tool_name,
    tool_order_issues,
    unsorted_key_paths,
)
from ._textsplit import (
    CacheBreak,
    MovedUnit,
    TextSplit,
    first_cache_break,
    move_dynamic_to_end,
    split_text,
    static_prefix_tokens,
)

__all__ = [
    "DYNAMIC_KINDS",
    "CacheBreak",
    "CacheLayout",
    "CacheRules",
    "DynamicSpan",
    "MovedUnit",
    "OrderIssue",
    "RenderedRequest",
    "RequestOutcome",
    "SimulationReport",
    "TraceRequest",
    "TextSplit",
    "anthropic_breakpoints",
    "cache_rules",
    "cacheable_minimum",
    "canonical_tools",
    "code_fence_spans",
    "find_dynamic_spans",
    "find_unsorted_json",
    "first_cache_break",
    "move_dynamic_to_end",
    "prefix_meets_minimum",
    "provider_for_model",
    "sort_json_in_text",
    "sort_keys_deep",
    "split_cacheable",
    "split_text",
    "static_prefix_tokens",
    "simulate_cache",
    "to_anthropic",
    "to_gemini",
    "to_openai",
    "tool_name",
    "tool_order_issues",
    "unsorted_key_paths",
    "validate_messages",
]
