"""Lint rule records: validity, lookup, selection, and the docs generated from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptslim.cli import main
from promptslim.errors import InputError
from promptslim.lint.engine import CHECKS
from promptslim.lint.rules import (
    FIX_SAFETY,
    all_rules,
    get_rule,
    resolve_codes,
    rule_markdown,
    rule_text,
    rules_markdown,
    select_rules,
)

REPO = Path(__file__).resolve().parents[1]
REQUIRED = {"PS101", "PS102", "PS103", "PS104", "PS105", "PS201", "PS202", "PS203", "PS301", "PS302", "PS303",
            "PS401", "PS402"}


def test_every_required_rule_is_a_complete_record() -> None:
    rules = {r.code: r for r in all_rules()}
    assert REQUIRED <= set(rules)
    for r in rules.values():
        assert re.fullmatch(r"PS\d{3}", r.code)
        assert re.fullmatch(r"[a-z0-9-]+", r.name)
        assert r.summary and r.rationale and r.example, r.code
        assert r.fix in FIX_SAFETY
        assert r.check in CHECKS, f"{r.code} names an unknown check {r.check!r}"
        if r.fix != "none" and r.check != "pretty-json":
            assert r.fixed, f"{r.code} has a fix but no 'fixed' example"


def test_codes_and_names_are_unique() -> None:
    codes = [r.code for r in all_rules()]
    names = [r.name for r in all_rules()]
    assert len(codes) == len(set(codes)) and len(names) == len(set(names))


def test_lookup_by_code_or_name_and_suggestions() -> None:
    assert get_rule("ps201").name == "dynamic-before-static"
    assert get_rule("verbose-phrase").code == "PS101"
    with pytest.raises(InputError, match="PS201"):
        get_rule("PS2O1")


def test_selection_prefixes_all_and_ignore_wins() -> None:
    assert resolve_codes(["PS1"]) == {"PS101", "PS102", "PS103", "PS104", "PS105"}
    assert resolve_codes(["ALL"]) == {r.code for r in all_rules()}
    chosen = [r.code for r in select_rules(["PS2", "PS101"], ["PS202", "PS1"])]
    assert chosen == ["PS201", "PS203"]
    assert [r.code for r in select_rules()] == sorted(r.code for r in all_rules() if r.default)
    with pytest.raises(InputError, match="matches no rule"):
        resolve_codes(["PS9"])


def test_rule_text_and_markdown_carry_the_record() -> None:
    r = get_rule("PS201")
    text = rule_text(r)
    assert text.startswith("PS201 (dynamic-before-static)")
    assert "unsafe fix" in text and "min_static_tokens_after = 50" in text
    md = rule_markdown(r)
    assert md.startswith("## PS201 dynamic-before-static") and "```text" in md


def test_committed_rules_doc_is_up_to_date() -> None:
    """docs/rules.md is generated: regenerate with `promptslim rule --all --format markdown > docs/rules.md`."""
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "docs/rules.md is stale: regenerate it from the rule records"


def test_rule_command_prints_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "PS201"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PS201 (dynamic-before-static)")
    assert main(["rule", "--all", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == rules_markdown()
    assert main(["rule", "PS999"]) == 2
    assert "unknown rule" in capsys.readouterr().err
    assert main(["rule", "--format", "json", "PS101"]) == 0
    assert '"code": "PS101"' in capsys.readouterr().out
