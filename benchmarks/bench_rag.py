"""Speed of RAG selection, reported against tokenizing the same chunks once (the baseline).

Issue targets: BM25 over 100 chunks of ~200 tokens to a 1,000-token budget, chunk level within
15 ms and sentence level within 40 ms. Also: rank-bm25 (the default BM25 backend) against bm25s on
growing pools, and the embedding ranker cold (texts not cached) and warm (cached).

Run: ``pytest benchmarks/bench_rag.py --benchmark-enable``
"""

from __future__ import annotations

import importlib.util
import itertools
import random

import pytest

from promptslim import get_tokenizer
from promptslim.rag import BM25Ranker, EmbeddingRanker, select_chunks
from promptslim.rag._text import bm25_tokens

TOK = get_tokenizer()
_VOCAB = ("river city council museum founded century railway bridge station school music festival "
          "population district harbour company engineer report season league champion album record "
          "army battle treaty king queen church castle garden island mountain valley forest climate "
          "election minister parliament court law trade market bank coin gold silver paper press").split()
_NAMES = ["Aldwych", "Brenna", "Castor", "Dunmore", "Elsing", "Farrow", "Galen", "Hollis", "Iver", "Jessop"]


def make_chunks(n: int, sentences: int = 8, seed: int = 0) -> list[dict[str, str]]:
    """``n`` deterministic chunks of about ``sentences * 25`` tokens, each with a title."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sents = []
        for _ in range(sentences):
            words = [rng.choice(_VOCAB) for _ in range(rng.randint(14, 22))]
            words[rng.randrange(len(words))] = rng.choice(_NAMES)
            words.insert(rng.randrange(len(words)), str(rng.randint(1800, 2020)))
            sents.append(" ".join(words).capitalize() + ".")
        out.append({"id": f"c{i}", "title": f"{rng.choice(_NAMES)} {rng.choice(_VOCAB)}", "text": " ".join(sents)})
    return out


CHUNKS = make_chunks(100)
TEXTS = [c["text"] for c in CHUNKS]
QUERY = "When was the Dunmore railway bridge station founded by the council?"


def test_chunks_are_about_200_tokens() -> None:
    counts = TOK.count_many(TEXTS)
    assert 150 <= sum(counts) / len(counts) <= 250


def test_baseline_tokenize_chunks_once(benchmark) -> None:  # type: ignore[no-untyped-def]
    counts = benchmark(TOK.count_many, TEXTS)
    assert len(counts) == 100


def test_baseline_tokenize_chunks_one_by_one(benchmark) -> None:  # type: ignore[no-untyped-def]
    counts = benchmark(lambda: [TOK.count(t) for t in TEXTS])
    assert len(counts) == 100


def test_select_chunk_level(benchmark) -> None:  # type: ignore[no-untyped-def]
    res = benchmark(select_chunks, QUERY, CHUNKS, 1000)
    assert res.savings.after <= 1000 and res.value


def test_select_sentence_level(benchmark) -> None:  # type: ignore[no-untyped-def]
    res = benchmark(select_chunks, QUERY, CHUNKS, 1000, granularity="sentence")
    assert res.savings.after <= 1000 and res.value


def test_select_chunk_level_one_hop_no_dedupe(benchmark) -> None:  # type: ignore[no-untyped-def]
    res = benchmark(select_chunks, QUERY, CHUNKS, 1000, hops=1, dedupe=False)
    assert res.savings.after <= 1000


def test_select_sentence_level_mmr(benchmark) -> None:  # type: ignore[no-untyped-def]
    res = benchmark(select_chunks, QUERY, CHUNKS, 1000, granularity="sentence", mmr=0.7)
    assert res.savings.after <= 1000


# --- rank-bm25 vs bm25s on growing pools (pre-tokenized, scoring one query) ---------------------------

_POOLS = {n: [bm25_tokens(c["text"]) for c in make_chunks(n, sentences=4, seed=n)] for n in (100, 1000, 5000)}
_QTOK = bm25_tokens(QUERY)


@pytest.mark.parametrize("n", sorted(_POOLS))
@pytest.mark.parametrize("backend", ["rank-bm25", "bm25s"])
def test_bm25_backends(benchmark, backend: str, n: int) -> None:  # type: ignore[no-untyped-def]
    if backend == "bm25s" and importlib.util.find_spec("bm25s") is None:
        pytest.skip("bm25s not installed (extra 'fast')")
    ranker = BM25Ranker(backend=backend)
    scores = benchmark(ranker.score_tokens, _QTOK, _POOLS[n])
    assert len(scores) == n


# --- embedding ranker: cold (uncached texts) and warm (cached) ----------------------------------------

_counter = itertools.count()


@pytest.fixture(scope="module")
def embedding_ranker() -> EmbeddingRanker:
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("sentence-transformers not installed (extra 'semantic')")
    ranker = EmbeddingRanker()
    ranker.embed(["warm up the model"])
    return ranker


def test_embedding_select_cold(benchmark, embedding_ranker: EmbeddingRanker) -> None:  # type: ignore[no-untyped-def]
    def fresh() -> tuple[tuple[object, ...], dict[str, object]]:
        k = next(_counter)
        chunks = [{"title": c["title"], "text": f"Batch {k}. " + c["text"]} for c in CHUNKS[:20]]
        return (QUERY, chunks, 1000), {"ranker": embedding_ranker, "hops": 1}

    res = benchmark.pedantic(select_chunks, setup=fresh, rounds=2, iterations=1)
    assert res.value


def test_embedding_select_warm(benchmark, embedding_ranker: EmbeddingRanker) -> None:  # type: ignore[no-untyped-def]
    chunks = CHUNKS[:20]
    select_chunks(QUERY, chunks, 1000, ranker=embedding_ranker, hops=1)  # fill the cache
    res = benchmark(select_chunks, QUERY, chunks, 1000, ranker=embedding_ranker, hops=1)
    assert res.value
