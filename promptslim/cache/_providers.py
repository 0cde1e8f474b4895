"""Provider prompt-caching rules (minimum length, hit increments, breakpoints, TTLs, multipliers).

The facts are dated data in ``promptslim/data/providers.toml``; prices come from genai-prices via
:func:`promptslim.pricing.model_rates`. The linter (PS202) calls :func:`cacheable_minimum` and
:func:`prefix_meets_minimum`.

>>> cacheable_minimum("gpt-4o"), cache_rules("claude-sonnet-4-5").max_breakpoints
(1024, 4)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from .._toml import load_package_toml
from ..errors import InputError, UnknownModelError

__all__ = ["CacheRules", "cache_rules", "cacheable_minimum", "prefix_meets_minimum", "provider_for_model",
           "PROVIDERS", "ttl_seconds"]

_FILE = "data/providers.toml"


def _data() -> dict[str, Any]:
    return load_package_toml(_FILE)


PROVIDERS: tuple[str, ...] = ("anthropic", "openai", "google")
_ALIASES = {"gemini": "google", "claude": "anthropic", "google-gla": "google", "google-vertex": "google"}


@dataclass(frozen=True, slots=True)
class CacheRules:
    """How one provider (and model family) caches prompts, with the date and source of the facts."""

    provider: str
    model: str
    mechanism: str
    min_tokens: int
    increment: int
    max_breakpoints: int
    lookback_blocks: int
    ttls: tuple[tuple[str, int], ...]
    read_multiplier: Decimal
    write_multiplier: Decimal
    write_multiplier_1h: Decimal
    as_of: str
    source: str
    note: str = ""

    def ttl(self, name: str) -> int:
        """Seconds for a TTL name (``"5m"``, ``"1h"``) this provider offers; InputError otherwise."""
        for key, seconds in self.ttls:
            if key == name:
                return seconds
        raise InputError(f"{self.provider} offers cache TTLs {[k for k, _ in self.ttls]}, not {name!r}")

    def cacheable_tokens(self, prefix_tokens: int) -> int:
        """Tokens of a stable prefix of ``prefix_tokens`` the provider can serve from cache (0 below minimum)."""
        if prefix_tokens < self.min_tokens:
            return 0
        if self.increment <= 1:
            return prefix_tokens
        return self.min_tokens + (prefix_tokens - self.min_tokens) // self.increment * self.increment


def provider_for_model(model: str) -> str:
    """``"anthropic"``, ``"openai"`` or ``"google"`` for a model name (``"provider/model"`` wins)."""
    key = model.strip().lower()
    if "/" in key:
        head = key.split("/", 1)[0]
        head = _ALIASES.get(head, head)
        if head in PROVIDERS:
            return head
        key = key.rsplit("/", 1)[1]
    data = _data()
    best: tuple[int, str] | None = None
    for provider in PROVIDERS:
        for prefix in data[provider]["model_prefixes"]:
            if key.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), provider)
    if best is None:
        raise UnknownModelError(model, difflib.get_close_matches(key, _all_prefixes(), n=3, cutoff=0.3),
                                what="model for prompt caching (pass provider=)")
    return best[1]


def _all_prefixes() -> list[str]:
    data = _data()
    return [p for prov in PROVIDERS for p in data[prov]["model_prefixes"]]


def _normalise_provider(provider: str) -> str:
    name = _ALIASES.get(provider.strip().lower(), provider.strip().lower())
    if name not in PROVIDERS:
        raise InputError(f"unknown cache provider {provider!r}; known: {', '.join(PROVIDERS)}")
    return name


@cache
def cache_rules(model: str, provider: str | None = None) -> CacheRules:
    """The caching rules for ``model`` (provider inferred from the name unless given)."""
    prov = _normalise_provider(provider) if provider else provider_for_model(model)
    base = _data()[prov]
    key = model.strip().lower().rsplit("/", 1)[-1]
    family: dict[str, Any] = {}
    for fam in base.get("family", []):
        if key.startswith(fam["prefix"]) and len(fam["prefix"]) > len(family.get("prefix", "")):
            family = fam
    merged = {**base, **{k: v for k, v in family.items() if k != "prefix"}}
    return CacheRules(
        provider=prov,
        model=model,
        mechanism=merged["mechanism"],
        min_tokens=int(merged["min_tokens"]),
        increment=int(merged["increment"]),
        max_breakpoints=int(merged["max_breakpoints"]),
        lookback_blocks=int(merged["lookback_blocks"]),
        ttls=tuple((k, int(v)) for k, v in merged["ttl"].items()),
        read_multiplier=Decimal(str(merged["read_multiplier"])),
        write_multiplier=Decimal(str(merged["write_multiplier"])),
        write_multiplier_1h=Decimal(str(merged["write_multiplier_1h"])),
        as_of=merged["as_of"],
        source=" ".join(merged["source"].split()),
        note=" ".join(family.get("note", "").split()),
    )


def cacheable_minimum(model: str, provider: str | None = None) -> int:
    """The shortest prefix (in the model's tokens) the provider caches for ``model``."""
    return cache_rules(model, provider).min_tokens


def prefix_meets_minimum(prefix_tokens: int, model: str, provider: str | None = None) -> bool:
    """True when a stable prefix of ``prefix_tokens`` tokens is long enough to be cached for ``model``."""
    return prefix_tokens >= cacheable_minimum(model, provider)


def ttl_seconds(ttl: str | int | float, rules: CacheRules) -> float:
    """A TTL given as a provider name (``"5m"``) or as seconds, in seconds."""
    if isinstance(ttl, bool):
        raise InputError(f"ttl must be a name like '5m' or seconds, got {ttl!r}")
    if isinstance(ttl, (int, float)):
        if ttl <= 0:
            raise InputError(f"ttl must be positive seconds, got {ttl!r}")
        return float(ttl)
    return float(rules.ttl(ttl))
