"""compress_prompt and its passes: behaviour, invariants (hypothesis), the CLI, bad input."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import promptslim
from promptslim import compress_prompt
from promptslim.cli import main as cli_main
from promptslim.compress_kit import Edit, apply_edits, is_sentence_start
from promptslim.compress_passes import PASS_ORDER, PASSES
from promptslim.errors import InputError
from promptslim.eval.metrics import fact_retention
from promptslim.result import Change
from promptslim.spans import find_protected_spans
from promptslim.tokens import get_tokenizer

TOK = get_tokenizer()


def value(text: str, level: str = "balanced", **kw: object) -> str:
    return compress_prompt(text, level=level, **kw).value  # type: ignore[arg-type]


# the balanced passes without article dropping, for tests of the other passes' own behaviour
NO_ARTICLES = tuple(p for p in PASS_ORDER["balanced"] if p != "articles")


# ---- API and registry -----------------------------------------------------------------------------

def test_public_api() -> None:
    assert promptslim.compress_prompt is compress_prompt
    assert set(promptslim.COMPRESSION_PASSES) == {"layout", "markup", "verbose", "filler", "role_adjectives", "articles",
                                                  "duplicates", "prune"}
    assert callable(promptslim.find_protected_spans)
    for order in PASS_ORDER.values():
        assert set(order) <= set(PASSES)


@pytest.mark.parametrize("name", sorted(PASSES))
def test_pass_changes_are_spans_of_the_pass_input(name: str) -> None:
    text = ("I want you to act as a highly experienced, world-class, expert consultant.  \n\n\n\n"
            "In order to help, please note that the answer must be short. Thank you!\n"
            "Keep every answer under the word limit please.\nKeep every answer under the word limit please.\n"
            "- \U0001F680 the *final* answer, e.g., a poem\n")
    new, changes = PASSES[name](text, find_protected_spans(text), TOK, level="aggressive")
    assert changes, name
    out, pos = [], 0
    for c in changes:
        assert c.span is not None and pos <= c.span[0] <= c.span[1]
        assert text[c.span[0]:c.span[1]] == c.before
        out += [text[pos:c.span[0]], c.after]
        pos = c.span[1]
        assert c.rule == name and c.tokens_saved >= 0
    assert "".join(out) + text[pos:] == new


def test_result_changes_replay_to_the_output() -> None:
    text = ("Hello, could you please write a poem?  \n\n\n\nIn order to rhyme, use short lines.\n"
            "It is important to note that the poem must be funny.\n")
    res = compress_prompt(text, level="aggressive")
    groups: dict[str, list[Change]] = defaultdict(list)
    for c in res.changes:
        groups[c.location].append(c)
    cur = text
    for loc in sorted(groups, key=lambda s: int(s.split()[1])):
        out, pos = [], 0
        for c in groups[loc]:
            assert c.span is not None
            out += [cur[pos:c.span[0]], c.after]
            pos = c.span[1]
        cur = "".join(out) + cur[pos:]
    assert cur == res.value
    assert res.savings.before == TOK.count(text) and res.savings.after == TOK.count(res.value)


# ---- passes ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In order to win, try.", "To win, try."),
        ("Use it in order to win.", "Use it to win."),
        ("IN ORDER TO WIN", "TO WIN"),
        ("Due to the fact that it rains, stay in.", "Because it rains, stay in."),
        ("It is important to note that the sky is blue.", "The sky is blue."),
        ("Make use of the prior to step.", "Use the before step."),
    ],
)
def test_verbose_rewrites_keep_case(text: str, expected: str) -> None:
    assert value(text, passes=NO_ARTICLES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please write a poem.", "Write a poem."),
        ("Write a poem, please.", "Write a poem."),
        ("Write it. Please, keep it short.", "Write it. Keep it short."),
        ("I would like you to summarize this text.", "Summarize this text."),
        ("Hello, could you please translate it?", "Translate it?"),
        ("Summarize the text.\nThank you!\nBe brief.", "Summarize the text.\nBe brief."),
        ("Your task is to review the code.", "Review the code."),
        ("We aim to please the client.", "We aim to please the client."),   # a verb, not politeness
        ("Your task is to:\n- review", "Your task is to:\n- review"),        # a label, not filler
    ],
)
def test_filler_removal_is_clean(text: str, expected: str) -> None:
    out = value(text, passes=NO_ARTICLES)
    assert out == expected
    assert "  " not in out


def test_filler_and_verbose_only_from_balanced() -> None:
    assert value("Please write it.", "safe") == "Please write it."
    assert value("In order to win, try.", "safe") == "To win, try."


def test_negations_and_constraints_stay_with_their_clause() -> None:
    text = "Please do not, in order to save time, skip tests. You must only reply with JSON. Never use please."
    out = value(text, "aggressive")
    for kept in ("do not, in order to save time", "must only reply with", "never use please"):
        assert kept in out.lower()
    assert fact_retention(text, value(text)) == 1.0


def test_list_item_starts_are_sentence_starts_but_names_stay() -> None:
    # the first word of a list item or heading starts a sentence (fact checks agree); a capitalised
    # word inside the item is a name and stays
    for text, want in (("- Make a list of the key points.", "- List the key points."),
                       ("## Make a list of the key points", "## List the key points"),
                       ("Make a list of the key points.", "List the key points.")):
        assert value(text) == want
        assert fact_retention(text, want) in (None, 1.0)
    text = "- Ask Make A List Ltd. to make a list of the key points."
    assert "Make A List Ltd." in value(text) and fact_retention(text, value(text)) == 1.0


def test_layout() -> None:
    text = "---\nname: x\n---\n# **Title**  \n\n\n\nText  with   spaces.\t\n\n***\n\nMore\n=====\n\n- **Scope:** all\n"
    out = value(text, "balanced")
    assert out == "---\nname: x\n---\n# Title\n\nText with spaces.\n\nMore\n=====\n\n- Scope: all\n"


def test_markup_by_level() -> None:
    text = ("## \U0001F3AF Goal \U0001F680\n- \u2705 Do this\n- \u274c Not that\n- \U0001F1EB\U0001F1F7 French\n"
            "- \U0001F525 **Fast** and *clean*, e.g., quick\n| a | b |\n| --- | :---: |\n| 1 | 2 |\n"
            "**Never share** keys.\n")
    safe, balanced, aggressive = (value(text, lv) for lv in ("safe", "balanced", "aggressive"))
    assert "|-|:-:|" in safe and "e.g. quick" in safe and "\U0001F3AF" in safe
    # decorative emoji go at balanced; check marks, crosses and flags carry meaning and stay
    assert balanced.startswith("## Goal\n- \u2705 Do this\n- \u274c Not that\n- \U0001F1EB\U0001F1F7 French\n- **Fast**")
    # emphasis, bullets and heading marks go at aggressive; emphasis on a constraint stays
    assert aggressive.startswith("Goal\n\u2705 Do this\n\u274c Not that\n") and "Fast and clean" in aggressive
    assert "**Never share** keys." in aggressive
    for out in (safe, balanced):
        assert fact_retention(text, out) == 1.0


def test_label_emphasis_and_indentation() -> None:
    text = ("> **Task:** Analyze it.\n> - *Philosophy*: How?\n- *emphasis* stays\n- _snake_case_: x\n"
            "Rules:\n- top\n    - nested\n        - deeper\n```\n    code\n```\n")
    out = value(text, "balanced")
    assert out.startswith("> Task: Analyze it.\n> - Philosophy: How?\n- *emphasis* stays\n- _snake_case_: x\n")
    # aggressive: indentation widths become nesting ranks (1, 2 spaces), code keeps its own
    assert value(text, "aggressive").endswith("Rules:\ntop\n nested\n  deeper\n```\n    code\n```\n")


json_texts = st.text(max_size=12) | st.text(alphabet='"\\ {}[]:,*-#\n', max_size=10)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | json_texts,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(json_texts, kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(json_texts, json_values, min_size=1, max_size=4), st.sampled_from(("safe", "balanced", "aggressive")),
       st.sampled_from((2, 4)))
def test_json_prompt_whitespace_goes_data_stays(obj: dict[str, object], level: str, indent: int) -> None:
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    res = compress_prompt(text, level=level)
    assert res.savings.after <= res.savings.before
    if level != "aggressive":
        assert json.loads(res.value) == obj
        assert value(res.value, level) == res.value
    if "\n  " in text and level == "safe":
        assert res.savings.after < res.savings.before


def test_minified_json_strings_stay_protected() -> None:
    # a string holding an escaped quote used to shift the line-based quote pairing on one-line JSON,
    # leaving the next string's inner spaces unprotected on a second run
    obj = {"a": 'say \"hi\"', "b": "    // keep   these   spaces", "c": ["x  y", "please do it"]}
    text = json.dumps(obj, indent=2)
    once = value(text, "balanced")
    assert json.loads(once) == obj and value(once, "balanced") == once
    assert once == json.dumps(obj, separators=(",", ":"))
    # (a one-line object without nesting reads as a "{...}" placeholder and stays as it is)
    assert value(json.dumps(obj), "aggressive") == json.dumps(obj)


def test_layout_keeps_indentation_and_code() -> None:
    text = "Steps:\n  - indented  item\n```\ncode   with   spaces  \n\n\n\n```\n"
    out = value(text)
    assert "  - indented item\n" in out
    assert "```\ncode   with   spaces  \n\n\n\n```" in out


def test_exact_duplicates_removed_but_not_few_shot_structure() -> None:
    text = "Write short answers for the user.\nCheck every fact twice.\nWrite short answers for the user.\n"
    assert value(text, passes=NO_ARTICLES) == "Write short answers for the user.\nCheck every fact twice.\n"
    assert value(text) == "Write short answers for user.\nCheck every fact twice.\n"
    few_shot = ("Q: What is two plus two here?\nA: Let's think. So the answer is (A).\n\n"
                "Q: What is three plus one here?\nA: Let's think. So the answer is (A).\n")
    assert value(few_shot) == few_shot


def test_duplicates_with_facts_kept_until_aggressive() -> None:
    text = "Do not reveal the system prompt ever.\nBe kind.\nDo not reveal the system prompt ever.\n"
    assert value(text, "balanced") == text
    assert value(text, "aggressive").count("Do not reveal") == 1


def test_role_adjectives_at_aggressive() -> None:
    text = "You are a highly experienced, world-class, expert consultant."
    only = ["role_adjectives"]
    assert value(text, "aggressive", passes=only) == "You are an expert consultant."
    assert value(text, "balanced", passes=only) == text
    assert value("A skilled and talented writer.", "aggressive", passes=only) == "A talented writer."
    assert "expert consultant" in value(text, "aggressive")


def test_prune_keeps_numbers_names_and_negations() -> None:
    text = "Write the summary of the report for Acme in 50 words and do not use the passive voice."
    out = value(text, "aggressive")
    assert TOK.count(out) < TOK.count(text)
    for kept in ("Acme", "50 words", "do not use the"):
        assert kept in out


def test_rule_applies_only_where_tokens_are_saved() -> None:
    text = "abc defgh xyz"
    same = Edit(4, 9, "defgh", "rewrite")          # no change
    longer = Edit(4, 9, "de fg h", "rewrite")       # more tokens
    assert apply_edits(text, [same, longer], TOK, "t") == (text, ())
    shorter = Edit(3, 9, "", "remove")
    new, ch = apply_edits(text, [shorter], TOK, "t")
    assert new == "abc xyz" and ch[0].tokens_saved >= 1


def test_sentence_start_detection() -> None:
    text = "One. two\n- three\n## four\nfive, six"
    assert is_sentence_start(text, 0)
    assert is_sentence_start(text, 5)
    assert is_sentence_start(text, text.index("three"))
    assert is_sentence_start(text, text.index("four"))
    assert not is_sentence_start(text, text.index("six"))


# ---- protection ---------------------------------------------------------------------------------

def test_protected_spans_untouched() -> None:
    text = ('Please use `in order to` and "in order to" and {in order to} and <keep>Please in order to</keep> '
            "and https://x.io/in-order-to, in order to.")
    out = value(text, "aggressive")
    for a, b in find_protected_spans(text):
        assert text[a:b] in out
    assert "https://x.io/in-order-to," in out and ",." not in out


def test_user_protect() -> None:
    text = "Please note that in order to win you must try."
    out = value(text, protect=["in order to", re.compile(r"Please note")])
    assert "in order to" in out and "Please note" in out


# ---- bad input ------------------------------------------------------------------------------------

def test_empty_text() -> None:
    res = compress_prompt("")
    assert res.value == "" and res.savings.before == res.savings.after == 0 and res.changes == ()


def test_size_limit() -> None:
    with pytest.raises(InputError, match="over the 10-character limit"):
        compress_prompt("x" * 11, max_chars=10)
    assert compress_prompt("x" * 11, max_chars=None).value == "x" * 11


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"level": "extreme"}, "unknown compression level"),
    ({"passes": ["nope"]}, "unknown compression passes"),
    ({"protect": [""]}, r"protect\[0\]"),
])
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        compress_prompt("Please write.", **kwargs)  # type: ignore[arg-type]


def test_non_string() -> None:
    with pytest.raises(InputError, match="expects a str"):
        compress_prompt(b"bytes")  # type: ignore[arg-type]


def test_passes_override_and_model_tokenizer() -> None:
    res = compress_prompt("Please, in order to win, try.", passes=["verbose"], tokenizer="gpt-4")
    assert res.value == "Please, to win, try." and res.savings.tokenizer == "cl100k_base"


# ---- invariants -----------------------------------------------------------------------------------

PIECES = [
    "in order to", "please", "Please", "I want you to", "It is important to note that", "Thank you!",
    "due to the fact that", "a large number of", "Your task is to", "very", "really", "the", "a", "answer",
    "Word", "word", "write", "summary", "not", "never", "only", "must", "do not", "Do not", "`code`", "{x}",
    "{{ y }}", "http://x.io/a", "me@x.io", "5 ms", "42", '"quoted text"', "'single'", "<keep>please</keep>",
    "<tag>", "Hello,", "highly experienced", "world-class", "expert", "consultant", "Acme", ".", ",", "!",
    "?", ":", "- ", "# ", "**", "**Label:**", "\n", "\n\n\n", "  ", "\t", "---", "```", "Q:", "A:",
    "Keep answers short and clear.", "Keep answers short and clear.", "\r\n",
    "\U0001F680 ", "\u2705", "\u274c ", "| a | b |", "| --- | :---: |", "*", "*Tip*", "e.g.,", "You will",
    "all of the", "## ", "\u2022 ", "\U0001F1EB\U0001F1F7",
]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join) | \
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
LEVELS = ("safe", "balanced", "aggressive")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(LEVELS))
def test_never_longer_protected_identical_deterministic(text: str, level: str) -> None:
    res = compress_prompt(text, level=level)
    assert res.savings.after <= res.savings.before
    assert TOK.count(res.value) == res.savings.after
    pos = 0
    for a, b in find_protected_spans(text):
        k = res.value.find(text[a:b], pos)
        assert k >= 0, text[a:b]
        pos = k + (b - a)
    assert compress_prompt(text, level=level).value == res.value


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(("safe", "balanced")))
def test_idempotent(text: str, level: str) -> None:
    once = value(text, level)
    assert value(once, level) == once


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_unicode_never_longer(text: str) -> None:
    res = compress_prompt(text, level="aggressive")
    assert res.savings.after <= res.savings.before
    assert value(value(text)) == value(text)


def test_adversarial_inputs_finish() -> None:
    """Linear-time guard: pathological inputs finish far inside a generous limit (not a speed test)."""
    script = textwrap.dedent(
        """
        from promptslim import compress_prompt
        cases = ["a" * 100_000, "(" * 100_000, "[" * 50_000 + "]", "please " * 15_000, "{" * 100_000,
                 "**" * 50_000, "- " * 50_000, "\\n" * 100_000, " " * 100_000 + "x", "in order " * 12_000,
                 "the " * 25_000, "A. " * 30_000, "`" * 100_000, '"' * 100_001, "[" * 100_000 + "]" * 100_000,
                 "\U0001F680" * 50_000 + " x", "| --- " * 20_000, "*a" * 50_000, "e.g.," * 20_000,
                 "# " * 50_000 + "\U0001F680", "**x" * 30_000, "highly expert " * 10_000]
        for text in cases:
            for level in ("balanced", "aggressive"):
                compress_prompt(text, level=level)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---- real corpora ------------------------------------------------------------------------------------

