"""RAG context-selection suites: SQuAD (article level), HotpotQA distractor and NQ with mixed passages.

Each case is a question, a list of chunks (title, text) and gold answers (plus gold evidence
sentences). Methods select chunks with :func:`promptslim.rag.select_chunks` at a budget that is a
ratio of the original context's tokens (formatted with the default template, titles included) and
are scored on ``answer_recall`` (a gold answer present in the original context survives) and
``evidence_recall`` (share of the gold evidence sentences kept verbatim). Baselines: head
truncation of the concatenated context, random sentence drop, and plain BM25 (no title match, no
multi-hop, no neighbours) at chunk and sentence level.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from ...rag import ScoreParams, format_context, select_chunks
from ...sentences import sentence_spans
from ...tokens import get_tokenizer
from ..baselines import case_seed, random_sentence_drop, truncate_head
from ..core import Case, Method, MethodOutput, Suite, register_suite, require_file
from ..metrics import answer_recall, evidence_recall, normalize_answer

__all__ = ["load_squad", "load_hotpotqa", "load_nq", "RAG_BUDGETS"]

RAG_BUDGETS = (0.5, 0.25, 0.125, 0.0625)
# No title match, no multi-hop, no lead bonus, no chunk prior on sentences, no query-term coverage,
# no answer-type bonus, no sentence context.
_PLAIN = ScoreParams(title_weight=0.0, hops=1, lead_weight=0.0, sentence_weight=1.0, coverage=1.0,
                     answer_type=0.0, context=0.0)
_PARAM_KEYS = ("hops", "neighbours", "title_weight", "mmr", "dedupe", "order", "sentence_backend", "model")


def _sample_order(n: int, name: str) -> list[int]:
    """A fixed pseudo-random order of ``n`` items, so ``--limit`` takes a spread sample."""
    order = list(range(n))
    random.Random(name).shuffle(order)
    return order


def _evidence_sentence(text: str, start: int) -> str | None:
    for a, b in sentence_spans(text):
        if a <= start < b:
            return text[a:b]
    return None


def load_squad(data_dir: Path | None, limit: int | None, others: int = 9) -> Iterator[Case]:
    """SQuAD v1.1 dev at article level: the question's paragraph among ``others`` paragraphs of its
    article (seeded per question), at a seeded position. Evidence: the gold answer's sentence."""
    data = json.loads(require_file(data_dir, "qa/squad-dev-v1.1.json").read_text("utf-8"))
    items = []
    for article in data["data"]:
        paras = [p["context"] for p in article["paragraphs"]]
        for pi, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                items.append((paras, pi, qa))
    for k in _sample_order(len(items), "rag-squad")[:limit]:
        paras, pi, qa = items[k]
        rng = random.Random(case_seed(qa["id"]))
        pool = [j for j in range(len(paras)) if j != pi]
        chosen = rng.sample(pool, min(others, len(pool)))
        chosen.insert(rng.randrange(len(chosen) + 1), pi)
        answers = [a["text"] for a in qa["answers"]]
        ev = _evidence_sentence(paras[pi], qa["answers"][0]["answer_start"]) if qa["answers"] else None
        yield Case(qa["id"], {
            "question": qa["question"],
            "chunks": [{"id": f"p{j}", "text": paras[j]} for j in chosen],
            "answers": answers,
            "evidence": [ev] if ev else [],
        })


def load_hotpotqa(data_dir: Path | None, limit: int | None) -> Iterator[Case]:
    """HotpotQA distractor (2 gold + 8 distractor paragraphs); evidence = supporting-fact sentences."""
    data = json.loads(require_file(data_dir, "qa/hotpotqa-distractor-100.json").read_text("utf-8"))
    for item in data[:limit]:
        paras = {title: sents for title, sents in item["context"]}
        evidence = []
        for title, idx in item["supporting_facts"]:
            sents = paras.get(title, [])
            if 0 <= idx < len(sents) and sents[idx].strip():
                evidence.append(sents[idx].strip())
        yield Case(item["_id"], {
            "question": item["question"],
            "chunks": [{"id": f"c{i}", "title": t, "text": "".join(s)} for i, (t, s) in enumerate(item["context"])],
            "answers": [item["answer"]],
            "evidence": evidence,
            "type": item.get("type", ""),
        })


