"""System-prompt compression suites on the shared prompt corpora.

* ``prompts-fabric``: the 225 fabric system prompts (structured Markdown).
* ``prompts-awesome``: the 1,529 awesome-chatgpt-prompts role prompts.
* ``prompts-bbh``: the 27 BIG-Bench-Hard 3-shot chain-of-thought prompts.

Methods: ``safe``, ``balanced``, ``aggressive`` (:func:`promptslim.compress_prompt` levels), and
the baselines ``noop``, ``truncate`` / ``random_drop`` cut to the token count ``balanced``
reached on the same prompt, and ``truncate_aggr`` / ``random_drop_aggr`` cut to the count
``aggressive`` reached, so the quality cost is compared at equal savings.

Metrics per case: ``fact_retention`` (the shared :func:`~promptslim.eval.metrics.fact_retention`:
numbers, URLs, e-mails, placeholders, negated clauses and capitalised names of the original still
there; the target is 1.0 at ``safe`` and ``balanced``), ``fact_retention_ws`` (the same on
whitespace-normalised texts, because the metric joins a clause's words with single spaces and so
misses facts split over aligned columns even in the original: see ``noop``), and
``embedding_similarity`` (cosine of the mean all-MiniLM-L6-v2 embeddings of ~120-word chunks of
original and output, so that the whole prompt counts and not only the model's first 256 word
pieces; only with the ``semantic`` extra; pass ``-p similarity=false`` to skip it).

``python -m promptslim.eval.tasks.prompts [--limit N]`` prints median and mean savings and the
metrics per suite and method.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core import Case, MethodOutput, Suite, register_suite, require_file

__all__ = ["load_fabric", "load_awesome", "load_bbh", "score", "whole_text_similarity", "SUITES"]

FABRIC = "prompts/fabric-patterns.jsonl"
AWESOME = "prompts/awesome-chatgpt-prompts.csv"
BBH = "prompts/bbh-cot-prompts"


def load_fabric(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """Fabric patterns' system prompts, in file order."""
    path = require_file(data_dir, FABRIC)
    with path.open(encoding="utf-8") as fh:
        n = 0
        for line in fh:
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                return
            row = json.loads(line)
            yield Case(f"fabric/{row['name']}", {"text": row["system"]})
            n += 1


