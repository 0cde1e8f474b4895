"""The lint engine and its non-compression rules: positions, thresholds, suppressions, config, discovery."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptslim.errors import InputError
from promptslim.lint import LintConfig, lint_paths, lint_text, load_config
from promptslim.lint.config import find_config, with_overrides
from promptslim.lint.document import line_starts
from promptslim.lint.files import iter_files
from promptslim.lint.findings import line_col

STATIC = ("You are a support assistant for Acme Cloud. Answer questions about billing, accounts, outages, "
          "plans, invoices and refunds using the documentation, and escalate to a human when unsure. ") * 3


def codes(findings: list) -> list[str]:
    return [f.code for f in findings]


# --- positions -----------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n", max_size=60), st.data())
def test_line_col_matches_naive_count(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(text)))
    line, col = line_col(line_starts(text), offset)
    before = text[:offset]
    assert line == before.count("\n") + 1
    assert col == len(before) - (before.rfind("\n") + 1) + 1


def test_finding_points_at_the_dynamic_span() -> None:
    text = "# Title\n\nToday is 2026-11-22.\n" + STATIC
    [f] = lint_text(text, select=["PS201"])
    assert (f.line, f.col) == (3, 10)
    assert text[f.start:f.end] == "2026-11-22"
    assert f.fix is not None and f.fix.applicability == "unsafe"
    assert f.detail["static_tokens_after"] >= 50


# --- cache rules ---------------------------------------------------------------------------------

def test_ps201_needs_static_text_after_the_dynamic_span() -> None:
    assert lint_text(STATIC + "\nToday is 2026-11-22.", select=["PS201"]) == []
    assert codes(lint_text("Today is 2026-11-22.\n" + STATIC, select=["PS201"])) == ["PS201"]


def test_ps201_fix_moves_dynamic_content_after_static_text() -> None:
    from promptslim.lint import fix_text

    res = fix_text("Today is 2026-11-22.\n" + STATIC, select=["PS201"], unsafe=True)
    assert res.value.startswith("You are a support assistant")
    assert "Today is 2026-11-22." in res.value
    assert lint_text(res.value, select=["PS201"]) == []
    assert fix_text("Today is 2026-11-22.\n" + STATIC, select=["PS201"]).value.startswith("Today")  # unsafe only


def test_ps202_reports_prefix_below_minimum_as_info() -> None:
    long_static = STATIC * 12  # well over 1,024 tokens
    [f] = lint_text("Today is 2026-11-22.\n" + long_static, select=["PS202"])
    assert f.severity == "info" and f.detail["minimum"] == 1024
    assert "dynamic content ends it early" in f.message
    assert lint_text(long_static, select=["PS202"]) == []  # whole prefix cacheable
    assert lint_text("Be brief.", select=["PS202"]) == []  # far below: nothing actionable
    # Anthropic Opus 4.5 needs 4,096 tokens
    assert lint_text(STATIC * 25, select=["PS202"], model="claude-opus-4-5")[0].detail["minimum"] == 4096


def test_ps203_flags_unsorted_tools_in_message_files() -> None:
    doc = {"tools": [{"type": "function", "function": {"name": "search"}},
                     {"type": "function", "function": {"name": "cancel"}}],
           "messages": [{"role": "system", "content": "Answer briefly."}]}
    text = json.dumps(doc, indent=1)
    [f] = lint_text(text, kind="json", select=["PS203"])
    assert "not sorted by name" in f.message and f.fix is None
    assert text[f.start:].startswith('"cancel"')  # points at the first tool out of order
    assert lint_text(json.dumps(doc), select=["PS203"]) == []  # text files: not a chat file


def test_ps203_sorts_json_keys_in_message_content_as_unsafe_fix() -> None:
    from promptslim.lint import fix_text

    content = 'Context: {"user": "ann", "plan": "pro"}\nAnswer in one sentence.'
    text = json.dumps({"messages": [{"role": "system", "content": content}]})
    [f] = lint_text(text, kind="json", select=["PS203"])
    assert f.fix is not None and f.fix.applicability == "unsafe"
    fixed = json.loads(fix_text(text, kind="json", select=["PS203"], unsafe=True).value)
    assert fixed["messages"][0]["content"] == 'Context: {"plan": "pro", "user": "ann"}\nAnswer in one sentence.'


# --- structure rules -----------------------------------------------------------------------------

FEW_SHOT = "Classify the sentiment of the review as positive or negative.\n\n" + "".join(
    f"Q: Review number {i}: the food was {'great and the staff were lovely' if i % 2 else 'cold and late'}.\n"
    f"A: {'positive' if i % 2 else 'negative'}\n\n" for i in range(12)) + "Q: {review}\nA:"


def test_ps301_few_shot_share() -> None:
    [f] = lint_text(FEW_SHOT, select=["PS301"])
    assert f.detail["share"] > 0.5 and f.detail["examples"] >= 12
    assert (f.line, f.col) == (3, 1)
    cfg = LintConfig(options={"PS301": {"max_share": 0.99}})
    assert lint_text(FEW_SHOT, select=["PS301"], config=cfg) == []
    assert lint_text("Q: what?\nA: that.", select=["PS301"]) == []  # under min_example_tokens


def test_ps301_counts_example_turns_in_message_files() -> None:
    msgs = [{"role": "system", "content": "Classify sentiment."}]
    for i in range(10):
        msgs += [{"role": "user", "content": f"The service at branch {i} was slow and the food arrived cold."},
                 {"role": "assistant", "content": "negative"}]
    msgs.append({"role": "user", "content": "{review}"})
    [f] = lint_text(json.dumps({"messages": msgs}), kind="json", select=["PS301"])
    assert f.detail["examples"] == 10


def test_ps302_pretty_json_fix_is_minified_and_equal() -> None:
    text = 'Answer as JSON like this:\n\n{\n    "name": "Ada",\n    "tags": [\n        "a",\n        "b"\n    ]\n}\n'
    [f] = lint_text(text, select=["PS302"])
    assert f.fix is not None and f.fix.applicability == "unsafe"
    (edit,) = f.fix.edits
    assert json.loads(edit.content) == {"name": "Ada", "tags": ["a", "b"]}
    assert f.tokens_saved and f.tokens_saved > 0
    assert lint_text('Answer as JSON: {"name": "Ada"}', select=["PS302"]) == []  # already compact


def test_ps302_schema_mentions_compact_schema() -> None:
    text = (REPO / "promptslim" / "examples" / "support_agent.prompt").read_text(encoding="utf-8")
    [f] = lint_text(text, select=["PS302"])
    assert "JSON Schema" in f.message
    assert f.detail["minified_tokens"] < f.detail["pretty_tokens"]


def test_ps303_output_constraint() -> None:
    vague = "You are a travel guide. Tell the user about the places they ask about and their history and food."
    [f] = lint_text(vague, select=["PS303"])
    assert (f.line, f.col) == (1, 1)
    for fixed in (vague + " Answer in at most 3 sentences.", vague + " Reply in JSON.", vague + " Be concise."):
        assert lint_text(fixed, select=["PS303"]) == []
    assert lint_text("Translate.", select=["PS303"]) == []  # too short to judge


# --- budget rules --------------------------------------------------------------------------------

def test_ps401_budget_from_config_globs(tmp_path: Path) -> None:
    (tmp_path / "promptslim.toml").write_text('budgets = {"big/*" = 5000, "*" = 20}\n', encoding="utf-8")
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "a.prompt").write_text(STATIC, encoding="utf-8")
    (tmp_path / "b.prompt").write_text(STATIC, encoding="utf-8")
    cfg = with_overrides(load_config(tmp_path / "promptslim.toml"), select=["PS401"])
    run = lint_paths([tmp_path], cfg)
    flagged = {Path(f.path).name: f for f in run.findings}
    assert set(flagged) == {"b.prompt"}
    assert flagged["b.prompt"].detail["budget"] == 20


def test_ps402_cost_threshold() -> None:
    cfg = LintConfig(options={"PS402": {"max_usd_per_1k_calls": 0.01}})
    [f] = lint_text(STATIC, select=["PS402"], config=cfg)
    assert f.detail["usd_per_1k_calls"] > 0.01 and f.detail["model"] == "gpt-4o"
    assert lint_text(STATIC, select=["PS402"]) == []  # default $10 threshold


# --- suppression and config ----------------------------------------------------------------------

def test_jinja_comment_suppresses_codes_on_next_line_or_whole_file() -> None:
    body = "{# promptslim: ignore[PS201] #}\nToday is {{ today }}, 2026-11-22.\n" + STATIC
    assert lint_text(body, kind="jinja", select=["PS201"]) == []
    assert codes(lint_text(body.replace("PS201", "PS102"), kind="jinja", select=["PS201"])) == ["PS201"]
    assert lint_text("{# promptslim: ignore-file #}\n" + body[33:], kind="jinja", select=["PS201"]) == []
    assert lint_text(body, kind="text", select=["PS201"]) != []  # only templates render comments away


def test_jinja_tags_are_protected_from_fixes() -> None:
    text = "{% if x %}\n{\n  \"a\": 1,\n  \"b\": [1, 2, 3]\n}\n{% endif %}\n"
    for f in lint_text(text, kind="jinja", select=["ALL"]):
        if f.fix:
            for e in f.fix.edits:
                assert "{%" not in text[e.start:e.end]


def test_config_from_pyproject_with_lint_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.promptslim]\nmodel = "gpt-4o-mini"\nbaseline = "other-tools-key"\n'
        '[tool.promptslim.lint]\nselect = ["PS3"]\nignore = ["PS303"]\n'
        'per-file-ignores = {"legacy/*" = ["PS302"]}\n'
        '[tool.promptslim.lint.options.PS301]\nmax_share = 0.3\n', encoding="utf-8")
    sub = tmp_path / "legacy"
    sub.mkdir()
    assert find_config(sub) == tmp_path / "pyproject.toml"
    cfg = load_config(find_config(sub))
    assert cfg.model == "gpt-4o-mini"
    assert [r.code for r in cfg.rules()] == ["PS301", "PS302"]
    assert cfg.ignored_codes(sub / "x.prompt") == {"PS302"}
    assert cfg.ignored_codes(tmp_path / "x.prompt") == set()
    assert cfg.option(next(r for r in cfg.rules() if r.code == "PS301"), "max_share") == 0.3


@pytest.mark.parametrize("body, match", [
    ('[tool.promptslim.lint]\nselct = ["PS1"]\n', "did you mean 'select'"),
    ('[tool.promptslim.lint]\nselect = ["PS9"]\n', "matches no rule"),
    ('[tool.promptslim]\nbudgets = {"*" = -1}\n', "budget for"),
    ('[tool.promptslim.lint.options.PS301]\nmax_shar = 1\n', "no option"),
    ('[tool.promptslim.lint.options.PS301]\nmax_share = "x"\n', "must be a number"),
    ("[tool.promptslim\n", "invalid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, body: str, match: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=match) as exc:
        load_config(path)
    assert str(path) in str(exc.value)


def test_flags_override_config(tmp_path: Path) -> None:
    path = tmp_path / "promptslim.toml"
    path.write_text('select = ["PS3"]\nmodel = "gpt-4o-mini"\n', encoding="utf-8")
    cfg = with_overrides(load_config(path), select=["PS401"], model="gpt-4.1", ignore=[])
    assert [r.code for r in cfg.rules()] == ["PS401"] and cfg.model == "gpt-4.1"


# --- discovery -----------------------------------------------------------------------------------

def test_walk_honours_gitignore_exclude_and_suffixes(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored/\n*.secret.txt\n!keep.secret.txt\n", encoding="utf-8")
    for rel in ("a.prompt", "b.md", "c.j2", "d.json", "e.yml", "f.py", "ignored/g.txt", "x.secret.txt",
                "keep.secret.txt", "node_modules/h.txt", "vendor/i.txt", "sub/.gitignore", "sub/j.txt", "sub/k.txt"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("hello\n" if not rel.endswith(".gitignore") else "j.txt\n", encoding="utf-8")
    cfg = LintConfig(root=tmp_path, exclude=("vendor/",))
    found = [p.relative_to(tmp_path).as_posix() for p, _ in iter_files([tmp_path], cfg)]
    assert found == ["a.prompt", "b.md", "c.j2", "d.json", "e.yml", "keep.secret.txt", "sub/k.txt"]
    # named explicitly: .gitignore does not apply, exclude does
    explicit = [p.name for p, _ in iter_files([tmp_path / "x.secret.txt", tmp_path / "vendor" / "i.txt"], cfg)]
    assert explicit == ["x.secret.txt"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(iter_files([tmp_path / "nope.prompt"], LintConfig(root=tmp_path)))


def test_lint_is_deterministic(tmp_path: Path) -> None:
    text = (REPO / "promptslim" / "examples" / "support_agent.prompt").read_text(encoding="utf-8")
    assert lint_text(text) == lint_text(text)


REPO = Path(__file__).resolve().parents[1]


def test_example_prompt_shows_a_variety_of_findings() -> None:
    """The README's main-job command: `promptslim lint promptslim/examples/support_agent.prompt`."""
    run = lint_paths([REPO / "promptslim" / "examples" / "support_agent.prompt"], LintConfig(root=REPO))
    found = set(codes(run.findings))
    assert {"PS201", "PS302"} <= found
    assert len({c[:3] for c in found}) >= 2
    assert run.exit_code() == 1
    assert os.environ.get("PROMPTSLIM_SHARED_DATA", "x")  # no shared data needed