def load_nq(data_dir: Path | None, limit: int | None, others: int = 19) -> Iterator[Case]:
    """NQ-open gold passages, each question's among ``others`` gold passages of other questions
    (seeded per question, 20 passages like the lost-in-the-middle setup). Evidence: the gold passage's
    sentences that contain a gold answer."""
    path = require_file(data_dir, "qa/nq-open-oracle.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    golds = [r["ctxs"][0] for r in rows]
    for k in _sample_order(len(rows), "rag-nq")[:limit]:
        row = rows[k]
        cid = f"nq{k}"
        rng = random.Random(case_seed(cid))
        chosen = rng.sample([j for j in range(len(rows)) if j != k], others)
        chosen.insert(rng.randrange(len(chosen) + 1), k)
        gold = golds[k]["text"]
        norm_answers = [normalize_answer(a) for a in row["answers"]]
        evidence = [gold[a:b] for a, b in sentence_spans(gold)
                    if any(n and f" {n} " in f" {normalize_answer(gold[a:b])} " for n in norm_answers)]
        yield Case(cid, {
            "question": row["question"],
            "chunks": [{"id": f"d{j}", "title": golds[j]["title"], "text": golds[j]["text"]} for j in chosen],
            "answers": list(row["answers"]),
            "evidence": evidence,
        })


def _score(case: Case, original: str, compressed: str, before: int, after: int) -> MethodOutput:
    metrics: dict[str, float] = {}
    ar = answer_recall(original, compressed, case.data["answers"])
    if ar is not None:
        metrics["answer_recall"] = ar
    gold = [e for e in case.data.get("evidence", []) if e in original]
    er = evidence_recall([e for e in gold if e in compressed], gold)
    if er is not None:
        metrics["evidence_recall"] = er
    return MethodOutput(before, after, metrics, compressed)


def _budget(before: int, ratio: float | None) -> int:
    return max(1, int(before * (ratio if ratio is not None else 0.25)))


def _select_method(ranker: str, granularity: str, plain: bool, case: Case, ratio: float | None,
                   params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    chunks = case.data["chunks"]
    original = format_context(chunks)
    before = tok.count(original)
    opts: dict[str, Any] = {k: params[k] for k in _PARAM_KEYS if k in params}
    if plain:  # the calibration baseline: the ranker's score only, greedy packing
        opts.update(hops=1, title_weight=0.0, neighbours=0.0, scoring=_PLAIN)
    res = select_chunks(case.data["question"], chunks, _budget(before, ratio), ranker=ranker,
                        granularity=granularity, tokenizer=tok, **opts)
    compressed = format_context(res.value)
    return _score(case, original, compressed, before, res.savings.after)


def _truncate(case: Case, ratio: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    original = format_context(case.data["chunks"])
    before = tok.count(original)
    out = truncate_head(original, _budget(before, ratio), tok)
    return _score(case, original, out, before, tok.count(out))


def _random_drop(case: Case, ratio: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    original = format_context(case.data["chunks"])
    before = tok.count(original)
    out = random_sentence_drop(original, _budget(before, ratio), case_seed(case.id, int(params.get("_seed", 0))), tok)
    return _score(case, original, out, before, tok.count(out))


def _methods() -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for ranker in ("bm25", "embedding", "hybrid"):
        for gran in ("chunk", "sentence"):
            methods[f"{ranker}-{gran}"] = partial(_select_method, ranker, gran, False)
    methods["bm25-plain-chunk"] = partial(_select_method, "bm25", "chunk", True)
    methods["bm25-plain-sentence"] = partial(_select_method, "bm25", "sentence", True)
    methods["truncate"] = _truncate
    methods["random_drop"] = _random_drop
    return methods


_BASELINES = ("truncate", "random_drop", "bm25-plain-chunk", "bm25-plain-sentence")

for _name, _loader, _desc in (
    ("rag-squad", load_squad, "SQuAD v1.1 dev, article level: gold paragraph among 9 same-article paragraphs"),
    ("rag-hotpotqa", load_hotpotqa, "HotpotQA distractor: 2 gold + 8 distractor paragraphs, multi-hop"),
    ("rag-nq", load_nq, "NQ-open gold passage among 19 other questions' gold passages"),
):
    register_suite(Suite(
        name=_name,
        task="rag",
        description=_desc,
        load=_loader,
        methods=_methods(),
        budgets=RAG_BUDGETS,
        needs_shared_data=True,
        primary_metric="answer_recall",
        baselines=_BASELINES,
    ))
