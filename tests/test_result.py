"""Savings arithmetic and Change descriptions."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from promptslim import Change, Result, Savings


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_savings_arithmetic(before: int, after: int) -> None:
    s = Savings(before, after)
    assert s.saved == before - after
    if before:
        assert s.ratio == pytest.approx(after / before)
        assert s.percent == pytest.approx(100 * (before - after) / before)
    else:
        assert s.ratio == 1.0 and s.percent == 0.0


def test_savings_add_requires_same_tokenizer() -> None:
    assert Savings(10, 5) + Savings(4, 4) == Savings(14, 9)
    with pytest.raises(ValueError):
        Savings(1, 1, "o200k_base") + Savings(1, 1, "cl100k_base")


def test_result_by_kind_and_describe() -> None:
    c1 = Change("rewrite", "verbose-phrase", span=(0, 11), before="in order to", after="to", tokens_saved=2)
    c2 = Change("drop", "filler", span=(12, 18), before="please", tokens_saved=1)
    r = Result("x", Savings(10, 7), (c1, c2))
    assert r.by_kind("drop") == (c2,)
    assert "'in order to' -> 'to'" in c1.describe() and "-2" in c1.describe()