# --- compression rules (PS101-PS105) and the rule records' own examples -------------------------

def test_ps101_to_ps105_on_the_bundled_example() -> None:
    text = (REPO / "promptslim" / "examples" / "support_agent.prompt").read_text(encoding="utf-8")
    found = lint_text(text, select=["PS1"])
    assert {"PS101", "PS102", "PS103", "PS104", "PS105"} <= set(codes(found))
    for f in found:
        assert f.fix is not None and f.tokens_saved is not None and f.tokens_saved >= 1
        assert text[f.start:f.end]  # points at real text
    by_code = {f.code: f for f in found}
    assert by_code["PS103"].fix.applicability == "unsafe"  # type: ignore[union-attr]
    assert by_code["PS104"].fix.applicability == "safe"  # type: ignore[union-attr]
    safe101 = [f for f in found if f.code == "PS101" and f.fix and f.fix.applicability == "safe"]
    assert any("in order to" in f.message for f in safe101)


def test_compression_fixes_never_touch_protected_spans() -> None:
    text = ("In order to help, please make sure to read https://docs.example.com/in-order-to and `in order to`.\n"
            "Due to the fact that {user} pays $500, reply in 3 sentences.\n")
    for f in lint_text(text, select=["PS1"]):
        assert f.fix is not None
        for e in f.fix.edits:
            for protected in ("https://docs.example.com/in-order-to", "`in order to`", "{user}", "$500", "3 sentences"):
                p = text.index(protected)
                assert e.end <= p or e.start >= p + len(protected), (f, protected)