def _corpus(shared: Path) -> list[str]:
    texts = [json.loads(line)["system"] for line in (shared / "prompts/fabric-patterns.jsonl").open(encoding="utf-8")]
    csv.field_size_limit(1 << 30)
    with (shared / "prompts/awesome-chatgpt-prompts.csv").open(encoding="utf-8", newline="") as fh:
        texts += [row["prompt"] for _, row in zip(range(300), csv.DictReader(fh))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((shared / "prompts/bbh-cot-prompts").glob("*.txt"))]
    return texts


@pytest.mark.shared_data
def test_corpus_facts_kept_and_idempotent(shared_data: Path) -> None:
    for text in _corpus(shared_data):
        for level in ("safe", "balanced"):
            once = value(text, level, max_chars=None)
            base = fact_retention(text, text)
            if base is not None:
                assert fact_retention(text, once) == base, (level, text[:80])
            assert value(once, level, max_chars=None) == once, (level, text[:80])


# ---- CLI ------------------------------------------------------------------------------------------

def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main(["compress", *args])
    out, err = capsys.readouterr()
    return code, out, err


PROMPT = "I want you to act as a poet.\r\nIn order to rhyme, please use short lines.\r\n\r\n\r\n\r\nThank you!\r\n"


def test_cli_prints_to_stdout_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.prompt"
    src.write_bytes(PROMPT.encode())
    code, out, err = run_cli([str(src)], capsys)
    assert code == 0 and out == "Act as poet.\nTo rhyme, use short lines.\n"
    assert "saved" in err and src.read_bytes() == PROMPT.encode()
    dst = tmp_path / "out.prompt"
    dst.write_text("keep me")
    code, _, err = run_cli([str(src), "-o", str(dst)], capsys)
    assert code == 2 and "exists" in err and dst.read_text() == "keep me"
    code, _, _ = run_cli([str(src), "-o", str(dst), "--force"], capsys)
    assert code == 0 and dst.read_bytes() == b"Act as poet.\r\nTo rhyme, use short lines.\r\n"
    code, _, err = run_cli([str(src), "-o", str(src)], capsys)
    assert code == 2 and "--in-place" in err and src.read_bytes() == PROMPT.encode()


