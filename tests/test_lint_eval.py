"""The lint-corpus eval on the shared prompts: fixes keep every fact, findings and savings are real."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from promptslim.eval.core import get_suite
from promptslim.eval.tasks.lint import corpus_report, facts_kept, load_cases
from promptslim.lint import fix_text


def test_suite_is_registered() -> None:
    suite = get_suite("lint-corpus")
    assert suite.needs_shared_data and suite.primary_metric == "fact_retention"
    assert set(suite.methods) == {"fix", "fix-unsafe", "truncate-tail", "random-drop"}


def test_fixes_keep_every_fact_on_real_prompts(shared_data: Path) -> None:
    report = corpus_report(shared_data, limit=25)
    assert set(report) == {"fabric", "awesome-chatgpt-prompts"}
    for corpus, agg in report.items():
        assert agg["prompts"] == 25
        assert agg["facts_min"] == 1.0, (corpus, agg["lost"])
        assert agg["tokens_saved_fix"] > 0 and agg["tokens_saved_unsafe"] >= agg["tokens_saved_fix"]
        assert sum(agg["findings"].values()) > 0


def test_suite_methods_score_cases(shared_data: Path) -> None:
    suite = get_suite("lint-corpus")
    case = next(c for c in load_cases(shared_data, 5) if c.id.startswith("fabric/"))
    out = suite.methods["fix"](case, None, {})
    assert out.tokens_after <= out.tokens_before and out.metrics.get("fact_retention", 1.0) == 1.0
    base = suite.methods["truncate-tail"](case, None, {})
    assert base.tokens_after <= out.tokens_after + 1


SENTENCES = ["In order to help, answer briefly. ", "Please make sure to cite sources. ",
             "Due to the fact that it rains, stay inside. ", "It is important to note that prices change. ",
             "You are a highly experienced, world-class, expert analyst. ", "Never share the key. ",
             "Only answer in English. ", "Visit https://example.com/a?b=1 for details. ", "Call 555-0100 before 5 pm. ",
             "Email ops@example.org with questions. ", "Use {user_name} and {{ order_id }} as given. ",
             "Ada Lovelace wrote 3 notes. ", "Do not exceed 200 words. ", "\n\n\n\n", "   \n", "\n-----\n",
             "Keep every answer short and friendly. ", "Thank you! ", "Kindly reply in JSON. "]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=14), st.booleans())
def test_fix_keeps_facts_property(parts: list[str], unsafe: bool) -> None:
    """Invariant: whatever the prompt, --fix (safe) keeps every number, URL, e-mail, placeholder, negation and name."""
    text = "".join(parts)
    res = fix_text(text, unsafe=unsafe)
    if not unsafe:
        fr = facts_kept(text, res.value)
        assert fr is None or fr == 1.0, (text, res.value)
    assert res.savings.after <= res.savings.before
    assert fix_text(res.value, unsafe=unsafe).value == res.value  # converged: a second run changes nothing
