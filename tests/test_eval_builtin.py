"""`promptslim eval` runs out of the box on eval_sets/: every built-in suite, every method, no failures."""

from __future__ import annotations

import json

import pytest

from promptslim.cli import main
from promptslim.eval import list_suites
from promptslim.eval.runner import run_eval

# Suites the package ships (a test module may register its own toy suite in the same session).
BUILTIN = [s.name for s in list_suites()
           if not s.needs_shared_data and s.load.__module__.startswith("promptslim.")]


def test_builtin_suites_exist_for_each_task() -> None:
    assert {"rag-builtin", "history-builtin", "prompts-builtin", "schema-builtin"} <= set(BUILTIN)


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_suite_runs_clean(name: str) -> None:
    report = run_eval([name], limit=4, params={"similarity": False} if name.startswith("prompts") else None,
                      progress=False)
    assert not report.failures, report.failures[:3]
    suite = next(s for s in list_suites() if s.name == name)
    assert {r.method for r in report.rows} == set(suite.methods)
    for row in report.rows:
        assert row.n == 4 and row.tokens_before > 0
        assert all(0.0 <= v <= 1.0 for k, v in row.metrics.items() if k != "instructions_vs_schema")
        if row.method == "noop":
            assert row.tokens_after == row.tokens_before


def test_default_eval_command_is_deterministic(capsys) -> None:
    args = ["eval", "rag-builtin", "history-builtin", "--limit", "5", "--json", "-"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == first
