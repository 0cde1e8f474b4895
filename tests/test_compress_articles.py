"""The articles pass: "the", "a", "an" dropped at balanced where harmless, kept where they matter."""

from __future__ import annotations

import pytest
from hang_guard import compress_finishes
from hypothesis import HealthCheck, given, settings, strategies as st

from promptslim import compress_prompt
from promptslim._toml import load_package_toml
from promptslim.compress_articles import article_skip_zones, is_english, pass_articles
from promptslim.compress_passes import PASS_ORDER, PASSES
from promptslim.spans import find_protected_spans
from promptslim.tokens import get_tokenizer

TOK = get_tokenizer()


def drop(text: str) -> str:
    return pass_articles(text, find_protected_spans(text), TOK)[0]


def test_registered_at_balanced_and_aggressive_only() -> None:
    assert PASSES["articles"] is pass_articles
    assert "articles" not in PASS_ORDER["safe"]
    assert "articles" in PASS_ORDER["balanced"] and "articles" in PASS_ORDER["aggressive"]
    assert pass_articles("Summarize the text.", (), TOK, level="safe") == ("Summarize the text.", ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Summarize the text in a table.", "Summarize text in table."),
        ("The answer must be short.", "Answer must be short."),                 # sentence start re-capitalised
        ("Write an essay about the war.", "Write essay about war."),
        ("- the first item of the list\n- a second item for you", "- first item of list\n- second item for you"),
        ("Visit the United Nations and The Hague.", "Visit the United Nations and The Hague."),  # names
        ("Take a few steps, a little time and a lot of care.", "Take a few steps, a little time and a lot of care."),
        ("Do it once a day, 3 times a week, one at a time.", "Do it once a day, 3 times a week, one at a time."),
        ("Choose option a or the best one.", "Choose option a or best one."),     # letter label
        ("Pick a and b.", "Pick a and b."),                                        # letter variable
        ("Use the same format as the input.", "Use the same format as input."),
        ("Never use the passive voice.", "Never use the passive voice."),          # constraint clause
        ("Quote `the result` and \"a phrase\" at {the_var}.", "Quote `the result` and \"a phrase\" at {the_var}."),
        ("# The Title\n\n| the cell | a row |\n\n    the code", "# The Title\n\n| the cell | a row |\n\n    the code"),
        ("Output format:\n- the title\n- a summary\n\nWrite the essay.", "Output format:\n- the title\n- a summary\n\nWrite essay."),
        ("THE END OF A DAY", "THE END OF A DAY"),                                  # all caps
        ("the_var a.b the-thing", "the_var a.b the-thing"),                        # identifiers
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert drop(text) == expected


def test_non_english_paragraphs_keep_their_articles() -> None:
    es = "Necesito hablar con el doctor a la hora de la cena y volver a la casa de mi familia."
    pt = "Vou a casa do meu amigo para ver a novela com a família dele."
    assert not is_english(es) and not is_english(pt)
    text = f"Translate the text below into English for the user.\n\n{es}\n\n{pt}\n\nKeep the tone of the original in your answer."
    out = drop(text)
    assert es in out and pt in out
    assert out.startswith("Translate text below into English for user.")
    assert out.endswith("Keep tone of original in your answer.")


def test_few_shot_blocks_and_template_sections_stay() -> None:
    text = ("Answer the question.\n\nQ: What is the capital of a country?\nA: The capital.\n\n"
            "Q: What is the name of a river?\nA: The Nile.\n\n## Example\n\nThe user asks a question.\n")
    zones = article_skip_zones(text)
    out = drop(text)
    assert out.startswith("Answer question.\n\nQ: What is the capital of a country?")
    assert out.endswith("## Example\n\nThe user asks a question.\n")
    assert zones


def test_keep_list_expressions_from_toml() -> None:
    """Every keep-list expression keeps its article, inside a sentence of plain English."""
    for phrase in load_package_toml("rules/articles.toml")["keep_phrases"]:
        text = f"Please do it with {phrase} of care for the user."
        assert phrase in drop(text), phrase


def test_compress_prompt_balanced_drops_articles_not_safe() -> None:
    text = "I want you to act as a poet. Write the poem in a notebook."
    assert compress_prompt(text, level="safe").value == text
    assert compress_prompt(text).value == "Act as poet. Write poem in notebook."
    res = compress_prompt(text)
    assert any(c.rule == "articles" and c.tokens_saved >= 1 for c in res.changes)


# ---- properties --------------------------------------------------------------------------------

ENGLISH = ["the", "a", "an", "The", "A", "An", "user", "answer", "text", "table", "of", "to", "and", "is",
           "write", "summarize", "in", "for", "with", "you", "should", "few", "lot", "time", "once", "day",
           "at", "same", "option", "never", "only", "must", "`code`", "{x}", "\"quoted a thing\"", "42",
           "5 ms", "United", "Nations", ".", ",", "\n", "\n\n", "- ", "# ", "Q:", "Example:", "| a |", "    "]
SPANISH = ["a", "la", "el", "de", "que", "casa", "voy", "con", "mi", "familia", "y", "en", "una", "ver",
           "los", "hablar", "doctor", "para", "the", "an"]

english_texts = st.lists(st.sampled_from(ENGLISH), max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(english_texts)
def test_pass_never_longer_protected_identical_idempotent_deterministic(text: str) -> None:
    prot = find_protected_spans(text)
    out, changes = pass_articles(text, prot, TOK)
    assert TOK.count(out) <= TOK.count(text)
    assert all(c.tokens_saved >= 1 for c in changes)
    pos = 0
    for a, b in prot:
        k = out.find(text[a:b], pos)
        assert k >= 0, text[a:b]
        pos = k + (b - a)
    assert pass_articles(text, prot, TOK) == (out, changes)
    once = compress_prompt(text).value
    assert compress_prompt(once).value == once


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(SPANISH), min_size=8, max_size=40).map(" ".join))
def test_no_article_removed_in_a_non_english_paragraph(text: str) -> None:
    if is_english(text):
        return  # the generator can produce an English-looking mix; those are not this property
    out, changes = pass_articles(text, (), TOK)
    assert out == text and changes == ()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(load_package_toml("rules/articles.toml")["keep_phrases"]), english_texts, english_texts)
