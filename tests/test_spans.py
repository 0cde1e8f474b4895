"""Protected and constraint spans: what is found, merging, binary-search overlap, linear time."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from promptslim.errors import InputError
from promptslim.spans import (
    PROTECTED_KINDS,
    classify_protected_spans,
    find_constraint_spans,
    find_protected_spans,
    lower_same_length,
    merge_spans,
    overlaps,
    unprotected_segments,
)


def texts_of(text: str, kinds: tuple[str, ...] | None = None, protect=()) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start:s.end]) for s in classify_protected_spans(text, protect, kinds=kinds)]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Run `pip install x` now", "inline_code", "`pip install x`"),
        ("see ``a`b`` here", "inline_code", "``a`b``"),
        ("Go to https://example.com/a?b=1. Then", "url", "https://example.com/a?b=1"),
        ("wiki https://en.wikipedia.org/wiki/A_(b) ok", "url", "https://en.wikipedia.org/wiki/A_(b)"),
        ("visit www.example.org, then", "url", "www.example.org"),
        ("mail ops+x@mail.example.co.uk today", "email", "ops+x@mail.example.co.uk"),
        ("wait 500 ms please", "number", "500 ms"),
        ("costs $3.50 total", "number", "$3.50"),
        ("grew 20% this year", "number", "20%"),
        ("on 12/14/1937 it", "number", "12/14/1937"),
        ("a 10 KM run", "number", "10 KM"),
        ('say "hello there" twice', "quoted", '"hello there"'),
        ("the 'Disney Character' style", "quoted", "'Disney Character'"),
        ("Dear {name},", "placeholder", "{name}"),
        ("Hi {{ user.name }}!", "placeholder", "{{ user.name }}"),
        ("{% if admin %}yes", "placeholder", "{% if admin %}"),
        ("use ${applicationType:travel} app", "placeholder", "${applicationType:travel}"),
        ("write about [TOPIC] now", "placeholder", "[TOPIC]"),
        ('wrap in <answer type="x"> tags', "tag", '<answer type="x">'),
        ("<keep>Please do this</keep> and", "keep", "<keep>Please do this</keep>"),
    ],
)
def test_each_kind_is_found(text: str, kind: str, expected: str) -> None:
    assert (kind, expected) in texts_of(text)


def test_code_fences_pair_and_unclosed_fence_protects_to_end() -> None:
    text = "a\n```py\nx = 1  # please\n```\nb please\n~~~\nopen"
    found = texts_of(text, ("code_block",))
    assert found[0] == ("code_block", "```py\nx = 1  # please\n```")
    assert found[1] == ("code_block", "~~~\nopen")


def test_front_matter_only_at_start() -> None:
    text = "---\nname: x\n---\nbody\n---\nnot: fm\n---\n"
    assert texts_of(text, ("front_matter",)) == [("front_matter", "---\nname: x\n---\n")]


def test_not_numbers_inside_words_and_versions() -> None:
    text = "v1.2 x86 GPT4 and 5 apples"
    assert texts_of(text, ("number",)) == [("number", "5")]


def test_apostrophes_are_not_quotes() -> None:
    assert texts_of("don't do it, it's fine", ("quoted",)) == []


def test_user_protect_strings_and_regexes() -> None:
    text = "Acme Corp sells widgets; Acme Corp ships. ID-42 and ID-7."
    spans = classify_protected_spans(text, ["Acme Corp", re.compile(r"ID-\d+")], kinds=())
    assert [text[s.start:s.end] for s in spans] == ["Acme Corp", "Acme Corp", "ID-42", "ID-7"]
    assert all(s.kind == "user" for s in spans)


def test_user_protect_single_string_is_one_item() -> None:
    assert [(s.start, s.end) for s in classify_protected_spans("a bc a", "bc", kinds=())] == [(2, 4)]


@pytest.mark.parametrize("bad", ["", 5, None])
def test_bad_protect_items_raise(bad: object) -> None:
    with pytest.raises(InputError, match=r"protect\[0\]"):
        classify_protected_spans("text", [bad])  # type: ignore[list-item]


def test_unknown_kind_raises() -> None:
    with pytest.raises(InputError, match="unknown protected-span kinds"):
        classify_protected_spans("x", kinds=["nope"])


def test_find_protected_spans_is_sorted_and_merged() -> None:
    text = '"call {x} at 5 ms" and `y`'
    spans = find_protected_spans(text)
    assert spans == ((0, 18), (23, 26))


def test_constraint_spans_keep_negations_with_their_clause() -> None:
    text = "You must not, under any circumstances, reveal it. I want you to only reply with x. Don’t stop."
    found = [text[a:b] for a, b in find_constraint_spans(text)]
    assert found == ["must not, under any circumstances,", "only reply with x", "Don’t stop"]


def test_constraint_word_inside_a_word_is_ignored() -> None:
    assert find_constraint_spans("a notable nothingness knot") == ()


def test_do_not_takes_the_word_before() -> None:
    text = "Please do not use the word"
    assert [text[a:b] for a, b in find_constraint_spans(text)] == ["do not use the word"]


def test_overlaps_binary_search() -> None:
    spans = ((2, 5), (10, 12))
    assert overlaps(spans, 4, 6)
    assert overlaps(spans, 0, 3)
    assert not overlaps(spans, 5, 10)
    assert not overlaps(spans, 12, 20)
    assert overlaps(spans, 3, 3)      # insertion point strictly inside
    assert not overlaps(spans, 2, 2)  # insertion point at a span edge
    assert not overlaps((), 0, 5)


def test_unprotected_segments_cover_text() -> None:
    text = "ab `c` de"
    segs = list(unprotected_segments(text, find_protected_spans(text)))
    assert "".join(text[a:b] for a, b, _ in segs) == text
    assert [p for *_, p in segs] == [False, True, False]


def test_lower_same_length_keeps_indices() -> None:
    text = "İstanbul and ÀB"
    low = lower_same_length(text)
    assert len(low) == len(text) and low.endswith("and àb")


spans_st = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)).map(lambda t: (min(t), max(t))), max_size=12)


@settings(max_examples=200, deadline=None)
@given(spans_st)
def test_merge_spans_properties(spans: list[tuple[int, int]]) -> None:
    merged = merge_spans(spans)
    covered = {i for a, b in spans for i in range(a, b)}
    assert {i for a, b in merged for i in range(a, b)} == covered
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    for a, b in spans:
        if b > a:
            assert overlaps(merged, a, b)


prompt_alphabet = st.sampled_from(
    list("abc XYZ.,!?'\"`{}[]()<>%$#*-_/:@\n\t0123456789")
    + ["```", "http://", "www.", "{{", "}}", "{%", "%}", "<keep>", "</keep>", "not ", "never ", " ms", "please "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(prompt_alphabet, max_size=60).map("".join))
def test_spans_are_in_bounds_sorted_and_nonempty(text: str) -> None:
    for spans in (find_protected_spans(text), find_constraint_spans(text)):
        assert all(0 <= a < b <= len(text) for a, b in spans)
        assert list(spans) == sorted(spans)
        assert all(spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1))
    assert {s.kind for s in classify_protected_spans(text)} <= set(PROTECTED_KINDS)


def test_adversarial_inputs_run_in_linear_time() -> None:
    """No catastrophic backtracking: each pathological input finishes well inside a generous limit."""
    script = textwrap.dedent(
        """
        from promptslim.spans import find_constraint_spans, find_protected_spans
        cases = ["a" * 100_000, "`" * 100_000, "{" * 100_000, "{{" * 50_000, "<" * 100_000,
                 '"' * 100_001, "a@" * 50_000, "1," * 50_000, "(" * 100_000, "http://" + "(" * 100_000,
                 "<keep>" * 20_000, "```\\n" * 30_000, "{% " * 30_000, "not " * 30_000, " " * 100_000,
                 "'a" * 50_000, "[A" * 50_000, "$" * 100_000, "www." * 30_000, "-" * 100_000 + "\\n"]
        for text in cases:
            find_protected_spans(text)
            find_constraint_spans(text)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_constraint_word_keeps_its_markup_and_hyphenated_forms() -> None:
    text = "- **Read-only**: x. ### **ABSOLUTELY NO:** y"
    found = [text[a:b] for a, b in find_constraint_spans(text)]
    assert found == ["only**: x", "NO:** y"]
