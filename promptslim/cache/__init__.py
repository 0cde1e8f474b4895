"""Cacheable prefixes: find per-request content, split prompts into a stable prefix and a variable
suffix, render provider cache markers and simulate what caching saves.

Modules: ``_detect`` (dynamic-content detectors), ``_textsplit`` (moving dynamic spans in text),
``_stability`` (tool order and JSON key order), ``_providers`` (dated provider facts).
"""

from __future__ import annotations

from ._detect import DYNAMIC_KINDS, DynamicSpan, find_dynamic_spans
from ._providers import CacheRules, cache_rules, cacheable_minimum, prefix_meets_minimum, provider_for_model

__all__ = [
    "DYNAMIC_KINDS",
    "CacheRules",
    "DynamicSpan",
    "cache_rules",
    "cacheable_minimum",
    "find_dynamic_spans",
    "prefix_meets_minimum",
    "provider_for_model",
]
