"""Compression's speed mechanisms give the same results as the plain computations they replace:
the articles pass re-run on changed lines only, span moving, dirty-line blocks, memoised paragraph
counts and the article pattern's look-ahead."""

from __future__ import annotations

import bisect
import re

from hang_guard import compress_finishes
from hypothesis import HealthCheck, given, settings, strategies as st

from promptslim import compress_prompt
from promptslim.compress import _blocks, _join_close, _run_rules
from promptslim.compress_articles import _ARTICLE, _counts, _para_counts, article_skip_zones, pass_articles
from promptslim.compress_kit import SpanMover, _window, map_spans
from promptslim.compress_passes import PASS_ORDER
from promptslim.result import Change
from promptslim.spans import find_protected_spans
from promptslim.tokens import get_tokenizer

TOK = get_tokenizer()

# words, markup and labels that exercise the articles pass, its skip zones (labels, headings,
# few-shot blocks, Spanish paragraphs, setext underlines) and the passes that run before it
PIECES = ["the", "a", "an", "The", "A", "An", "user", "answer", "text", "table", "of", "to", "and", "is",
          "write", "summarize", "in", "order", "please", "case", "for", "with", "you", "should", "few",
          "time", "once", "at", "same", "option", "never", "must", "`code`", "{x}", "42", "United", "Nations",
          ".", ",", ":", "\n", "\n\n", "\n", "- ", "# ", "## Examples\n", "Q:", "A:", "Example 1:",
          "Output format:", "===", "| a |", "    ", "  ", "**Note:**", "la", "el", "de", "que", "casa",
          "Thank you!", "in order to", "due to the fact that", "It is important to note that"]
texts = st.lists(st.sampled_from(PIECES), max_size=60).map(" ".join)
# paragraphs of repeated sentences (the duplicates pass removes some after the articles pass ran,
# which can end a few-shot block or a template section, so later rounds meet new skip zones)
SENTENCES = ["Write the summary of the text in a table.", "Send the string across the network socket.",
             "Use the a posteriori method for the answer.", "Keep the answer short and use a list.",
             "The output format is a table of the results.", "Answer the question in the same language.",
             "Lee el texto y escribe la respuesta en la tabla.", "Make sure that you really use the short form."]
LABELS = ["", "", "Q: ", "A: ", "Example: ", "Output format:\n", "# Examples\n", "## Steps\n", "- ",
          "# Start the requests for the template right here\n", "# Write the answer in the example format\n"]
paragraphs = st.lists(
    st.tuples(st.sampled_from(LABELS), st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3).map(" ".join))
    .map("".join), min_size=1, max_size=10).map("\n\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, paragraphs), st.sampled_from(["balanced", "aggressive"]))
def test_incremental_runs_equal_plain_runs(text: str, level: str) -> None:
    order = PASS_ORDER[level]
    inc = _run_rules(text, order, level, (), TOK, None, None, incremental=True)
    whole = _run_rules(text, order, level, (), TOK, None, None, incremental=False)
    assert inc == whole


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, paragraphs))
def test_balanced_idempotent_and_deterministic(text: str) -> None:
    once = compress_prompt(text)
    assert compress_prompt(text) == once
    assert compress_prompt(once.value).value == once.value


def test_incremental_rerun_meets_a_skip_zone_that_moved() -> None:
    """The duplicates pass, after the articles pass ran, removes the sentences that made a paragraph
    mixed English and Spanish; the paragraph's skip zone goes, so the next round drops its articles
    (found by a random search and minimised; re-running changed lines only would miss it)."""
    text = ("Lee el texto y escribe la respuesta en la tabla. Write the summary of the text in a table.\n\n"
            "Write the summary of the text in a table. Lee el texto y escribe la respuesta en la tabla. "
            "Keep the answer short and use a list.")
    order = PASS_ORDER["balanced"]
    out = _run_rules(text, order, "balanced", (), TOK, None, None)[0]
    assert out == _run_rules(text, order, "balanced", (), TOK, None, None, incremental=False)[0]
    assert out.endswith("\n\nKeep answer short and use list.")


def test_articles_line_subset_matches_whole_pass_on_those_lines() -> None:
    text = "Write the essay.\nUse a table for the data.\n\nOutput format:\n- the title\nSummarize the text."
    prot = find_protected_spans(text)
    zones = article_skip_zones(text)
    whole = pass_articles(text, prot, TOK, skip_spans=zones)[1]
    second = (text.index("Use"), text.index("\n\n") + 1)
    part = pass_articles(text, prot, TOK, skip_spans=zones, lines=[second])[1]
    assert part and part == tuple(c for c in whole if second[0] <= c.span[0] < second[1])


def _map_reference(spans: list[tuple[int, int]], changes: list[Change], keep_empty: bool) -> tuple[tuple[int, int], ...]:
    """The plain span mover (the implementation SpanMover replaced)."""
    if not changes:
        return tuple(spans)
    starts = [c.span[0] for c in changes]
    ends = [c.span[1] for c in changes]
    deltas = [0]
    for c in changes:
        deltas.append(deltas[-1] + len(c.after) - (c.span[1] - c.span[0]))

    def move(p: int, is_end: bool) -> int:
        i = bisect.bisect_right(ends, p)
        q = p + deltas[i]
        if i < len(starts) and starts[i] < p < ends[i]:
            q = starts[i] + deltas[i] + (len(changes[i].after) if is_end else 0)
        return q

    out = []
    for a, b in spans:
        na, nb = move(a, False), move(b, True)
        if nb > na or (keep_empty and nb == na):
            out.append((na, nb))
    return tuple(out)


