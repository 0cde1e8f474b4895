"""Suites on the project's own ``eval_sets/`` (original, small), so ``promptslim eval`` runs anywhere.

Each suite runs the transform under test beside the no-op, head-truncation and random-sentence-drop
baselines at the same budget. Transforms are imported inside methods, so listing suites stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...tokens import get_tokenizer
from ..baselines import case_seed, random_sentence_drop, truncate_head
from ..core import Case, MethodOutput, Suite, register_suite
from ..metrics import answer_recall, evidence_recall, roundtrip_exact

EVAL_SETS = Path(__file__).resolve().parents[2] / "eval_sets"  # shipped as package data
RAG_BUDGETS = (0.5, 0.25, 0.125)
HISTORY_BUDGETS = (0.5, 0.3, 0.2)


def read_jsonl(path: Path, limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) pairs of a JSONL file; a malformed line raises naming file and line."""
    if not path.is_file():
        raise InputError(f"{path}: eval set not found")
    with path.open(encoding="utf-8") as fh:
        n = 0
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}:{exc.colno}: malformed JSON record ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object per line")
            yield lineno, rec
            n += 1
            if limit is not None and n >= limit:
                return


def _require(rec: dict[str, Any], keys: tuple[str, ...], path: Path, lineno: int) -> None:
    missing = [k for k in keys if k not in rec]
    if missing:
        raise InputError(f"{path}:{lineno}: record lacks {', '.join(missing)}")