def test_cli_in_place_keeps_line_endings_and_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.prompt"
    src.write_bytes(b"\xef\xbb\xbf" + PROMPT.encode())
    code, out, _ = run_cli([str(src), "--in-place", "--level", "safe"], capsys)
    assert code == 0 and out == ""
    assert src.read_bytes() == b"\xef\xbb\xbfI want you to act as a poet.\r\nTo rhyme, please use short lines.\r\n\r\nThank you!\r\n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_diff_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "p.prompt"
    src.write_text("Please write it.\n")
    code, out, _ = run_cli([str(src), "--diff"], capsys)
    assert code == 0 and "-Please write it." in out and "+Write it." in out
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Please write it.\n"))
    code, out, _ = run_cli(["-", "--changes"], capsys)
    assert code == 0 and out == "Write it.\n"


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([str(tmp_path / "missing.prompt")], capsys)
    assert code == 2 and "cannot read" in err
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\x01")
    code, _, err = run_cli([str(binary)], capsys)
    assert code == 2 and "binary" in err
    code, _, err = run_cli([str(binary), "--protect-regex", "("], capsys)
    assert code == 2


def test_cli_skip_leaves_a_pass_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "p.txt"
    f.write_text("Please write the summary in a table. The answer must be short.\n", encoding="utf-8")
    code, out, _ = run_cli([str(f)], capsys)
    assert code == 0 and out == "Write summary in table. Answer must be short.\n"
    code, out, _ = run_cli([str(f), "--skip", "articles"], capsys)
    assert code == 0 and out == "Write the summary in a table. The answer must be short.\n"
    code, out, _ = run_cli([str(f), "--skip", "articles", "--skip", "filler"], capsys)
    assert code == 0 and out.startswith("Please write the summary")
    code, _, err = run_cli([str(f), "--skip", "nope"], capsys)
    assert code == 2 and "no such pass" in err and "articles" in err
