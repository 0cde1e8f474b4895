"""Preparing chunks (sentence spans, token counts) and scoring them and their sentences for a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..sentences import sentence_spans
from ..tokens import Tokenizer
from ._answer import offers, question_type, question_words
from ._chunks import Chunk
from ._format import DEFAULT_TEMPLATE, render_chunk
from ._pack import Doc
from ._rankers import BM25Ranker, HybridRanker, Ranker
from ._score import ScoreParams, chunk_scores, normalize, sentence_scores, spread
from ._text import bm25_tokens

__all__ = ["prepare", "split_doc", "Scorer"]


def _count_each(tok: Tokenizer, texts: list[str]) -> list[int]:
    """Token counts of many short texts: one encode call each (tiktoken's batch API pays a thread
    pool round trip per text, which costs more than it saves on sentence-sized texts)."""
    count = tok.count
    return [count(t) for t in texts]


def prepare(recs: list[Chunk], tok: Tokenizer, template: str, backend: str, split: bool,
            costs: Sequence[int]) -> tuple[list[Doc], list[int]]:
    """Docs for the non-empty chunks and the indices of the empty ones.

    With ``split`` (sentence granularity) every chunk is split and its sentences counted now, and
    its rendered size is estimated as header + sentences; otherwise a chunk costs ``costs[i]`` (its
    exact tokens with the separator after it) and is split later only if it has to be trimmed. The
    final context is always counted exactly.
    """
    docs: list[Doc] = []
    empty: list[int] = []
    header_counts: dict[str, int] = {}
    for rec in recs:
        if not rec.text.strip():
            empty.append(rec.index)
            continue
        if template == DEFAULT_TEMPLATE:  # "{title}\n{text}": the header is the title line
            header = rec.title or ""
        else:
            header = render_chunk(replace(rec, text=""), template)
        if split:
            header_tokens = header_counts.get(header, -1)
            if header_tokens < 0:
                header_tokens = header_counts[header] = tok.count(header) + 1 if header else 0
            doc = Doc(rec, [], [], header_tokens, 0, header=header)
            split_doc(doc, tok, backend)
            doc.full_tokens = header_tokens + sum(doc.sent_tokens)
        else:  # the header is counted only if the chunk is ever trimmed
            doc = Doc(rec, [], [], -1, costs[rec.index], header=header, sep_in_full=True)
        docs.append(doc)
    return docs, empty


def split_doc(doc: Doc, tok: Tokenizer, backend: str) -> None:
    """Fill in the doc's sentence spans and their token counts (once)."""
    if doc.header_tokens < 0:
        doc.header_tokens = tok.count(doc.header) + 1 if doc.header else 0
    if doc.spans:
        return
    text = doc.text
    doc.spans = sentence_spans(text, backend) or [(0, len(text))]
    doc.sent_tokens = _count_each(tok, [text[a:b] for a, b in doc.spans])


def _term_matrix(query: str, sent_tok: list[list[str]], rk: Ranker | None) -> dict[str, list[float]]:
    """BM25 score of every sentence for each query term alone (BM25 is a sum over query terms)."""
    if not isinstance(rk, BM25Ranker) or rk.backend == "bm25s":
        return {}
    return rk.term_scores(list(dict.fromkeys(bm25_tokens(query))), sent_tok)


def _hybrid_parts(rk: Ranker) -> tuple[BM25Ranker, list[Ranker]] | None:
    """For a hybrid of BM25 and other rankers: the BM25 part and the others, else None."""
    if not isinstance(rk, HybridRanker):
        return None
    lexical = [r for r in rk.rankers if isinstance(r, BM25Ranker)]
    others = [r for r in rk.rankers if not isinstance(r, BM25Ranker)]
    return (lexical[0], others) if lexical and others else None


def _add_context(matrix: dict[str, list[float]], sizes: Sequence[int], weight: float) -> None:
    """Let each sentence inherit ``weight`` x its previous sentence's score for every query term (in
    place; per doc): the sentence after the one that names the subject often says "he" or "it"."""
    starts = set()
    pos = 0
    for n in sizes:
        starts.add(pos)
        pos += n
    for t, col in matrix.items():
        matrix[t] = [max(v, weight * col[k - 1]) if k not in starts else v for k, v in enumerate(col)]


