"""Tests for RAG selection's scoring helpers: BM25 against its formula, answer-type matching, sentence
context, and the exact context count that adds per-chunk counts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from promptslim import get_tokenizer
from promptslim.rag import BM25Ranker, ScoreParams, bm25_tokens, format_context, select_chunks
from promptslim.rag._answer import ANSWER_TYPES, offers, question_type, question_words
from promptslim.rag._format import context_tokens

TOK = get_tokenizer()
DOCS = ["Paris is the capital of France.", "Berlin is the capital of Germany and has museums.",
        "France has many museums; Paris museums are famous.", "capital capital of France", ""]


# --- BM25 (rank-bm25 with Lucene IDF) -------------------------------------------------------------------

def _reference_bm25(query: list[str], docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 with Lucene's IDF written out from the formula (an independent reference)."""
    n = len(docs)
    avg = sum(len(d) for d in docs) / n
    out = []
    for d in docs:
        total = 0.0
        for t in query:
            df = sum(1 for x in docs if t in x)
            if not df:
                continue
            f = d.count(t)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            total += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / avg))
        out.append(total)
    return out


def test_default_bm25_is_rank_bm25_with_lucene_idf() -> None:
    docs = [bm25_tokens(d) for d in DOCS]
    assert BM25Ranker().backend == "rank-bm25"
    assert BM25Ranker(backend="auto").backend == "rank-bm25"  # the old name of the default still works
    for query in ("capital of France museums zzz", "museums museums Paris", "zzz"):
        q = bm25_tokens(query)
        assert BM25Ranker().score_tokens(q, docs) == pytest.approx(_reference_bm25(q, docs), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(docs=st.lists(st.lists(st.sampled_from("a b c d e f".split()), max_size=8), min_size=1, max_size=8),
       query=st.lists(st.sampled_from("a b c x".split()), min_size=1, max_size=5))
def test_bm25_term_columns_sum_to_the_score_on_any_pool(docs: list[list[str]], query: list[str]) -> None:
    if not any(docs):
        return
    ranker = BM25Ranker()
    ref = _reference_bm25(query, docs)
    assert ranker.score_tokens(query, docs) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    cols = ranker.term_scores(query, docs)
    assert set(cols) == {t for t in query if any(t in d for d in docs)}
    summed = [sum(c[i] * query.count(t) for t, c in cols.items()) for i in range(len(docs))]
    assert summed == pytest.approx(ref, rel=1e-9, abs=1e-12)


# --- answer types ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "kind"), [
    ("When did Tesla demonstrate his boat?", "date"),
    ("In what year did Priestley publish his findings?", "date"),
    ("How many miles south of Edinburgh is Newcastle?", "number"),
    ("What is the population of the Greater Los Angeles Area?", "number"),
    ("What percentage of the vote did he get?", "percent"),
    ("Who designed the Green Dining Room?", "name"),
    ("Where is the border of Switzerland and Austria?", "name"),
    ("What did Luther call the peasants?", None),
    ("Why is the sky blue?", None),
])
def test_question_type(question: str, kind: str | None) -> None:
    assert question_type(question) == kind
    assert kind is None or kind in ANSWER_TYPES


def test_offers_needs_a_candidate_the_question_lacks() -> None:
    q = question_words("When did Super Bowl 50 take place in 2016?")
    assert not offers("date", "Super Bowl 50 was played in 2016.", q)  # only the question's own year
    assert offers("date", "It was first held in 1967.", q)
    assert offers("number", "The stadium seats 68,500 people.", question_words("How many people?"))
    assert not offers("number", "The stadium is large.", question_words("How many people?"))
    assert offers("percent", "Turnout was 61.5 % in the city.", question_words("What percentage voted?"))
    who = question_words("Who succeeded Marin as commander?")
    assert offers("name", "He was succeeded by Jacques Legardeur.", who)
    assert not offers("name", "Marin died in the autumn.", who)  # sentence-initial and named in the question


def test_answer_type_bonus_prefers_the_sentence_with_a_year() -> None:
    # both sentences match every query term; the first gets the lead bonus, the second has a year
    text = ("Priestley published the findings of his experiments in letters. "
            "Priestley published his experiments and findings in 1775.")
    q = "In what year did Priestley publish the findings of his experiments?"
    on = select_chunks(q, [text], 14, granularity="sentence", neighbours=0.0)
    off = select_chunks(q, [text], 14, granularity="sentence", neighbours=0.0,
                        scoring=ScoreParams(answer_type=0.0))
    assert on.value[0].sentences == ("Priestley published his experiments and findings in 1775.",)
    assert off.value[0].sentences == ("Priestley published the findings of his experiments in letters.",)


# --- exact context count from per-chunk counts ------------------------------------------------------------

_CHARS = st.sampled_from(list("ab Z9.,;:!?/'\"()-\t\n\r") + ["  ", "\n\n", "東京", "é", "🙂", "'s", "...", "//"])
_PART = st.lists(_CHARS, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_PART, min_size=1, max_size=5),
       separator=st.sampled_from(["\n\n", "\n", "\r\n", "\n---\n", " ", "", "\n\n/", " \n"]),
       encoding=st.sampled_from(["o200k_base", "cl100k_base"]))
def test_context_tokens_is_exact(parts: list[str], separator: str, encoding: str) -> None:
    tok = get_tokenizer(encoding=encoding)
    total, costs = context_tokens(parts, separator, tok)
    assert total == tok.count(separator.join(parts))
    assert costs == [tok.count(p + separator) for p in parts[:-1]] + [tok.count(parts[-1])]


def test_select_chunks_reports_exact_before_count() -> None:
    chunks = [{"title": "Paris", "text": "Paris is the capital.\n"}, "/usr/bin is a path.", " leading space",
              {"title": "Acme", "text": "Acme sells rockets..."}]
    for sep in ("\n\n", " | "):
        res = select_chunks("capital rockets", chunks, 1000, separator=sep)
        assert res.savings.before == TOK.count(format_context(chunks, separator=sep))


# --- score normalisation and sentence context -------------------------------------------------------------

def test_spread_maps_min_to_zero_and_max_to_one() -> None:
    from promptslim.rag._score import normalize, spread

    cos = [0.52, 0.61, 0.58]
    assert spread(cos) == pytest.approx([0.0, 1.0, 6 / 9])
    assert min(normalize(cos)) > 0.8  # dividing by the maximum leaves cosines nearly flat
    assert spread([0.3, 0.3]) == [0.0, 0.0] and spread([]) == []


def test_context_lets_a_sentence_inherit_terms_of_the_previous_one_within_a_chunk() -> None:
    from promptslim.rag._scorer import _add_context

    # two chunks of 2 and 1 sentences; "tesla" is named only in sentence 0 ("He sold ..." follows)
    matrix = {"tesla": [2.0, 0.0, 3.0], "patent": [0.0, 1.0, 0.0]}
    _add_context(matrix, [2, 1], 0.5)
    assert matrix == {"tesla": [2.0, 1.0, 3.0], "patent": [0.0, 1.0, 0.0]}  # nothing crosses chunks
