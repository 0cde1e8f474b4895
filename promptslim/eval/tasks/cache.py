"""Eval suite ``cache-trace``: a request trace built from the shared fabric system prompts, with
injected dates, user names and ids, replayed through :func:`promptslim.simulate_cache`.

Each "app" is one fabric system prompt wrapped in one of several request templates that put
per-request values at the top, in the middle or at the end, in varied formats (ISO stamps, long
dates, numeric dates, UUIDs, prefixed and numeric ids, e-mails, names). Requests arrive as a Poisson
process (``rate`` per minute over the whole trace, apps chosen uniformly), seeded, so a run is
repeatable. Metrics: the share of static tokens served from cache after each app's first request,
and the input-cost reduction of the split layout against the same requests as written ("naive",
with cache markers in the same places on Anthropic).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..core import Case, MethodOutput, Suite, register_suite, require_file

__all__ = ["build_trace", "load_fabric", "run_trace", "TEMPLATES"]

FIRST = ("Alice", "Bob", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jonas", "Kwame", "Lena",
         "Mateo", "Nadia", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe")
LAST = ("Smith", "Garcia", "Okafor", "Tanaka", "Nguyen", "Müller", "Rossi", "Kowalski", "Haddad", "Silva",
        "Ivanova", "Patel", "O'Brien", "Larsen", "Mbeki", "Cohen", "Park", "Dubois", "Novak", "Reyes")

# Request templates: {system} is the fabric prompt; {head}/{tail} split it after its first section.
TEMPLATES: tuple[str, ...] = (
    "Current date: {iso_stamp}\nUser: {full_name} ({email})\nSession ID: {uuid}\n\n{system}",
    "Today is {long_date}. You are talking to {first}.\n\n{system}\n\nRequest id: req_{hex12}",
    "# CONTEXT\n\n- Date: {dmy}\n- Customer name: {full_name}\n- Customer ID: {cust_id}\n\n{system}",
    "{head}\n\nThe user's name is {full_name}. Today's date is {mdy}.\n\n{tail}",
    "You are assisting {full_name} (user id {num_id}). It is {hhmm} UTC on {iso_date}.\n\n{system}",
    "{system}\n\nCurrent time: {iso_stamp}. Conversation {uuid}.",
)


def load_fabric(data_dir: Path | None) -> list[dict[str, str]]:
    """The shared fabric patterns (``name``, ``system``, ``user``) in file order."""
    path = require_file(data_dir, "prompts/fabric-patterns.jsonl")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _split_head(system: str) -> tuple[str, str]:
    """The prompt cut after its first Markdown section (or first paragraph)."""
    idx = system.find("\n#", 1)
    if idx < 0:
        idx = system.find("\n\n", 1)
    return (system[:idx].rstrip(), system[idx:].lstrip("\n")) if idx > 0 else (system, "")


def _values(rng: random.Random, now: datetime) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "iso_stamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso_date": now.strftime("%Y-%m-%d"),
        "long_date": now.strftime("%A, %B ") + str(now.day) + now.strftime(", %Y"),
        "mdy": now.strftime("%B ") + str(now.day) + now.strftime(", %Y"),
        "dmy": now.strftime("%d/%m/%Y"),
        "hhmm": now.strftime("%H:%M"),
        "first": first,
        "full_name": f"{first} {last}",
        "email": f"{first}.{last}@example.com".lower().replace("'", "").replace("ü", "ue"),
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "hex12": f"{rng.getrandbits(48):012x}",
        "cust_id": f"cus_{rng.getrandbits(40):010x}",
        "num_id": str(rng.randint(10_000, 9_999_999)),
    }


def build_trace(rows: list[dict[str, str]], *, n_requests: int = 1000, apps: int = 4, rate_per_min: float = 4.0,
                seed: int = 0, pool: str = "cacheable", min_static_tokens: int = 1024) -> list[dict[str, Any]]:
    """A seeded trace: ``apps`` fabric prompts (from the whole file, or only those whose static text
    reaches ``min_static_tokens`` o200k tokens with ``pool="cacheable"``), Poisson arrivals at
    ``rate_per_min`` over the trace. Each request: ``time``, ``messages``, ``app``, ``template``."""
    from ...tokens import get_tokenizer

    if pool not in ("all", "cacheable"):
        raise ValueError(f"pool must be 'all' or 'cacheable', got {pool!r}")
    rng = random.Random(seed)
    tok = get_tokenizer()
    candidates = [r for r in rows if r["system"].strip()]
    if pool == "cacheable":
        candidates = [r for r in candidates if tok.count(r["system"]) >= min_static_tokens]
    chosen = rng.sample(candidates, min(apps, len(candidates)))
    app_templates = [TEMPLATES[(seed + i) % len(TEMPLATES)] for i in range(len(chosen))]
    inputs = [r["system"] for r in rows if r["system"].strip()]
    start = datetime(2026, 11, 22, 8, 0, 0, tzinfo=timezone.utc)
    t = 0.0
    trace = []
    for _ in range(n_requests):
        t += rng.expovariate(rate_per_min / 60.0)
        k = rng.randrange(len(chosen))
        vals = _values(rng, start + timedelta(seconds=t))
        head, tail = _split_head(chosen[k]["system"])
        system = app_templates[k].format(system=chosen[k]["system"], head=head, tail=tail, **vals)
        doc = rng.choice(inputs)
        a = rng.randrange(max(1, len(doc) - 1500))
        user = "INPUT:\n\n" + doc[a:a + rng.randint(300, 1500)]
        trace.append({"time": round(t, 3), "app": chosen[k]["name"], "template": TEMPLATES.index(app_templates[k]),
                      "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]})
    return trace


def run_trace(trace: list[dict[str, Any]], provider: str, model: str, ttl: str = "5m") -> dict[str, Any]:
    """Simulate ``trace`` and return the summary plus per-template cached shares."""
    from ...cache import simulate_cache

    rep = simulate_cache(trace, provider, model, ttl)
    out: dict[str, Any] = dict(rep.summary())
    by_template: dict[int, list[int]] = {}
    for req, r in zip(trace, rep.restructured, strict=True):
        if not r.warmup:
            acc = by_template.setdefault(req["template"], [0, 0])
            acc[0] += r.static_cached_tokens
            acc[1] += r.static_tokens
    out["cached_share_by_template"] = {k: (v[0] / v[1] if v[1] else 0.0) for k, v in sorted(by_template.items())}
    out["notes"] = list(rep.notes)
    out["static_cost_naive"] = float(rep.cost("naive", static=True))
    out["static_cost_restructured"] = float(rep.cost("restructured", static=True))
    out["input_tokens_naive"] = sum(r.input_tokens for r in rep.naive)
    out["input_tokens_restructured"] = sum(r.input_tokens for r in rep.restructured)
    return out


_TARGETS = (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o"))


def _load(data_dir: Path | None, limit: int | None) -> Iterator[Case]:
    rows = load_fabric(data_dir)
    n = limit if limit is not None else 1000
    for provider, model in _TARGETS:
        yield Case(f"{provider}/{model}", {"provider": provider, "model": model, "rows": rows, "n": n})


def _simulate(case: Case, params: Mapping[str, Any]) -> dict[str, Any]:
    state = params.get("_state")
    cache: dict[str, Any] = state if isinstance(state, dict) else {}
    if case.id not in cache:
        d = case.data
        trace = build_trace(d["rows"], n_requests=d["n"], apps=int(params.get("apps", 4)),
                            rate_per_min=float(params.get("rate", 4.0)), seed=int(params.get("seed", 0)),
                            pool=str(params.get("pool", "cacheable")))
        cache[case.id] = run_trace(trace, d["provider"], d["model"], str(params.get("ttl", "5m")))
    summary: dict[str, Any] = cache[case.id]
    return summary


def _naive(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    s = _simulate(case, params)
    n = s["input_tokens_naive"]
    return MethodOutput(n, n, {"cached_share": s["cached_share_static_naive"], "hit_rate": s["hit_rate_naive"],
                               "cost_reduction": 0.0, "cost_reduction_static": 0.0})


def _split(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    s = _simulate(case, params)
    return MethodOutput(s["input_tokens_naive"], s["input_tokens_restructured"],
                        {"cached_share": s["cached_share_static"], "hit_rate": s["hit_rate"],
                         "cost_reduction": s["cost_reduction"], "cost_reduction_static": s["cost_reduction_static"]})


register_suite(Suite(
    name="cache-trace",
    task="cache",
    description="1,000-request trace of fabric system prompts with injected dates, names and ids (Poisson "
                "arrivals, seeded): static tokens served from cache after warm-up and input-cost reduction, "
                "naive layout vs split_cacheable, at Anthropic (claude-sonnet-4-5) and OpenAI (gpt-4o) prices. "
                "Tokens are input tokens (the transform saves cost, not tokens).",
    load=_load,
    methods={"naive": _naive, "split_cacheable": _split},
    needs_shared_data=True,
    primary_metric="cached_share",
    baselines=("naive",),
    setup=lambda params: {},
))
