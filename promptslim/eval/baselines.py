"""Baselines every eval runs beside the transform under test, at the same budget.

Head truncation keeps the first tokens that fit; random sentence drop removes sentences at random
(seeded per case, so runs repeat) until the text fits. Both are what a user gets without promptslim.
"""

from __future__ import annotations

import random
import zlib

from ..sentences import sentence_spans
from ..tokens import Tokenizer, get_tokenizer

__all__ = ["truncate_head", "truncate_tail", "random_sentence_drop", "case_seed"]


def case_seed(case_id: str, seed: int = 0) -> int:
    """A stable per-case seed (crc32 of the id, mixed with the run seed): independent of run order."""
    return zlib.crc32(case_id.encode("utf-8")) ^ seed


def truncate_head(text: str, budget: int, tokenizer: Tokenizer | None = None) -> str:
    """The first ``budget`` tokens of ``text`` (keeps the head, cuts the tail)."""
    tok = tokenizer or get_tokenizer()
    ids = tok.encode(text)
    if len(ids) <= budget:
        return text
    out = tok.decode(ids[: max(budget, 0)])
    while out and tok.count(out) > budget:  # decode can merge differently at a cut; stay under budget
        out = out[:-1]
    return out


def truncate_tail(text: str, budget: int, tokenizer: Tokenizer | None = None) -> str:
    """The last ``budget`` tokens of ``text`` (keeps the newest content, as chat trimmers do)."""
    tok = tokenizer or get_tokenizer()
    ids = tok.encode(text)
    if len(ids) <= budget:
        return text
    out = tok.decode(ids[len(ids) - max(budget, 0):]) if budget > 0 else ""
    while out and tok.count(out) > budget:
        out = out[1:]
    return out


def random_sentence_drop(text: str, budget: int, seed: int, tokenizer: Tokenizer | None = None) -> str:
    """Drop random sentences until ``text`` fits ``budget`` tokens; survivors keep their order."""
    tok = tokenizer or get_tokenizer()
    spans = sentence_spans(text)
    if not spans:
        return ""
    counts = tok.count_many([text[a:b] for a, b in spans])
    order = list(range(len(spans)))
    random.Random(seed).shuffle(order)
    keep = [True] * len(spans)
    total = sum(counts) + len(spans) - 1
    for i in order:
        if total <= budget:
            break
        keep[i] = False
        total -= counts[i] + 1
    return " ".join(text[a:b] for (a, b), k in zip(spans, keep) if k)
