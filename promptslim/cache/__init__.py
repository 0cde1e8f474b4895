"""Cacheable prefixes: find per-request content, split prompts into a stable prefix and a variable
suffix, render provider cache markers and simulate what caching saves.

Modules: ``_detect`` (dynamic-content detectors), ``_textsplit`` (moving dynamic spans in text),
``_stability`` (tool order and JSON key order), ``_providers`` (dated provider facts), ``_layout``
(split_cacheable), ``_render`` (provider request shapes), ``_simulate`` (cache simulation).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names load on first use (PEP 562), so the linter can import one detector without the simulator.
_LAZY: dict[str, str] = {
    "CacheBreak": "._textsplit",
    "CacheLayout": "._layout",
    "CacheRules": "._providers",
    "DYNAMIC_KINDS": "._detect",
    "DynamicSpan": "._detect",
    "MovedUnit": "._textsplit",
    "OrderIssue": "._stability",
    "RenderedRequest": "._render",
    "RequestOutcome": "._simulate",
    "SimulationReport": "._simulate",
    "TextSplit": "._textsplit",
    "TraceRequest": "._simulate",
    "anthropic_breakpoints": "._render",
    "cache_rules": "._providers",
    "cacheable_minimum": "._providers",
    "canonical_tools": "._stability",
    "code_fence_spans": "._detect",
    "find_dynamic_spans": "._detect",
    "find_unsorted_json": "._stability",
    "first_cache_break": "._textsplit",
    "move_dynamic_to_end": "._textsplit",
    "prefix_meets_minimum": "._providers",
    "provider_for_model": "._providers",
    "simulate_cache": "._simulate",
    "sort_json_in_text": "._stability",
    "sort_keys_deep": "._stability",
    "split_cacheable": "._layout",
    "split_text": "._textsplit",
    "static_prefix_tokens": "._textsplit",
    "to_anthropic": "._render",
    "to_gemini": "._render",
    "to_openai": "._render",
    "tool_name": "._stability",
    "tool_order_issues": "._stability",
    "unsorted_key_paths": "._stability",
    "validate_messages": "._layout",
}

if TYPE_CHECKING:  # for type checkers and IDEs only
    from ._detect import DYNAMIC_KINDS, DynamicSpan, code_fence_spans, find_dynamic_spans  # noqa: F401
    from ._layout import CacheLayout, split_cacheable, validate_messages  # noqa: F401
    from ._providers import (  # noqa: F401
        CacheRules,
        cache_rules,
        cacheable_minimum,
        prefix_meets_minimum,
        provider_for_model,
    )
    from ._render import RenderedRequest, anthropic_breakpoints, to_anthropic, to_gemini, to_openai  # noqa: F401
    from ._simulate import RequestOutcome, SimulationReport, TraceRequest, simulate_cache  # noqa: F401
    from ._stability import (  # noqa: F401
        OrderIssue,
        canonical_tools,
        find_unsorted_json,
        sort_json_in_text,
        sort_keys_deep,
        tool_name,
        tool_order_issues,
        unsorted_key_paths,
    )
    from ._textsplit import (  # noqa: F401
        CacheBreak,
        MovedUnit,
        TextSplit,
        first_cache_break,
        move_dynamic_to_end,
        split_text,
        static_prefix_tokens,
    )


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'promptslim.cache' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
