"""Cost estimates come from genai-prices' bundled data, including cache and batch discounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

import promptslim
from promptslim.errors import InputError, UnknownModelError
from promptslim.pricing import model_rates


def test_gpt4o_matches_price_data() -> None:
    rates = model_rates("gpt-4o")
    est = promptslim.estimate_cost(1_000_000, 1_000_000, "gpt-4o")
    assert est.input_cost == rates.input and est.output_cost == rates.output
    assert est.total == rates.input + rates.output
    assert est.per_calls(1000) == est.total * 1000


def test_cache_reads_are_cheaper_and_writes_dearer_for_anthropic() -> None:
    plain = promptslim.estimate_cost(10_000, 0, "claude-sonnet-4-5")
    read = promptslim.estimate_cost(10_000, 0, "claude-sonnet-4-5", cached_input_tokens=9_000)
    write = promptslim.estimate_cost(10_000, 0, "claude-sonnet-4-5", cache_write_tokens=9_000)
    write_1h = promptslim.estimate_cost(10_000, 0, "claude-sonnet-4-5", cache_write_tokens=9_000, cache_ttl="1h")
    assert read.total < plain.total < write.total < write_1h.total
    rates = model_rates("claude-sonnet-4-5")
    assert rates.cache_read is not None and rates.cache_write is not None
    expected = (Decimal(1_000) * rates.input + Decimal(9_000) * rates.cache_read) / Decimal(1_000_000)
    assert read.total == expected


def test_batch_discount_from_data() -> None:
    std = promptslim.estimate_cost(1000, 1000, "gpt-4o")
    batch = promptslim.estimate_cost(1000, 1000, "gpt-4o", batch=True)
    assert batch.batch and batch.total < std.total


def test_unknown_model_lists_close_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        promptslim.estimate_cost(1, 1, "gpt-4oo")
    assert "gpt-4o" in info.value.suggestions


@pytest.mark.parametrize("kwargs", [{"input_tokens": -1}, {"cached_input_tokens": 20}, {"cache_ttl": "2h"}])
def test_bad_arguments(kwargs: dict) -> None:
    args = {"input_tokens": 10, "output_tokens": 0, "model": "gpt-4o"} | kwargs
    with pytest.raises(InputError):
        promptslim.estimate_cost(**args)


@settings(max_examples=40)
@given(st.integers(0, 5_000_000), st.integers(0, 500_000),
       st.sampled_from(["gpt-4o", "gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5", "claude-3-5-haiku", "gpt-5"]))
def test_flat_rate_cache_equals_genai_prices(tmp_path_factory, n_in: int, n_out: int, model: str) -> None:
    """The cached flat-rate path gives byte-identical Decimals to genai-prices' own calculation."""
    import os

    from promptslim import pricing

    old = os.environ.get("PROMPTSLIM_CACHE_DIR")
    os.environ["PROMPTSLIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("prices"))
    pricing._fast_table.cache_clear()
    try:
        first = promptslim.estimate_cost(n_in, n_out, model)  # computed by genai-prices, remembered
        second = promptslim.estimate_cost(n_in, n_out, model)  # served from the flat-rate cache
        calc = pricing._calc({"input_tokens": n_in, "output_tokens": n_out}, model, None)
        assert (second.input_cost, second.output_cost) == (calc.input_price, calc.output_price)
        assert first == second
    finally:
        if old is None:
            os.environ.pop("PROMPTSLIM_CACHE_DIR", None)
        else:
            os.environ["PROMPTSLIM_CACHE_DIR"] = old
        pricing._fast_table.cache_clear()