def test_keep_list_expression_never_loses_its_article(phrase: str, left: str, right: str) -> None:
    text = f"{left} write {phrase} now {right}"
    out = pass_articles(text, (), TOK)[0]
    assert phrase in out or phrase.capitalize() in out or phrase not in text


def test_article_regexes_run_in_linear_time() -> None:
    """Hang guard for the new patterns (generous limit, not a speed threshold)."""
    cases = ["the " * 25_000, "a" * 100_000, "a " * 50_000, "The " * 25_000 + "x", "an\t" * 30_000,
             "Example: " * 20_000, "# example\n" * 20_000, "-" * 100_000 + "a", "a few " * 20_000,
             "de la " * 20_000 + "the cat", "Q:\n\n" * 25_000, " " * 100_000 + "the x"]
    compress_finishes(cases)


# --- proven savings: a lower-case article between two words is a piece of its own ------------

_LEFT = st.text(alphabet=st.sampled_from(list("abcXYZ09.,;:!?)]}\"'`*_-/#$%&é中😀\u0301\t\n ")), max_size=12)
_RIGHT_TAIL = st.text(alphabet=st.sampled_from(list("abc XYZ09.,'s\n\t-中😀")), max_size=12)


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@settings(max_examples=300, deadline=None)
@given(left=_LEFT, last=st.sampled_from(list("aZ9.,)\"'*_-中😀é\u0301")), art=st.sampled_from(["the", "a", "an"]),
       word=st.from_regex(r"[a-z][a-z0-9'\u2019-]{0,8}", fullmatch=True), tail=_RIGHT_TAIL)
def test_proven_article_saving_is_exact(encoding: str, left: str, last: str, art: str, word: str,
                                        tail: str) -> None:
    """The saving the articles pass claims without counting (``Edit.saves``) is what deleting
    "the " from "x the y" really saves, whatever comes before and after."""
    tok = get_tokenizer(encoding=encoding)
    before = f"{left}{last} {art} {word}{tail}"
    after = f"{left}{last} {word}{tail}"
    assert tok.count(before) - tok.count(after) == tok.count(" " + art)


def test_proven_edits_report_their_exact_saving() -> None:
    tok = get_tokenizer()
    text = "Write the summary in a table, then list the risks and an owner for each."
    out, changes = pass_articles(text, (), tok)
    assert out == "Write summary in table, then list risks and owner for each."
    assert sum(c.tokens_saved for c in changes) == tok.count(text) - tok.count(out)