def _loader(filename: str, keys: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def load(_data_dir: Path | None, limit: int | None) -> Iterator[Case]:
        path = EVAL_SETS / filename
        for lineno, rec in read_jsonl(path, limit):
            _require(rec, keys, path, lineno)
            yield Case(str(rec["id"]), rec)
    return load


# --- text baselines shared by the text suites -------------------------------------------------------

def _budget_tokens(before: int, ratio: float | None) -> int:
    return max(1, int(before * (ratio if ratio is not None else 1.0)))


def text_methods(original_of: Any, score: Any) -> dict[str, Any]:
    """no-op, head truncation and random sentence drop for a text task, scored with ``score``."""
    tok = get_tokenizer()

    def noop(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        text = original_of(case)
        n = tok.count(text)
        return MethodOutput(n, n, score(case, text, text), text)

    def truncate(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        text = original_of(case)
        n = tok.count(text)
        out = truncate_head(text, _budget_tokens(n, budget), tok)
        return MethodOutput(n, tok.count(out), score(case, text, out), out)

    def random_drop(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        text = original_of(case)
        n = tok.count(text)
        seed = case_seed(case.id, int(params.get("_seed", 0)))
        out = random_sentence_drop(text, _budget_tokens(n, budget), seed, tok)
        return MethodOutput(n, tok.count(out), score(case, text, out), out)

    return {"noop": noop, "truncate": truncate, "random_drop": random_drop}


# --- RAG -------------------------------------------------------------------------------------------

def _rag_context(case: Case) -> str:
    from ...rag import format_context, read_chunks

    return format_context(read_chunks(_rag_chunks(case)))


def _rag_chunks(case: Case) -> list[dict[str, Any]]:
    return [{"text": p["text"], "title": p.get("title", ""), "id": str(i)}
            for i, p in enumerate(case.data["passages"])]


def _rag_score(case: Case, original: str, out: str) -> dict[str, float]:
    metrics: dict[str, float] = {}
    ar = answer_recall(original, out, case.data["answers"])
    if ar is not None:
        metrics["answer_recall"] = ar
    er = evidence_recall([e for e in case.data.get("evidence", []) if e in out], case.data.get("evidence", []))
    if er is not None:
        metrics["evidence_recall"] = er
    return metrics


def _rag_select(ranker: str, granularity: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...rag import format_context, select_chunks

        tok = get_tokenizer()
        original = _rag_context(case)
        n = tok.count(original)
        res = select_chunks(case.data["question"], _rag_chunks(case), _budget_tokens(n, budget), ranker=ranker,
                            granularity=granularity,
                            **{k: v for k, v in params.items() if not k.startswith("_")})
        out = format_context(res.value)
        return MethodOutput(n, tok.count(out), _rag_score(case, original, out), out)
    return method


register_suite(Suite(
    name="rag-builtin",
    task="rag",
    description="36 original questions over 8 same-topic passages (12 two-hop): answer and evidence recall.",
    load=_loader("rag.jsonl", ("id", "question", "answers", "passages")),
    methods={
        "bm25-chunk": _rag_select("bm25", "chunk"),
        "bm25-sentence": _rag_select("bm25", "sentence"),
        **text_methods(_rag_context, _rag_score),
    },
    budgets=RAG_BUDGETS,
    primary_metric="answer_recall",
    baselines=("noop", "truncate", "random_drop"),
))


# --- conversation history ----------------------------------------------------------------------------

def _messages_text(messages: Sequence[Mapping[str, Any]]) -> str:
    from ...tokens import content_text

    return "\n".join(f"{m.get('role')}: {content_text(m.get('content'))}" for m in messages)


def _history_facts(case: Case, kept_text: str) -> dict[str, float]:
    facts = case.data["facts"]
    low = " ".join(kept_text.lower().split())
    kept = sum(1 for f in facts if " ".join(f.lower().split()) in low)
    return {"fact_retention": kept / len(facts)} if facts else {}


def _history_fit(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    from ...history import fit_history

    tok = get_tokenizer()
    msgs = case.data["messages"]
    n = tok.count_messages(msgs)
    res = fit_history(msgs, _budget_tokens(n, budget), **{k: v for k, v in params.items() if not k.startswith("_")})
    out = res.value
    return MethodOutput(n, tok.count_messages(out), _history_facts(case, _messages_text(out)), _messages_text(out))


def _history_truncate(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    """Keep system messages and the newest turns that fit (a common trimmer's "last" strategy)."""
    tok = get_tokenizer()
    msgs = case.data["messages"]
    n = tok.count_messages(msgs)
    limit = _budget_tokens(n, budget)
    system = [m for m in msgs if m.get("role") == "system"]
    rest = [m for m in msgs if m.get("role") != "system"]
    kept: list[Mapping[str, Any]] = []
    for m in reversed(rest):
        if tok.count_messages(system + [m] + kept) > limit:
            break
        kept.insert(0, m)
    while kept and kept[0].get("role") == "tool":  # do not start with an orphan tool result
        kept.pop(0)
    out = system + kept
    return MethodOutput(n, tok.count_messages(out), _history_facts(case, _messages_text(out)), _messages_text(out))


def _history_noop(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    msgs = case.data["messages"]
    n = tok.count_messages(msgs)
    return MethodOutput(n, n, _history_facts(case, _messages_text(msgs)), _messages_text(msgs))


register_suite(Suite(
    name="history-builtin",
    task="history",
    description="30 original task dialogues with facts stated early: fact retention under a token budget.",
    load=_loader("history.jsonl", ("id", "messages", "facts")),
    methods={"fit_history": _history_fit, "noop": _history_noop, "truncate_last": _history_truncate},
    budgets=HISTORY_BUDGETS,
    primary_metric="fact_retention",
    baselines=("noop", "truncate_last"),
))


# --- system prompts -------------------------------------------------------------------------------------

def _prompt_cases(data_dir: Path | None, limit: int | None) -> Iterator[Case]:
    path = EVAL_SETS / "prompts.jsonl"
    for lineno, rec in read_jsonl(path, limit):
        _require(rec, ("id", "prompt"), path, lineno)
        yield Case(str(rec["id"]), {**rec, "text": rec["prompt"]})


def _prompts_builtin() -> Suite:
    """The shared-corpus prompt suite's methods and baselines (cut to the size each level reached),
    on the project's own prompts."""
    from dataclasses import replace

    from .prompts import _suite

    return replace(
        _suite("prompts-builtin", "", _prompt_cases),
        description="36 original system prompts: savings per compression level and fact retention, beside "
                    "truncation and random sentence drop cut to the same size.",
        needs_shared_data=False,
    )


register_suite(_prompts_builtin())


# --- output schemas -------------------------------------------------------------------------------------

def _schema(fmt: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...schema import compact_schema

        tok = get_tokenizer()
        cs = compact_schema(case.data["schema"], format=fmt)
        before = after = 0
        exact = []
        for inst in case.data["instances"]:
            before += tok.count(json.dumps(inst, indent=2, ensure_ascii=False))
            enc = cs.encode(inst)
            after += tok.count(enc)
            exact.append(roundtrip_exact(inst, cs.parse(enc)))
        instr_ratio = tok.count(cs.instructions) / max(1, tok.count(json.dumps(case.data["schema"])))
        return MethodOutput(before, after, {"roundtrip_exact": sum(exact) / len(exact),
                                            "instructions_vs_schema": instr_ratio})
    return method


def _schema_minified(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    before = sum(tok.count(json.dumps(i, indent=2, ensure_ascii=False)) for i in case.data["instances"])
    after = sum(tok.count(json.dumps(i, separators=(",", ":"), ensure_ascii=False)) for i in case.data["instances"])
    return MethodOutput(before, after, {"roundtrip_exact": 1.0})


register_suite(Suite(
    name="schema-builtin",
    task="schema",
    description="24 original output schemas with valid instances: output tokens vs pretty JSON, round-trips.",
    load=_loader("schemas.jsonl", ("id", "schema", "instances")),
    methods={"auto": _schema("auto"), "toon": _schema("toon"), "delimited": _schema("delimited"),
             "json-min": _schema("json-min"), "minified_json": _schema_minified},
    budgets=(None,),
    primary_metric="roundtrip_exact",
    baselines=("minified_json",),
))


__all__ = ["EVAL_SETS", "read_jsonl", "text_methods"]
