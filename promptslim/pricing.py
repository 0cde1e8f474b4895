"""Cost estimates on top of genai-prices' bundled price data (no network, no price constants here).

``input_tokens`` counts every prompt token, as providers report it; ``cached_input_tokens`` and
``cache_write_tokens`` say how many of those were read from or written to the prompt cache.
Batch discounts come from the data's ``processing=batch`` price variants where it has them.

>>> est = estimate_cost(1000, 200, "gpt-4o")
>>> est.provider, float(est.total) > 0
('openai', True)
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from .errors import InputError, UnknownModelError

__all__ = ["CostEstimate", "ModelRates", "estimate_cost", "model_rates", "known_models"]

_MTOK = Decimal(1_000_000)
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ModelRates:
    """USD per million tokens for one model, as the price data states them (None where absent)."""

    model: str
    provider: str
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """The price of one call (or of summed usage), in USD, with what the data could and could not price."""

    model: str
    provider: str
    input_cost: Decimal
    output_cost: Decimal
    batch: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        return self.input_cost + self.output_cost

    def per_calls(self, n: int = 1000) -> Decimal:
        """Cost of ``n`` identical calls."""
        return self.total * n


def _price_data_key() -> str | None:
    """Identity of the installed price data (size and mtime of genai_prices/data.py), found without
    importing genai-prices; None when it cannot be located."""
    try:
        spec = importlib.util.find_spec("genai_prices")
        if spec is None or not spec.origin:
            return None
        st = (Path(spec.origin).parent / "data.py").stat()
        return f"{st.st_size}-{st.st_mtime_ns}"
    except (OSError, ValueError):
        return None


def _fast_cache_file() -> Path | None:
    key = _price_data_key()
    if key is None or os.environ.get("PROMPTSLIM_CACHE_DIR", "").lower() in ("off", "0", "none"):
        return None
    from .tokens import _cache_dir

    return _cache_dir() / f"prices-{key}.json"


@cache
def _fast_table() -> dict[str, list[str]]:
    f = _fast_cache_file()
    if f is None:
        return {}
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember_flat_rates(model: str, calc: Any) -> None:
    """Cache a model's plain input/output rates when the data prices it flat (no tiers, no dated
    variants), so later processes price it without importing genai-prices (~0.3 s)."""
    mp = calc.model_price
    if type(calc.model.prices).__name__ != "ModelPrice":
        return
    rin, rout = getattr(mp, "input_mtok", None), getattr(mp, "output_mtok", None)
    if not all(isinstance(r, Decimal) for r in (rin, rout)):
        return
    f = _fast_cache_file()
    if f is None:
        return
    table = dict(_fast_table())
    table[model] = [calc.model.id, calc.provider.id, str(rin), str(rout)]
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f".{f.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, sort_keys=True), encoding="utf-8")
        os.replace(tmp, f)
        _fast_table.cache_clear()
    except OSError:
        pass


def _import_genai_prices() -> Any:
    import genai_prices

    return genai_prices


@cache
def known_models() -> tuple[str, ...]:
    """Every model id in the bundled price data, for suggestions."""
    gp = _import_genai_prices()
    snapshot = gp.data_snapshot.get_snapshot()
    return tuple(sorted({m.id for p in snapshot.providers for m in p.models}))


def _calc(usage_kwargs: dict[str, int], model: str, context: dict[str, str] | None) -> Any:
    gp = _import_genai_prices()
    provider = None
    name = model
    if "/" in model:
        provider, name = model.split("/", 1)
    try:
        with _lock:  # genai-prices keeps a global snapshot; serialise first loads
            return gp.calc_price(gp.Usage(**usage_kwargs), name, provider_id=provider, price_context=context)
    except LookupError:
        raise UnknownModelError(model, difflib.get_close_matches(name, known_models(), n=5, cutoff=0.5)) from None


def model_rates(model: str) -> ModelRates:
    """Per-million-token rates for ``model`` from the price data."""
    calc = _calc({"input_tokens": 0, "output_tokens": 0}, model, None)
    mp = calc.model_price

    def rate(attr: str) -> Decimal | None:
        value = getattr(mp, attr, None)
        if value is None:
            return None
        return Decimal(getattr(value, "base", value))

    return ModelRates(
        model=calc.model.id,
        provider=calc.provider.id,
        input=rate("input_mtok") or Decimal(0),
        output=rate("output_mtok") or Decimal(0),
        cache_read=rate("cache_read_mtok"),
        cache_write=rate("cache_write_mtok"),
        cache_write_1h=rate("cache_write_1h_mtok") if _has_attr(mp, "cache_write_1h_mtok") else None,
    )


def _has_attr(obj: Any, name: str) -> bool:
    try:
        return getattr(obj, name) is not None
    except AttributeError:
        return False


def estimate_cost(
    input_tokens: int,
    output_tokens: int,
    model: str,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    batch: bool = False,
    cache_ttl: str = "5m",
) -> CostEstimate:
    """Estimated USD cost of a call to ``model`` (``"provider/model"`` picks a provider explicitly)."""
    for label, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                         ("cached_input_tokens", cached_input_tokens), ("cache_write_tokens", cache_write_tokens)):
        if value < 0:
            raise InputError(f"{label} must be >= 0, got {value}")
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise InputError("cached_input_tokens + cache_write_tokens cannot exceed input_tokens (which includes them)")
    if cache_ttl not in ("5m", "1h"):
        raise InputError(f"cache_ttl must be '5m' or '1h', got {cache_ttl!r}")
    usage: dict[str, int] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cached_input_tokens:
        usage["cache_read_tokens"] = cached_input_tokens
    if cache_write_tokens:
        usage["cache_write_tokens"] = cache_write_tokens  # all writes; the 1h share is a subset of them
        if cache_ttl == "1h":
            usage["cache_write_1h_tokens"] = cache_write_tokens
    notes: list[str] = []
    if not (batch or cached_input_tokens or cache_write_tokens):
        flat = _fast_table().get(model)
        if flat is not None:  # same arithmetic as genai-prices: price * count / 1e6 per unit
            mid, provider, rin, rout = flat
            return CostEstimate(mid, provider, Decimal(rin) * Decimal(input_tokens) / _MTOK,
                                Decimal(rout) * Decimal(output_tokens) / _MTOK)
    calc = _calc(usage, model, None)
    if not (batch or cached_input_tokens or cache_write_tokens):
        _remember_flat_rates(model, calc)
    batched = False
    if batch:
        bcalc = _calc(usage, model, {"processing": "batch"})
        if bcalc.total_price != calc.total_price:
            calc, batched = bcalc, True
        else:
            notes.append(f"price data has no batch price for {calc.model.id}; standard prices used")
    mp = calc.model_price
    if cached_input_tokens and getattr(mp, "cache_read_mtok", None) is None:
        notes.append("price data has no cache-read price; cached tokens billed as input")
    return CostEstimate(
        model=calc.model.id,
        provider=calc.provider.id,
        input_cost=Decimal(calc.input_price),
        output_cost=Decimal(calc.output_price),
        batch=batched,
        notes=tuple(notes),
    )
