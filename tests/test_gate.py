"""The token gate end to end: baselines, regressions, renames, deletions, new files, tokenizer
mismatches and corrupt baselines, in temporary git repositories driven by real git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptslim import get_tokenizer
from promptslim.cli import main
from promptslim.gate import (
    Baseline,
    BaselineError,
    FileRecord,
    MessageRecord,
    Thresholds,
    TokenizerMismatchError,
    build_baseline,
    check_against_baseline,
    dumps_baseline,
    format_github,
    load_baseline,
    load_config,
    loads_baseline,
    parse_percent,
    ratchet_baseline,
)
from promptslim.gate_compare import pair_renames

REPO = Path(__file__).resolve().parents[1]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                         cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return out.stdout


def prose(n: int, topic: str = "refunds") -> str:
    return "".join(f"Rule {i}: answer questions about {topic} politely and cite the policy page.\n"
                   for i in range(n))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / "prompts" / "sub").mkdir(parents=True)
    (root / "prompts" / "system.md").write_text(prose(20))
    (root / "prompts" / "tiny.txt").write_text("Be brief.\n")
    (root / "prompts" / "sub" / "faq.prompt").write_text(prose(15, "shipping"))
    (root / "prompts" / "old.j2").write_text("Hello {{ name }}, " + prose(8, "billing"))
    (root / "prompts" / "chat.json").write_text(json.dumps({"messages": [
        {"role": "system", "content": prose(5, "accounts")},
        {"role": "user", "content": "How do I reset my password?"}]}, indent=1))
    (root / "prompts" / "config.json").write_text('{"not": "messages"}')
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "prompts")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def make_baseline(capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    code, _, err = run_cli(capsys, "baseline", "prompts", *extra)
    assert code == 0, err
    git(Path.cwd(), "add", "promptslim.lock.json")
    git(Path.cwd(), "commit", "-q", "-m", "baseline")


# --- baseline file -------------------------------------------------------------------------------------------

def test_baseline_records_tokens_identity_model_cost_and_messages(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    data = json.loads((repo / "promptslim.lock.json").read_text())
    assert data["format"] == "promptslim-baseline" and data["version"] == 1
    assert data["tokenizer"] == get_tokenizer("gpt-4o").identity and data["model"] == "gpt-4o"
    files = data["files"]
    assert sorted(files) == ["prompts/chat.json", "prompts/old.j2", "prompts/sub/faq.prompt",
                             "prompts/system.md", "prompts/tiny.txt"]  # config.json is not a prompt
    tok = get_tokenizer("gpt-4o")
    assert files["prompts/system.md"]["tokens"] == tok.count(prose(20))
    assert files["prompts/system.md"]["cost_per_call_usd"] > 0
    chat = files["prompts/chat.json"]
    assert chat["kind"] == "messages" and [m["role"] for m in chat["messages"]] == ["system", "user"]
    assert sum(m["tokens"] for m in chat["messages"]) + 3 == chat["tokens"]  # + reply priming
    assert data["totals"]["tokens"] == sum(f["tokens"] for f in files.values())


def test_baseline_bytes_are_stable_and_sorted(repo: Path) -> None:
    a = dumps_baseline(build_baseline(["prompts"]))
    b = dumps_baseline(build_baseline(["prompts/sub", "prompts"]))
    assert a == b and a.endswith("}\n")
    assert json.dumps(json.loads(a), indent=2, sort_keys=True) + "\n" == a


def test_baseline_to_stdout_and_from_pyproject_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('[tool.promptslim]\npaths = ["prompts/sub"]\nmodel = "gpt-4"\n')
    code, out, _ = run_cli(capsys, "baseline", "-o", "-")
    data = json.loads(out)
    assert code == 0 and list(data["files"]) == ["prompts/sub/faq.prompt"] and data["model"] == "gpt-4"
    assert data["tokenizer"]["encoding"] == "cl100k_base"


# --- check: regressions and thresholds ---------------------------------------------------------------------

def test_growth_past_both_thresholds_fails_naming_the_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "system.md").write_text(prose(30))
    code, out, _ = run_cli(capsys, "check", "prompts")
    assert code == 1
    line = next(ln for ln in out.splitlines() if ln.startswith("regressed"))
    assert "prompts/system.md" in line
    assert "FAILED" in out and "promptslim baseline prompts -o" in out


def test_small_absolute_growth_on_tiny_file_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "tiny.txt").write_text("Be brief. Be kind. Be exact.\n")  # +100% but few tokens
    code, out, _ = run_cli(capsys, "check", "prompts")
    assert code == 0
    assert any(ln.startswith("grew") and "tiny.txt" in ln for ln in out.splitlines())


def test_small_relative_growth_on_big_file_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    big = prose(20) + "Always answer in English unless the user writes in another language first.\n"
    (repo / "prompts" / "system.md").write_text(big)
    code, out, _ = run_cli(capsys, "check", "prompts", "--max-increase", "20%")
    assert code == 0, out
    code, out, _ = run_cli(capsys, "check", "prompts", "--max-increase", "1%", "--min-increase-tokens", "5")
    assert code == 1 and "prompts/system.md" in out


def test_thresholds_from_pyproject(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "system.md").write_text(prose(30))
    (repo / "pyproject.toml").write_text('[tool.promptslim]\nmax-increase = "80%"\n')
    assert run_cli(capsys, "check", "prompts")[0] == 0
    (repo / "pyproject.toml").write_text('[tool.promptslim]\nmax-increase = "80%"\nmin-increase-tokens = 5\n')
    assert run_cli(capsys, "check", "prompts", "--max-increase", "10")[0] == 1  # the CLI flag wins


def test_improvement_reported_and_update_locks_it_in_but_not_growth(repo: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    before = load_baseline(repo / "promptslim.lock.json")
    (repo / "prompts" / "system.md").write_text(prose(10))
    (repo / "prompts" / "tiny.txt").write_text("Be brief and kind.\n")
    code, out, _ = run_cli(capsys, "check", "prompts", "--update")
    assert code == 0
    assert any(ln.startswith("improved") and "system.md" in ln for ln in out.splitlines())
    after = load_baseline(repo / "promptslim.lock.json")
    assert after.files["prompts/system.md"].tokens < before.files["prompts/system.md"].tokens
    assert after.files["prompts/tiny.txt"] == before.files["prompts/tiny.txt"]  # growth is not ratcheted in
    assert run_cli(capsys, "check", "prompts")[2] == ""
    (repo / "prompts" / "system.md").write_text(prose(16))  # back up: now a regression against the new lock
    assert run_cli(capsys, "check", "prompts")[0] == 1


# --- renames, deletions, new files -------------------------------------------------------------------------

def test_rename_deletion_and_new_file_each_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    git(repo, "mv", "prompts/sub/faq.prompt", "prompts/sub/shipping.prompt")
    (repo / "prompts" / "old.j2").unlink()
    (repo / "prompts" / "welcome.md").write_text(prose(3, "welcome"))
    code, out, _ = run_cli(capsys, "check", "prompts")
    assert code == 0, out
    lines = out.splitlines()
    assert any("prompts/sub/shipping.prompt (renamed from prompts/sub/faq.prompt)" in ln for ln in lines)
    assert any(ln.startswith("deleted") and "prompts/old.j2" in ln for ln in lines)
    assert any(ln.startswith("new") and "prompts/welcome.md" in ln for ln in lines)
    assert "1 new" in lines[0] and "1 deleted" in lines[0] and "1 renamed" in lines[0]
    report = json.loads(run_cli(capsys, "check", "prompts", "--format", "json")[1])
    statuses = {f["path"]: (f["status"], f.get("renamed_from")) for f in report["files"]}
    assert statuses["prompts/sub/shipping.prompt"] == ("unchanged", "prompts/sub/faq.prompt")
    assert statuses["prompts/old.j2"] == ("deleted", None)
    assert run_cli(capsys, "check", "prompts", "--update")[0] == 0
    assert sorted(load_baseline("promptslim.lock.json").files) == [
        "prompts/chat.json", "prompts/sub/shipping.prompt", "prompts/system.md", "prompts/tiny.txt",
        "prompts/welcome.md"]


def test_rename_with_edit_found_by_git_and_judged_as_an_edit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    git(repo, "mv", "prompts/system.md", "prompts/main.md")
    (repo / "prompts" / "main.md").write_text(prose(20) + prose(6, "returns"))  # +30%: a regression
    git(repo, "commit", "-q", "-am", "rename and grow")
    code, out, _ = run_cli(capsys, "check", "prompts")
    assert code == 1
    line = next(ln for ln in out.splitlines() if ln.startswith("regressed"))
    assert "prompts/main.md (renamed from prompts/system.md)" in line
    code, out, _ = run_cli(capsys, "check", "prompts", "--no-git-renames")
    assert code == 0 and "deleted" in out and "new" in out  # hashes differ, so no pairing without git


def test_new_file_over_budget_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "huge.md").write_text(prose(40, "everything"))
    assert run_cli(capsys, "check", "prompts")[0] == 0
    code, out, _ = run_cli(capsys, "check", "prompts", "--budget", "100")
    assert code == 1
    assert any(ln.startswith("over-budget") and "prompts/huge.md" in ln for ln in out.splitlines())
    (repo / "pyproject.toml").write_text('[tool.promptslim.budgets]\n"prompts/h*.md" = 50\n')
    assert run_cli(capsys, "check", "prompts")[0] == 1


def test_message_file_reports_which_message_grew(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "chat.json").write_text(json.dumps({"messages": [
        {"role": "system", "content": prose(12, "accounts")},
        {"role": "user", "content": "How do I reset my password?"}]}))
    code, out, _ = run_cli(capsys, "check", "prompts")
    assert code == 1
    assert "messages[0] (system)" in out and "messages[1]" not in out


def test_yaml_bare_list_is_a_message_file(repo: Path) -> None:
    (repo / "prompts" / "few.yaml").write_text("- role: system\n  content: Be brief.\n- role: user\n  content: Hi\n")
    (repo / "prompts" / "workflow.yml").write_text("on: push\njobs: {}\n")
    b = build_baseline(["prompts"])
    assert b.files["prompts/few.yaml"].kind == "messages" and len(b.files["prompts/few.yaml"].messages) == 2
    assert "prompts/workflow.yml" not in b.files


def test_explicit_broken_json_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "prompts" / "bad.json").write_text('{"messages": [\n  {"role": "user",\n')
    code, _, err = run_cli(capsys, "baseline", "prompts/bad.json", "-o", "-")
    assert code == 2 and "prompts/bad.json" in err and "invalid JSON" in err
    code, _, err = run_cli(capsys, "baseline", "prompts/nope", "-o", "-")
    assert code == 2 and "prompts/nope: no such file" in err


# --- exit 2: tokenizer mismatch, corrupt baselines -------------------------------------------------------

def test_baseline_from_another_tokenizer_exits_2_with_rebaseline_command(repo: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys, "--model", "gpt-4")  # cl100k_base
    code, out, err = run_cli(capsys, "check", "prompts", "--model", "gpt-4o")
    assert code == 2 and out == ""
    assert "cl100k_base" in err and "o200k_base" in err
    assert "promptslim baseline prompts -o promptslim.lock.json --model gpt-4o" in err
    assert run_cli(capsys, "check", "prompts")[0] == 0  # the baseline's own model is the default


def test_other_tiktoken_version_exits_2_unless_ignored(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    lock = repo / "promptslim.lock.json"
    data = json.loads(lock.read_text())
    data["tokenizer"]["tiktoken"] = "0.0.1"
    lock.write_text(json.dumps(data))
    code, _, err = run_cli(capsys, "check", "prompts")
    assert code == 2 and "tiktoken 0.0.1" in err and "--ignore-tiktoken-version" in err
    assert run_cli(capsys, "check", "prompts", "--ignore-tiktoken-version")[0] == 0


def test_truncated_baseline_exits_2_with_clear_message(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    lock = repo / "promptslim.lock.json"
    text = lock.read_text()
    lock.write_text(text[: len(text) // 2])
    code, out, err = run_cli(capsys, "check", "prompts")
    assert code == 2 and out == ""
    assert "promptslim.lock.json" in err and "not valid JSON" in err and "truncated" in err
    assert "promptslim baseline" in err


@pytest.mark.parametrize("content, expect", [
    ("", "empty"),
    ("<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> x\n", "merge-conflict"),
    ('{"format": "promptslim-baseline", "version": 1}', "'tokenizer' is a required property"),
    ('[1, 2]', "not a valid promptslim baseline"),
    ('{"format": "promptslim-baseline", "version": 99}', "newer than this promptslim"),
])
def test_corrupt_baselines_exit_2(repo: Path, capsys: pytest.CaptureFixture[str], content: str, expect: str) -> None:
    (repo / "promptslim.lock.json").write_text(content)
    code, _, err = run_cli(capsys, "check", "prompts")
    assert code == 2 and expect in err, err


def test_hand_edited_totals_and_missing_baseline_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", "prompts")
    assert code == 2 and "no baseline file" in err and "promptslim baseline" in err
    make_baseline(capsys)
    lock = repo / "promptslim.lock.json"
    data = json.loads(lock.read_text())
    data["files"]["prompts/system.md"]["tokens"] += 500
    lock.write_text(json.dumps(data))
    code, _, err = run_cli(capsys, "check", "prompts")
    assert code == 2 and "do not match" in err


# --- --base-ref ------------------------------------------------------------------------------------------

def test_base_ref_regression_deletion_and_new_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "prompts" / "system.md").write_text(prose(30))
    (repo / "prompts" / "tiny.txt").unlink()
    (repo / "prompts" / "extra.prompt").write_text("You are a helpful bot.\n")
    code, out, _ = run_cli(capsys, "check", "prompts", "--base-ref", "HEAD")
    assert code == 1
    lines = out.splitlines()
    assert any(ln.startswith("regressed") and "prompts/system.md" in ln for ln in lines)
    assert any(ln.startswith("deleted") and "prompts/tiny.txt" in ln for ln in lines)
    assert any(ln.startswith("new") and "prompts/extra.prompt" in ln for ln in lines)
    assert not any("config.json" in ln for ln in lines)


def test_base_ref_rename_detected_by_git_and_missing_folder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "mv", "prompts/sub", "prompts/help")
    git(repo, "commit", "-q", "-m", "move")
    code, out, _ = run_cli(capsys, "check", "prompts", "--base-ref", "HEAD~1")
    assert code == 0 and "prompts/help/faq.prompt (renamed from prompts/sub/faq.prompt)" in out
    code, out, _ = run_cli(capsys, "check", "prompts/sub", "--base-ref", "HEAD~1")  # folder gone: all deleted
    assert code == 0 and "1 deleted" in out


def test_base_ref_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", "prompts", "--base-ref", "origin/nope")
    assert code == 2 and "unknown git revision 'origin/nope'" in err and "fetch-depth" in err
    code, _, err = run_cli(capsys, "check", "prompts", "--base-ref", "HEAD", "--update")
    assert code == 2 and "--update" in err


# --- output formats --------------------------------------------------------------------------------------

def test_github_format_annotates_and_writes_step_summary(repo: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    make_baseline(capsys)
    summary = repo.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (repo / "prompts" / "system.md").write_text(prose(30))
    (repo / "prompts" / "sub" / "faq.prompt").write_text(prose(5, "shipping"))
    code, out, _ = run_cli(capsys, "check", "prompts", "--format", "github")
    assert code == 1
    errors = [ln for ln in out.splitlines() if ln.startswith("::error ")]
    assert len(errors) == 1 and "file=prompts/system.md," in errors[0] and "%2C" not in errors[0].split("::")[2]
    md = summary.read_text()
    assert "### promptslim check: failed" in md and "| **regressed** | `prompts/system.md` |" in md
    assert "| improved | `prompts/sub/faq.prompt` |" in md


def test_markdown_and_json_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "system.md").write_text(prose(30))
    code, out, _ = run_cli(capsys, "check", "prompts", "--format", "markdown")
    assert code == 1 and out.startswith("### promptslim check: failed") and "|---|---|---:|---:|---:|" in out
    code, out, _ = run_cli(capsys, "check", "prompts", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["exit_code"] == 1 and data["counts"]["regressed"] == 1
    assert data["thresholds"] == {"max_increase_pct": 5.0, "min_increase_tokens": 20, "budget": None,
                                  "budgets": {}}


def test_annotations_are_capped_and_escaped(repo: Path) -> None:
    tok = get_tokenizer()
    old = Baseline(tok.identity, "gpt-4o", {f"p,{i}.md": FileRecord(f"p,{i}.md", 100, "0" * 64) for i in range(15)})
    new = Baseline(tok.identity, "gpt-4o", {f"p,{i}.md": FileRecord(f"p,{i}.md", 200, "1" * 64) for i in range(15)})
    out = format_github(check_against_baseline(old, new))
    errors = [ln for ln in out.splitlines() if ln.startswith("::error")]
    assert len(errors) == 10 and all("file=p%2C" in ln for ln in errors)
    assert "5 more failing file(s)" in out


def test_cli_subprocess_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "system.md").write_text(prose(30))
    proc = subprocess.run([sys.executable, "-m", "promptslim", "check", "prompts"], cwd=repo,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "prompts/system.md" in proc.stdout


def test_project_lock_file_is_valid() -> None:
    lock = load_baseline(REPO / "promptslim.lock.json")
    assert lock.files and all(k.startswith(("promptslim/examples/", "examples/")) for k in lock.files)


def test_config_and_percent_parsing(tmp_path: Path) -> None:
    assert parse_percent("5%") == parse_percent("5") == parse_percent(5) == 5.0
    for bad in ("five", "-1%", "nan"):
        with pytest.raises(Exception, match="percentage"):
            parse_percent(bad)
    (tmp_path / "pyproject.toml").write_text('[tool.promptslim]\nmin-increase-tokens = "x"\n')
    with pytest.raises(Exception, match="min-increase-tokens must be a whole number"):
        load_config(tmp_path)
    sub = tmp_path / "pkg" / "src"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text(
        '[tool.promptslim]\npaths = ["prompts"]\nbaseline = "locks/p.json"\nmax-increase = 7.5\n'
        'budget = 900\n[tool.promptslim.budgets]\n"a/*" = 10\n')
    cfg = load_config(sub)
    assert cfg.max_increase_pct == 7.5 and cfg.budget == 900 and cfg.budgets == (("a/*", 10),)
    assert Path(cfg.baseline or "").resolve() == (tmp_path / "pkg" / "locks" / "p.json").resolve()
    assert [Path(p).resolve() for p in cfg.paths] == [(tmp_path / "pkg" / "prompts").resolve()]


# --- properties ------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(0, 500, allow_nan=False), st.integers(0, 1000))
def test_regressed_iff_past_both_thresholds(before: int, after: int, pct: float, min_tokens: int) -> None:
    t = Thresholds(pct, min_tokens)
    delta = after - before
    expected = delta > 0 and delta >= min_tokens and (before == 0 or delta / before * 100 > pct)
    assert t.regressed(before, after) == expected
    if t.regressed(before, after):
        assert t.regressed(before, after + 1)  # monotone in growth


records = st.builds(
    lambda n, h, msgs: (n, h, msgs),
    st.integers(0, 10**6), st.text("0123456789abcdef", min_size=64, max_size=64),
    st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), st.integers(0, 5000)), max_size=4))
paths = st.text("abcxyz/._- é", min_size=1, max_size=20).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(paths, records, max_size=8), st.data())
def test_baseline_json_roundtrips_and_any_truncation_is_rejected(files: dict, data: st.DataObject) -> None:
    recs = {}
    for p, (n, h, msgs) in files.items():
        if msgs:
            m = tuple(MessageRecord(i, r, k) for i, (r, k) in enumerate(msgs))
            recs[p] = FileRecord(p, sum(k for _, k in msgs) + 3, h, "messages", 0.001, m)
        else:
            recs[p] = FileRecord(p, n, h, "text", 0.5)
    b = Baseline(get_tokenizer().identity, "gpt-4o", recs)
    text = dumps_baseline(b)
    assert loads_baseline(text) == b and dumps_baseline(loads_baseline(text)) == text
    cut = data.draw(st.integers(0, len(text.rstrip()) - 1))
    with pytest.raises(BaselineError):
        loads_baseline(text[:cut])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), st.text(max_size=200)), min_size=1,
                max_size=5))
def test_per_message_counts_sum_to_the_request(tmp_path_factory: pytest.TempPathFactory, msgs: list) -> None:
    folder = tmp_path_factory.mktemp("m")
    path = folder / "chat.json"
    path.write_text(json.dumps([{"role": r, "content": c} for r, c in msgs]))
    rec = build_baseline([path], root=folder).files["chat.json"]
    assert sum(m.tokens for m in rec.messages) + 3 == rec.tokens
    assert rec.tokens == get_tokenizer().count_messages([{"role": r, "content": c} for r, c in msgs])


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(paths, st.tuples(st.integers(0, 5000), st.sampled_from(["a", "b", "c", "d"])), max_size=8),
       st.dictionaries(paths, st.tuples(st.integers(0, 5000), st.sampled_from(["a", "b", "c", "d"])), max_size=8))
def test_check_invariants(old_files: dict, new_files: dict) -> None:
    ident = get_tokenizer().identity

    def mk(files: dict) -> Baseline:
        return Baseline(ident, "gpt-4o", {p: FileRecord(p, n, h * 64) for p, (n, h) in files.items()})

    old, new = mk(old_files), mk(new_files)
    assert check_against_baseline(old, old).counts() == ({"unchanged": len(old.files)} if old.files else {})
    report = check_against_baseline(old, new)
    renames = pair_renames(old, new)
    assert all(old.files[o].sha256 == new.files[n].sha256 for n, o in renames.items())
    assert len(set(renames.values())) == len(renames)
    # every current file is reported once; every old file is either still there, renamed, or deleted
    assert sorted(d.path for d in report.deltas if d.status != "deleted") == sorted(new.files)
    assert {d.path for d in report.by_status("deleted")} == set(old.files) - set(new.files) - set(renames.values())
    assert report.tokens_after == new.tokens
    assert report.exit_code == (1 if any(d.failed for d in report.deltas) else 0)
    # --update never lets a file's recorded count grow, and is a fixed point
    ratcheted = ratchet_baseline(old, new, report)
    for d in report.deltas:
        if d.path in ratcheted.files and d.before is not None:
            assert ratcheted.files[d.path].tokens <= d.before
    again = check_against_baseline(ratcheted, new)
    assert ratchet_baseline(ratcheted, new, again) == ratcheted


def test_mismatched_tokenizer_in_library_api() -> None:
    a = Baseline(get_tokenizer("gpt-4").identity, "gpt-4", {})
    b = Baseline(get_tokenizer("gpt-4o").identity, "gpt-4o", {})
    with pytest.raises(TokenizerMismatchError, match="not comparable"):
        check_against_baseline(a, b)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | st.text(max_size=5)
    | st.just("a" * 64) | st.just("text") | st.just("messages"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["tokens", "sha256", "kind", "cost_per_call_usd", "messages", "index", "role", "x"]), inner, max_size=6),
    max_leaves=12)
entries = st.fixed_dictionaries(
    {"tokens": st.integers(0, 99) | json_values, "sha256": st.just("0" * 64) | json_values,
     "kind": st.sampled_from(["text", "messages"]) | json_values},
    optional={"cost_per_call_usd": st.floats(0, 1) | json_values,
              "messages": st.lists(st.fixed_dictionaries({"index": st.integers(0, 3) | json_values,
                                                          "role": st.text(max_size=3) | json_values,
                                                          "tokens": st.integers(0, 9) | json_values}),
                                   max_size=3) | json_values})


@settings(max_examples=400, deadline=None)
@given(entries | json_values)
def test_fast_entry_check_never_accepts_what_the_schema_rejects(entry: object) -> None:
    from promptslim.gate_baseline import _validator, entry_is_valid

    if entry_is_valid(entry):
        doc = {"format": "promptslim-baseline", "version": 1, "model": "m", "tokenizer": {"encoding": "e",
               "tiktoken": "1"}, "totals": {"files": 1, "tokens": 0}, "files": {"p": entry}}
        assert not list(_validator().iter_errors(doc))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 400_000), max_size=6),
       st.sampled_from(["gpt-4o", "gpt-4", "claude-sonnet-4-5", "gemini-2.5-pro"]))
def test_batch_pricing_equals_per_file_pricing(counts: list[int], model: str) -> None:
    from promptslim.gate_files import cost_per_call, costs_per_call

    assert costs_per_call(counts, model) == [cost_per_call(n, model) for n in counts]


def test_checking_some_files_leaves_the_rest_alone(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_baseline(capsys)
    (repo / "prompts" / "sub" / "faq.prompt").write_text(prose(5, "shipping"))
    code, out, _ = run_cli(capsys, "check", "prompts/sub/faq.prompt", "prompts/tiny.txt", "--update")
    assert code == 0 and "deleted" not in out and out.splitlines()[0].endswith("2 files: 1 improved, 1 unchanged")
    after = load_baseline("promptslim.lock.json")
    assert len(after.files) == 5 and after.files["prompts/sub/faq.prompt"].tokens == get_tokenizer().count(
        prose(5, "shipping"))
    assert run_cli(capsys, "check", "prompts")[1].splitlines()[0] == "promptslim check: 5 files: 5 unchanged"


def test_base_ref_reuses_counts_only_for_identical_content(repo: Path) -> None:
    from promptslim.gate import check_paths
    from promptslim.gate_baseline import baseline_from_sources
    from promptslim.gate_git import sources_at_ref

    (repo / "prompts" / "system.md").write_text(prose(25))
    (repo / "prompts" / "chat.json").write_text(json.dumps([{"role": "user", "content": "Hi"}]))
    outcome = check_paths(["prompts"], base_ref="HEAD")
    fresh = baseline_from_sources(sources_at_ref("HEAD", ["prompts"], repo), get_tokenizer("gpt-4o"), "gpt-4o")
    assert outcome.baseline == fresh
    assert fresh.files["prompts/system.md"].tokens == get_tokenizer().count(prose(20))


def test_crlf_checkout_counts_and_hashes_like_lf(tmp_path: Path) -> None:
    (tmp_path / "lf.md").write_bytes(prose(6).encode())
    (tmp_path / "crlf.md").write_bytes(prose(6).replace("\n", "\r\n").encode())
    files = build_baseline([tmp_path], root=tmp_path).files
    assert files["lf.md"].tokens == files["crlf.md"].tokens and files["lf.md"].sha256 == files["crlf.md"].sha256