@st.composite
def edits_and_spans(draw: st.DrawFn) -> tuple[list[Change], list[tuple[int, int]]]:
    cuts = sorted(draw(st.lists(st.integers(0, 200), max_size=12)))
    changes = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        changes.append(Change("rewrite", span=(a, b), after="x" * draw(st.integers(0, 5))))
    spans = draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)).map(sorted).map(tuple), max_size=10))
    return changes, sorted(spans)


@settings(max_examples=300, deadline=None)
@given(edits_and_spans(), st.booleans())
def test_span_mover_equals_plain_mapping(case: tuple[list[Change], list[tuple[int, int]]], keep_empty: bool) -> None:
    changes, spans = case
    expected = _map_reference(spans, changes, keep_empty)
    assert SpanMover(changes).move(spans, keep_empty) == expected
    assert map_spans(spans, changes, keep_empty) == expected


def _blocks_reference(text: str, dirty: list[tuple[int, int]], context: int, before: int) -> list[tuple[int, int]]:
    """Every dirty range expanded to its lines (no skipping of ranges already covered), merged."""
    n = len(text)
    out: list[list[int]] = []
    for a, b in sorted(dirty):
        start = text.rfind("\n", 0, min(a, n)) + 1
        for _ in range(context + before):
            if start == 0:
                break
            start = text.rfind("\n", 0, start - 1) + 1
        end = max(a, b)
        for _ in range(context + 1):
            k = text.find("\n", end)
            if k < 0:
                end = n
                break
            end = k + 1
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n", max_size=80), st.lists(st.tuples(st.integers(0, 80), st.integers(0, 80)), max_size=12),
       st.integers(0, 3), st.integers(0, 1))
def test_blocks_equal_plain_expansion(text: str, dirty: list[tuple[int, int]], context: int, before: int) -> None:
    assert _blocks(text, dirty, context, before) == _blocks_reference(text, dirty, context, before)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES + ["\u03a3", "\u0130", "os", "\n \n", "\n\t\r\n", "d\u2019un", "l'el"]),
                max_size=40).map(" ".join))
def test_text_counts_are_the_sum_of_paragraph_counts(text: str) -> None:
    paras = re.split(r"\n[ \t]*\r?\n", text)
    summed = tuple(sum(_para_counts(p)[i] for p in paras) for i in range(3))
    assert summed == _counts(text)


_ARTICLE_PLAIN = re.compile(r"(?<![\w'\u2019./@#$%&*+=<>\\-])(the|The|THE|an|An|AN|a|A)[ \t]([A-Za-z][a-z0-9'\u2019-]*)")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="theaTHEAnN \t.-'x1\n", max_size=60), st.integers(0, 60), st.integers(0, 60))
def test_article_pattern_lookahead_changes_no_match(text: str, pos: int, endpos: int) -> None:
    def found(rx: re.Pattern[str]) -> list[tuple[int, int, str, str]]:
        return [(m.start(), m.end(), m.group(1), m.group(2)) for m in rx.finditer(text, pos, endpos)]

    assert found(_ARTICLE) == found(_ARTICLE_PLAIN)


def _window_reference(text: str, a: int, b: int) -> tuple[int, int]:
    """The character-loop context window (the implementation _window replaced)."""
    n = len(text)
    left = a
    lim = max(0, a - 48)
    while left > lim and text[left - 1] in " \t":
        left -= 1
    while left > lim and not text[left - 1].isspace():
        left -= 1
    right = b
    lim = min(n, b + 48)
    while right < lim and text[right] in " \t":
        right += 1
    while right < lim and not text[right].isspace():
        right += 1
    return left, right


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab \t\n\u00a0\u2009\u3000x.", max_size=140), st.data())
def test_window_equals_character_loop(text: str, data: st.DataObject) -> None:
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    assert _window(text, a, b) == _window_reference(text, a, b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=20), st.integers(0, 30))
def test_join_close_joins_only_near_blocks(cuts: list[int], gap: int) -> None:
    points = sorted(set(cuts))
    if len(points) < 2:
        return
    blocks = list(zip(points[::2], points[1::2], strict=False))
    if not blocks:
        return
    joined = _join_close(blocks, gap)
    assert joined[0][0] == blocks[0][0] and joined[-1][1] == blocks[-1][1]
    assert all(y[0] - x[1] > gap for x, y in zip(joined, joined[1:], strict=False))
    assert all(any(a <= x and y <= b for a, b in joined) for x, y in blocks)


def test_incremental_bookkeeping_runs_in_linear_time() -> None:
    """Hang guard (generous limit, not a speed threshold): thousands of changed lines and
    paragraphs, skip zones that come and go, long runs of articles."""
    cases = ["Write the summary of the text in a table.\n" * 5000,
             "Use the a posteriori method.\n\nLee el texto y escribe la respuesta en la tabla.\n\n" * 2500,
             "the a " * 20000 + "cat", "Q: the answer is a cat.\n\nA: the dog.\n\n" * 3000,
             "Keep the answer short. " * 10000]
    compress_finishes(cases)


def test_paragraph_count_memo_stays_bounded() -> None:
    from promptslim import compress_articles as ca

    for i in range(400):
        _para_counts(f"paragraph {i} " + "word " * 2_000)
    assert sum(map(len, ca._COUNTS)) <= ca._COUNTS_MAX_CHARS
    huge = "the word " * 300_000
    assert _para_counts(huge) == _counts(huge) and huge not in ca._COUNTS