@pytest.mark.parametrize("code", ["PS101", "PS102", "PS103", "PS104", "PS105", "PS303"])
def test_rule_examples_trigger_their_rule_and_fixed_examples_do_not(code: str) -> None:
    from promptslim.lint.rules import get_rule

    rule = get_rule(code)
    assert code in codes(lint_text(rule.example + "\n", select=[code])), rule.example
    assert code not in codes(lint_text(rule.fixed + "\n", select=[code])), rule.fixed


@pytest.mark.parametrize("code", ["PS101", "PS102", "PS103", "PS104", "PS105"])
def test_rule_example_fix_gives_the_documented_result(code: str) -> None:
    from promptslim.lint import fix_text
    from promptslim.lint.rules import get_rule

    rule = get_rule(code)
    out = fix_text(rule.example + "\n", select=[code], unsafe=True).value
    assert out.strip() == rule.fixed.strip()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abZ1 \n\t.#-'\u00e9\u4e2d\u0301", max_size=80), st.sampled_from(["o200k_base", "cl100k_base"]),
       st.data())
def test_windowed_token_saving_equals_whole_text_recount(text: str, encoding: str, data: st.DataObject) -> None:
    from promptslim.lint.config import LintConfig
    from promptslim.lint.document import Document, Segment
    from promptslim.lint.engine import Context, apply_edits
    from promptslim.tokens import get_tokenizer

    tok = get_tokenizer(encoding=encoding)
    ctx = Context(Document("x", text, "text", (Segment(text),)), tok, LintConfig())
    edits = []
    pos = 0
    for _ in range(data.draw(st.integers(1, 3))):
        if pos > len(text):
            break
        a = data.draw(st.integers(pos, len(text)))
        b = data.draw(st.integers(a, len(text)))
        edits.append((a, b, data.draw(st.text(alphabet="ab 'Z\n", max_size=4))))
        pos = b + 1
    whole = tok.count(text) - tok.count(apply_edits(text, edits))
    assert ctx.saved_by(text, edits) == whole