class Scorer:
    """Relevance of chunks and of their sentences for one query (sentences scored on demand)."""

    def __init__(self, query: str, docs: list[Doc], rk: Ranker, params: ScoreParams, tok: Tokenizer,
                 backend: str) -> None:
        self.query, self.docs, self.rk, self.params = query, docs, rk, params
        self.tok, self.backend = tok, backend
        self.sent_scores: dict[int, list[float]] = {}
        self.sent_tok: dict[int, list[list[str]]] = {}
        self.sent_static: dict[int, list[float]] = {}  # non-lexical part of a hybrid's sentence score
        self.chunk_norm: list[float] = []
        self.kind = question_type(query) if params.answer_type else None
        self.qwords = question_words(query)
        self.sent_type: dict[int, list[float]] = {}

    def score_sentences(self, subset: Sequence[int]) -> None:
        """Score the sentences of ``docs[subset]`` against the query, pooled (BM25 IDF over the pool)."""
        todo = [d for d in subset if d not in self.sent_scores]
        if not todo:
            return
        for d in todo:
            split_doc(self.docs[d], self.tok, self.backend)
        sents = [self.docs[d].text[a:b] for d in todo for a, b in self.docs[d].spans]
        sent_tok = [bm25_tokens(x) for x in sents]
        pos = 0
        for d in todo:
            n = len(self.docs[d].spans)
            self.sent_tok[d] = sent_tok[pos:pos + n]
            pos += n
        # Sentences are scored by value, not by rank fusion: RRF over a pool of similar sentences
        # flattens the scores. A hybrid averages its BM25 part (term by term, so query-term coverage
        # still applies) with the mean of its other rankers' scores spread onto [0, 1] (cosines sit
        # in a narrow band: divided by the maximum only, they barely moved the ranking).
        hybrid = _hybrid_parts(self.rk)
        matrix = _term_matrix(self.query, sent_tok, hybrid[0] if hybrid else self.rk)
        if matrix and self.params.context:
            _add_context(matrix, [len(self.docs[d].spans) for d in todo], self.params.context)
        static = [0.0] * len(sents)
        share = 1.0
        if hybrid and matrix:
            share = 1.0 - self.params.hybrid_share
            for other in hybrid[1]:
                for k, v in enumerate(spread(other.score(self.query, sents))):
                    static[k] += (1.0 - share) * v / len(hybrid[1])
        if matrix:
            raw = [sum(col) for col in zip(*matrix.values(), strict=True)]
            top = (max(raw, default=0.0) or 1.0) / share
            scores = [x / top + st for x, st in zip(raw, static, strict=True)]
        else:
            top = 1.0
            scores = sentence_scores(self.query, sents, self.rk, sent_tok)
        pos = 0
        for d in todo:
            doc = self.docs[d]
            n = len(doc.spans)
            self.sent_scores[d] = scores[pos:pos + n]
            self.sent_static[d] = static[pos:pos + n]
            kind = self.kind
            self.sent_type[d] = ([1.0 if offers(kind, s, self.qwords) else 0.0 for s in sents[pos:pos + n]]
                                 if kind else [0.0] * n)
            if matrix:
                doc.sent_terms = [{t: col[k] / top for t, col in matrix.items() if col[k] > 0}
                                  for k in range(pos, pos + n)]
            pos += n
            if self.chunk_norm:
                self._priorities(d)

    def _priorities(self, d: int) -> None:
        doc, p = self.docs[d], self.params
        cn, ps = self.chunk_norm[d], self.sent_scores[d]
        bonus = [p.lead_weight * cn if i == 0 else 0.0 for i in range(len(ps))]
        bonus = [b + p.answer_type * f for b, f in zip(bonus, self.sent_type[d], strict=True)]
        w = p.sentence_weight
        # with per-term relevance, the packer adds the (coverage-weighted) lexical part itself
        if doc.sent_terms:
            doc.sent_base = [b + w * st for b, st in zip(bonus, self.sent_static[d], strict=True)]
        else:
            doc.sent_base = [w * x + b for x, b in zip(ps, bonus, strict=True)]
        doc.prior = (1 - w) * cn
        doc.sent_priority = [w * x + b + doc.prior for x, b in zip(ps, bonus, strict=True)]

    def best_sentences(self, top: Sequence[int]) -> dict[int, list[tuple[float, str]]]:
        """``(score, sentence)`` of each chunk in ``top``, best first (seeds multi-hop expansion)."""
        self.score_sentences(top)
        out = {}
        for d in top:
            doc = self.docs[d]
            pairs = zip(self.sent_scores[d], doc.spans, strict=True)
            out[d] = sorted(((x, doc.text[a:b]) for x, (a, b) in pairs), key=lambda y: -y[0])
        return out

    def score_chunks(self) -> None:
        """Set ``doc.score`` for every doc, and sentence priorities for docs already scored."""
        docs = self.docs
        doc_tokens = []
        for k, d in enumerate(docs):
            parts = self.sent_tok.get(k)
            if parts is None:
                doc_tokens.append(bm25_tokens(f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text))
            else:  # reuse the sentences' tokens
                toks = bm25_tokens(d.chunk.title) if d.chunk.title else []
                for p in parts:
                    toks.extend(p)
                doc_tokens.append(toks)
        texts = [f"{d.chunk.title}\n{d.text}" if d.chunk.title else d.text for d in docs]
        scores = chunk_scores(self.query, texts, [d.chunk.title for d in docs], self.rk, self.params,
                              doc_tokens, self.best_sentences)
        self.chunk_norm = normalize(scores)
        for doc, s in zip(docs, scores, strict=True):
            doc.score = s
        for k in self.sent_scores:
            self._priorities(k)
