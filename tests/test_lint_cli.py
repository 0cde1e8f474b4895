"""`promptslim lint` command line: flags, config discovery, exit codes, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptslim.cli import main

VAGUE = "You are a travel guide. Please tell the user about the places they ask about, in order to help them plan.\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "guide.prompt").write_text(VAGUE, encoding="utf-8")
    (tmp_path / "prompts" / "clean.prompt").write_text("Answer in one sentence.\n", encoding="utf-8")
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["lint", "--no-cache", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_exit_codes_clean_findings(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-cache", "prompts/clean.prompt"]) == 0
    assert capsys.readouterr().out.strip() == "All checks passed!"
    assert main(["lint", "--no-cache", "prompts"]) == 1
    out = capsys.readouterr().out
    assert "prompts/guide.prompt:1:1: PS303 " in out and "clean.prompt" not in out


def test_select_ignore_and_statistics(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _json(capsys, "--select", "PS1", "prompts")
    assert code == 1 and {f["code"] for f in data["findings"]} == {"PS101", "PS102"}
    code, data = _json(capsys, "--ignore", "PS1,PS303", "prompts")
    assert code == 0 and data["findings"] == []
    assert main(["lint", "--no-cache", "--statistics", "--select", "PS101,PS102", "prompts"]) == 1
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split()[:2] == ["1", "PS101"] or rows[0].split()[:2] == ["1", "PS102"]


def test_config_file_is_found_and_flags_override(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "promptslim.toml").write_text('[lint]\nignore = ["PS303"]\n', encoding="utf-8")
    code, data = _json(capsys, "prompts")
    assert "PS303" not in {f["code"] for f in data["findings"]}
    code, data = _json(capsys, "--isolated", "prompts")
    assert "PS303" in {f["code"] for f in data["findings"]}
    code, data = _json(capsys, "--select", "PS303", "prompts")  # --select replaces the config's set
    assert {f["code"] for f in data["findings"]} == {"PS303"}


def test_usage_and_config_errors_exit_2(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-cache", "--model", "gpt-9-imaginary", "prompts"]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["lint", "--no-cache", "--select", "PS999", "prompts"]) == 2
    assert "matches no rule" in capsys.readouterr().err
    assert main(["lint", "--no-cache", "missing.prompt"]) == 2
    assert "no such file" in capsys.readouterr().err
    (tree / "promptslim.toml").write_text("select = 3\n", encoding="utf-8")
    assert main(["lint", "--no-cache", "prompts"]) == 2
    assert "promptslim.toml" in capsys.readouterr().err


def test_fix_then_clean(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-cache", "--select", "PS1", "--fix", "prompts"]) == 0
    assert "Fixed 2 findings" in capsys.readouterr().out
    fixed = (tree / "prompts" / "guide.prompt").read_text(encoding="utf-8")
    assert "in order to" not in fixed and "Please" not in fixed and "travel guide" in fixed
    assert main(["lint", "--no-cache", "--select", "PS1", "prompts"]) == 0


def test_cache_is_used_by_default_and_skipped_with_no_cache(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "prompts"]) == 1
    first = capsys.readouterr().out
    assert (tree / ".promptslim_cache").is_dir()
    assert main(["lint", "prompts"]) == 1
    assert capsys.readouterr().out == first


def test_parallel_workers_give_the_same_reports(tmp_path: Path) -> None:
    from promptslim.lint import LintConfig, lint_paths
    from promptslim.lint.runner import PARALLEL_MIN_FILES

    texts = [VAGUE, "Answer in one sentence.\n", "Due to the fact that it is late, be brief.\n\n\n\n---\n"]
    for i in range(PARALLEL_MIN_FILES + 6):
        (tmp_path / f"p{i:03d}.prompt").write_text(texts[i % 3] * (1 + i % 2), encoding="utf-8")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    cfg = LintConfig(root=tmp_path)
    one = lint_paths([tmp_path], cfg, jobs=1)
    two = lint_paths([tmp_path], cfg, jobs=2)
    assert one.reports == two.reports and len(one.reports) == PARALLEL_MIN_FILES + 7
    assert one.exit_code() == two.exit_code() == 2
