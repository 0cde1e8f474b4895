"""Applying lint fixes: non-overlap, rounds, atomic writes that keep line endings, BOM and mode; --diff."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptslim.cli import main
from promptslim.lint import LintConfig, fix_text, lint_paths, lint_text
from promptslim.lint.findings import Edit, Fix
from promptslim.lint.fixes import apply_fixes

STATIC = ("You are a support assistant for Acme Cloud. Answer questions about billing, accounts, outages, "
          "plans, invoices and refunds using the documentation, and escalate to a human when unsure. ") * 3
PRETTY = '{\n    "name": "Ada",\n    "tags": [\n        "a",\n        "b"\n    ]\n}'
PROMPT = f"Today is 2026-11-22.\n{STATIC}\n\nReply as JSON like this:\n\n{PRETTY}\n"
UNSAFE_RULES = ["PS201", "PS302"]


@st.composite
def fixes_on(draw: st.DrawFn) -> tuple[str, list[Fix]]:
    text = draw(st.text(alphabet="abcdef \n", min_size=0, max_size=40))
    fixes = []
    for _ in range(draw(st.integers(0, 6))):
        edits = []
        for _ in range(draw(st.integers(1, 2))):
            a = draw(st.integers(0, len(text)))
            b = draw(st.integers(a, len(text)))
            edits.append(Edit(a, b, draw(st.text(alphabet="XY", max_size=3))))
        edits.sort(key=lambda e: (e.start, e.end))
        if all(edits[k].end <= edits[k + 1].start and edits[k + 1].end > edits[k].start
               for k in range(len(edits) - 1)):
            fixes.append(Fix(tuple(edits), "safe"))
    return text, fixes


@settings(max_examples=300, deadline=None)
@given(fixes_on())
def test_applied_fixes_never_overlap_and_replay_exactly(case: tuple[str, list[Fix]]) -> None:
    text, fixes = case
    new, used = apply_fixes(text, fixes)
    edits = sorted((e.start, e.end) for f in used for e in f.edits)
    for (a1, b1), (a2, b2) in zip(edits, edits[1:], strict=False):
        assert b1 <= a2 and not (a1 == b1 == a2 == b2)
    # replaying the chosen edits right to left gives the same text
    replay = text
    for e in sorted((e for f in used for e in f.edits), key=lambda e: (e.start, e.end), reverse=True):
        replay = replay[:e.start] + e.content + replay[e.end:]
    assert replay == new
    if fixes:
        assert used, "at least the first fix always applies"


def test_fix_text_returns_result_with_changes_and_savings() -> None:
    res = fix_text(PROMPT, select=UNSAFE_RULES, unsafe=True)
    assert {c.rule for c in res.changes} == {"PS201", "PS302"}
    assert res.savings.saved > 0 and res.savings.before > res.savings.after
    assert json.loads(res.value[res.value.index('{"name"'):].split("\n")[0]) == {"name": "Ada", "tags": ["a", "b"]}
    # converged: nothing fixable is left
    assert [f for f in lint_text(res.value, select=UNSAFE_RULES) if f.fix] == []
    # deterministic
    assert fix_text(PROMPT, select=UNSAFE_RULES, unsafe=True).value == res.value


def test_safe_fix_leaves_unsafe_findings_alone() -> None:
    res = fix_text(PROMPT, select=UNSAFE_RULES)
    assert res.value == PROMPT and res.changes == ()


@pytest.mark.parametrize("newline, bom", [("\n", False), ("\r\n", False), ("\r\n", True)])
def test_fix_writes_keep_line_endings_bom_and_mode(tmp_path: Path, newline: str, bom: bool) -> None:
    p = tmp_path / "p.prompt"
    raw = PROMPT.replace("\n", newline).encode("utf-8")
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)
    p.chmod(0o640)
    run = lint_paths([p], LintConfig(root=tmp_path, select=tuple(UNSAFE_RULES)), fix=True, unsafe_fixes=True)
    assert run.reports[0].fixed == 2 and run.reports[0].tokens_fixed > 0
    data = p.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    body = data[3:] if bom else data
    if newline == "\r\n":
        assert body.count(b"\r\n") == body.count(b"\n") > 0
    else:
        assert b"\r" not in body
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert b'{"name":"Ada","tags":["a","b"]}' in body
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_fix_in_json_message_file_keeps_it_valid(tmp_path: Path) -> None:
    p = tmp_path / "chat.json"
    doc = {"model": "gpt-4o", "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": "hi"}]}
    p.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    run = lint_paths([p], LintConfig(root=tmp_path, select=tuple(UNSAFE_RULES)), fix=True, unsafe_fixes=True)
    assert run.reports[0].fixed == 2
    fixed = json.loads(p.read_text(encoding="utf-8"))
    assert fixed["model"] == "gpt-4o" and fixed["messages"][1] == {"role": "user", "content": "hi"}
    assert fixed["messages"][0]["content"] == fix_text(PROMPT, select=UNSAFE_RULES, unsafe=True).value


def test_diff_prints_without_writing_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = Path("p.prompt")
    p.write_text(PROMPT, encoding="utf-8")
    args = ["lint", "--isolated", "--select", ",".join(UNSAFE_RULES), str(p)]
    assert main([*args, "--diff", "--unsafe-fixes"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- a/p.prompt\n+++ b/p.prompt\n") and '+{"name":"Ada","tags":["a","b"]}' in out
    assert p.read_text(encoding="utf-8") == PROMPT
    assert main([*args, "--diff"]) == 0  # only unsafe fixes pending: nothing to apply without the flag
    assert main([*args, "--fix", "--unsafe-fixes"]) == 0  # all fixed, nothing remains
    assert p.read_text(encoding="utf-8") != PROMPT
    assert main([*args, "--diff", "--unsafe-fixes"]) == 0
    assert main([*args, "--fix", "--diff"]) == 2


def test_fix_never_writes_files_without_eligible_fixes(tmp_path: Path) -> None:
    p = tmp_path / "p.prompt"
    p.write_text(PROMPT, encoding="utf-8")
    before = p.stat().st_mtime_ns
    lint_paths([p], LintConfig(root=tmp_path, select=tuple(UNSAFE_RULES)), fix=True)
    assert p.stat().st_mtime_ns == before


def test_result_cache_round_trip_and_invalidation(tmp_path: Path) -> None:
    from promptslim.lint.cache import ResultCache, report_from_dict, report_to_dict

    p = tmp_path / "p.prompt"
    p.write_text(PROMPT, encoding="utf-8")
    cfg = LintConfig(root=tmp_path, select=tuple(UNSAFE_RULES) + ("PS3",))
    first = lint_paths([p], cfg, cache=True)
    assert (tmp_path / ".promptslim_cache" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    [report] = first.reports
    assert report_from_dict(report.path, report_to_dict(report)) == report
    store = ResultCache(cfg)
    assert store.get(str(p), p.read_bytes()) == report  # served from the cache file
    assert lint_paths([p], cfg, cache=True).reports == first.reports
    p.write_text(PROMPT + "\nMore.\n", encoding="utf-8")  # content changed: not served
    assert store.get(str(p), p.read_bytes()) is None
    other = LintConfig(root=tmp_path, select=("PS303",))  # other settings: another cache file
    assert ResultCache(other).file != store.file
    store.file.write_text("{not json", encoding="utf-8")  # damaged: ignored
    assert ResultCache(cfg).entries == {}
    assert lint_paths([p], cfg, cache=True).reports[0].findings  # and rebuilt


def test_fix_runs_do_not_use_the_cache(tmp_path: Path) -> None:
    p = tmp_path / "p.prompt"
    p.write_text(PROMPT, encoding="utf-8")
    cfg = LintConfig(root=tmp_path, select=tuple(UNSAFE_RULES))
    lint_paths([p], cfg, fix=True, unsafe_fixes=True, cache=True)
    assert not (tmp_path / ".promptslim_cache").exists()
