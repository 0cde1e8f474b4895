"""Eval metrics: each a small function with known answers."""

from __future__ import annotations

from hypothesis import given, strategies as st

from promptslim.eval import metrics as m
from promptslim.eval.baselines import random_sentence_drop, truncate_head, truncate_tail
from promptslim.tokens import get_tokenizer


def test_normalize_answer_like_squad() -> None:
    assert m.normalize_answer("The  Eiffel Tower!") == "eiffel tower"


def test_answer_recall_counts_only_present_answers() -> None:
    ctx = "Paris is the capital of France. It has the Eiffel Tower."
    assert m.answer_recall(ctx, "It has the Eiffel Tower.", ["the Eiffel Tower"]) == 1.0
    assert m.answer_recall(ctx, "Paris is the capital.", ["Eiffel Tower"]) == 0.0
    assert m.answer_recall(ctx, ctx, ["Berlin"]) is None
    assert m.answer_recall("a 19 b", "a 1 b", ["19"]) == 1.0 - 1.0  # whole-token match: "1" is not "19"


def test_evidence_recall() -> None:
    assert m.evidence_recall({1, 2, 3}, {2, 4}) == 0.5
    assert m.evidence_recall({1}, set()) is None


def test_fact_retention_kinds() -> None:
    orig = "Email help@acme.io or see https://acme.io/docs. Never share keys. Use {user} and 3 tries with Alice."
    assert m.fact_retention(orig, orig) == 1.0
    facts = m.extract_facts(orig)
    assert facts["email"] == ["help@acme.io"] and facts["url"] == ["https://acme.io/docs"]
    assert facts["placeholder"] == ["{user}"] and "3" in facts["number"] and "Alice" in facts["name"]
    assert facts["negation"] == ["never share keys."] or facts["negation"][0].startswith("never share")
    dropped = orig.replace("Never share keys. ", "")
    assert m.fact_retention(orig, dropped) < 1.0
    assert m.fact_retention("plain words here", "x") is None


def test_common_capitalised_words_are_not_names() -> None:
    names = m.extract_facts("Answer briefly. Then: Please reply to Alice in Paris, Your call, My rules.")["name"]
    assert "Alice" in names and "Paris" in names
    assert not {"Please", "Your", "My"} & set(names)


def test_line_list_and_heading_starts_are_not_names() -> None:
    text = ("Act as Bob.\n- Provide a summary\n  * Make Sure of John Smith\n## Goal Setting\n"
            "> **Lighting:** Moody\nKey Points\n\nThe end. Rules: - Analyze it. - Offer Alice help\n1. Create it")
    names = m.extract_facts(text)["name"]
    # first words of lines, list items (also inline after ". - "), headings and quotes start sentences;
    # the rest of a capitalised run still counts, and a run never spans a line break
    assert names == ["Bob", "John Smith", "Setting", "Moody", "Points", "Alice"]
    assert m.fact_retention(text, text.replace("- Provide a summary", "- Summarize")) == 1.0
    assert m.fact_retention(text, text.replace("Key Points\n\n", "Key Points\n")) == 1.0


def test_roundtrip_exact_is_type_strict() -> None:
    assert m.roundtrip_exact({"a": [1, "x", None]}, {"a": [1, "x", None]}) == 1.0
    assert m.roundtrip_exact({"a": 1}, {"a": 1.0}) == 0.0
    assert m.roundtrip_exact({"a": True}, {"a": 1}) == 0.0


def test_f1_and_em() -> None:
    assert m.exact_match("the Eiffel tower", ["Eiffel Tower"]) == 1.0
    assert 0 < m.f1_score("Eiffel tower in Paris", ["Eiffel Tower"]) < 1


@given(st.text(max_size=400), st.integers(0, 60))
def test_truncation_baselines_fit_budget(text: str, budget: int) -> None:
    tok = get_tokenizer()
    assert tok.count(truncate_head(text, budget, tok)) <= max(budget, 0)
    assert tok.count(truncate_tail(text, budget, tok)) <= max(budget, 0)


@given(st.text(alphabet=st.sampled_from(list("abc .!?\n")), max_size=300), st.integers(1, 50), st.integers(0, 99))
def test_random_drop_fits_and_repeats(text: str, budget: int, seed: int) -> None:
    tok = get_tokenizer()
    a = random_sentence_drop(text, budget, seed, tok)
    assert a == random_sentence_drop(text, budget, seed, tok)
    assert tok.count(a) <= budget or a == ""