def load_awesome(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """awesome-chatgpt-prompts ``prompt`` column, in file order (some prompts exceed csv's default
    field size, so the limit is raised)."""
    path = require_file(data_dir, AWESOME)
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if limit is not None and i >= limit:
                return
            yield Case(f"awesome/{i:04d}", {"text": row["prompt"], "act": row.get("act", "")})


def load_bbh(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """BIG-Bench-Hard chain-of-thought prompts, sorted by task name."""
    folder = require_file(data_dir, BBH)
    for i, path in enumerate(sorted(folder.glob("*.txt"))):
        if limit is not None and i >= limit:
            return
        yield Case(f"bbh/{path.stem}", {"text": path.read_text(encoding="utf-8")})


def _ws(text: str) -> str:
    return " ".join(text.split())


def score(original: str, out: str, state: Any = None) -> dict[str, float]:
    """Fact retention (raw and whitespace-normalised) and, with an embedder, embedding similarity."""
    from ..metrics import fact_retention

    metrics: dict[str, float] = {}
    fr = fact_retention(original, out)
    if fr is not None:
        metrics["fact_retention"] = fr
        fw = fact_retention(_ws(original), _ws(out))
        if fw is not None:
            metrics["fact_retention_ws"] = fw
    if state is not None and state.get("embedder") is not None:
        metrics["embedding_similarity"] = 1.0 if out == original else whole_text_similarity(
            state["embedder"], original, out)
    return metrics


def _chunks(text: str, words: int = 120) -> list[str]:
    """Consecutive lines grouped into pieces of about ``words`` words (a long line is split)."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for line in text.splitlines():
        toks = line.split()
        while toks:
            take = toks[: words - n]
            toks = toks[len(take):]
            cur.extend(take)
            n += len(take)
            if n >= words:
                out.append(" ".join(cur))
                cur, n = [], 0
    if cur:
        out.append(" ".join(cur))
    return out or [""]


def whole_text_similarity(embedder: Any, a: str, b: str) -> float:
    """Cosine of the mean chunk embeddings of ``a`` and ``b``: the embedding model reads only its
    first 256 word pieces, so embedding a long prompt whole would ignore everything after them."""
    import numpy as np

    va = embedder.embed_matrix(_chunks(a)).mean(axis=0)
    vb = embedder.embed_matrix(_chunks(b)).mean(axis=0)
    denom = float(np.linalg.norm(va) * np.linalg.norm(vb)) or 1.0
    return max(0.0, min(1.0, float(va @ vb) / denom))


def _setup(params: Mapping[str, Any]) -> dict[str, Any]:
    """Load the embedder once per run when the ``semantic`` extra is installed (else no similarity)."""
    if str(params.get("similarity", True)).lower() in ("false", "0", "no"):
        return {"embedder": None}
    try:
        from ...backends.embeddings import get_embedder

        return {"embedder": get_embedder()}
    except ImportError:  # MissingExtraError is an ImportError: run without the metric
        return {"embedder": None}


def _options(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not k.startswith("_") and k != "similarity"}


def _level(level: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...compress import compress_prompt

        text = case.data["text"]
        res = compress_prompt(text, level=level, max_chars=None, **_options(params))
        return MethodOutput(res.savings.before, res.savings.after, score(text, res.value, params.get("_state")),
                            res.value)
    return method


def _baseline(kind: str, level: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...compress import compress_prompt
        from ...tokens import get_tokenizer
        from ..baselines import case_seed, random_sentence_drop, truncate_head

        tok = get_tokenizer()
        text = case.data["text"]
        if kind == "noop":
            n = tok.count(text)
            return MethodOutput(n, n, score(text, text, params.get("_state")), text)
        target = compress_prompt(text, level=level, max_chars=None, **_options(params)).savings.after
        if kind == "truncate":
            out = truncate_head(text, target, tok)
        else:
            out = random_sentence_drop(text, target, case_seed(case.id, int(params.get("_seed", 0))), tok)
        return MethodOutput(tok.count(text), tok.count(out), score(text, out, params.get("_state")), out)
    return method


def _llmlingua2(model: str) -> Any:
    """LLMLingua-2 baseline at the size ``aggressive`` reached on the same prompt (needs a local model)."""
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...compress import compress_prompt

        text = case.data["text"]
        target = compress_prompt(text, level="aggressive", max_chars=None, **_options(params)).savings
        rate = max(0.05, min(1.0, target.after / target.before)) if target.before else 1.0
        res = compress_prompt(text, level="safe", backend="llmlingua2", model=model, rate=rate, max_chars=None)
        return MethodOutput(res.savings.before, res.savings.after, score(text, res.value, params.get("_state")),
                            res.value)
    return method


def _suite(name: str, description: str, load: Any, llmlingua_model: str | None = None) -> Suite:
    """A prompt-compression suite; with ``llmlingua_model`` (default ``$PROMPTSLIM_LLMLINGUA_MODEL``, a
    local LLMLingua-2 model folder) it adds the ``llmlingua2`` baseline."""
    model = llmlingua_model or os.environ.get("PROMPTSLIM_LLMLINGUA_MODEL") or None
    extra = {"llmlingua2": _llmlingua2(model)} if model else {}
    return Suite(
        name=name,
        task="prompts",
        description=description,
        load=load,
        methods={
            "safe": _level("safe"), "balanced": _level("balanced"), "aggressive": _level("aggressive"),
            "noop": _baseline("noop", ""),
            "truncate": _baseline("truncate", "balanced"), "random_drop": _baseline("random", "balanced"),
            "truncate_aggr": _baseline("truncate", "aggressive"),
            "random_drop_aggr": _baseline("random", "aggressive"),
            **extra,
        },
        budgets=(None,),
        needs_shared_data=True,
        primary_metric="fact_retention",
        baselines=("noop", "truncate", "random_drop", "truncate_aggr", "random_drop_aggr", *extra),
        setup=_setup,
    )


SUITES = (
    _suite("prompts-fabric", "compress_prompt levels on the 225 fabric system prompts: savings, fact "
           "retention, embedding similarity; baselines cut to the same size", load_fabric),
    _suite("prompts-awesome", "compress_prompt levels on the 1,529 awesome-chatgpt-prompts", load_awesome),
    _suite("prompts-bbh", "compress_prompt levels on the 27 BIG-Bench-Hard chain-of-thought prompts", load_bbh),
)
if __name__ != "__main__":  # run as a script, the package import has registered them already
    for _s in SUITES:
        register_suite(_s)


def main(argv: list[str] | None = None) -> int:
    """Print median / mean savings and metric means per suite and method."""
    import argparse
    import statistics

    from ..core import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-similarity", action="store_true")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    data = shared_data_dir(args.data_dir)
    params: dict[str, Any] = {"similarity": not args.no_similarity}
    params["_state"] = _setup(params)
    for suite in SUITES:
        cases = list(suite.load(data, args.limit))
        print(f"\n{suite.name} ({len(cases)} prompts)")
        print(f"  {'method':<17} {'median %':>8} {'mean %':>7} {'facts':>7} {'facts_ws':>8} {'min facts':>9} {'sim':>6}")
        for name, fn in suite.methods.items():
            outs = [fn(c, None, params) for c in cases]
            pct = [100.0 * (1 - o.tokens_after / o.tokens_before) for o in outs if o.tokens_before]
            def mean(key: str, outs: list[MethodOutput] = outs) -> str:
                vals = [o.metrics[key] for o in outs if key in o.metrics]
                return f"{statistics.mean(vals):.4f}" if vals else "-"
            facts = [o.metrics["fact_retention"] for o in outs if "fact_retention" in o.metrics]
            print(f"  {name:<17} {statistics.median(pct):8.1f} {statistics.mean(pct):7.1f} {mean('fact_retention'):>7} "
                  f"{mean('fact_retention_ws'):>8} {min(facts) if facts else 1.0:9.3f} {mean('embedding_similarity'):>6}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
