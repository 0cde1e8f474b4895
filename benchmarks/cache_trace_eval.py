"""Cache-trace eval: 1,000 requests from the shared fabric system prompts with injected dates, user
names and ids, Poisson arrivals, replayed through simulate_cache at Anthropic and OpenAI prices.

Run from the repo root (needs the shared data folder, see PROMPTSLIM_SHARED_DATA):

    python benchmarks/cache_trace_eval.py                 # headline table
    python benchmarks/cache_trace_eval.py --sweep         # plus sensitivity to rate, apps, pool and TTL
    python benchmarks/cache_trace_eval.py --json out.json

The same trace is available as the eval suite ``cache-trace`` (``promptslim eval cache-trace``).
Targets (issue 4): >= 90% of static tokens served from cache after warm-up; >= 70% lower input cost
on the static part at Anthropic prices.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from promptslim.eval.core import shared_data_dir
from promptslim.eval.tasks.cache import build_trace, load_fabric, run_trace

TARGETS = (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o"))


def _row(label: str, provider: str, model: str, s: dict[str, Any]) -> str:
    return (f"| {label} | {provider}/{model} | {s['cached_share_static_naive']:.1%} | {s['cached_share_static']:.1%} "
            f"| {s['cost_reduction_static']:.1%} | {s['cost_reduction_static_after_warmup']:.1%} "
            f"| {s['cost_reduction']:.1%} | {s['cost_reduction_vs_nocache']:.1%} "
            f"| ${s['cost_naive']:.2f} / ${s['cost_restructured']:.2f} / ${s['cost_nocache']:.2f} |")


HEADER = ("| trace | model | static cached, naive | static cached, split | static cost cut | static cost cut "
          "after warm-up | input cost cut | vs no caching | cost naive / split / no cache |\n"
          "|---|---|---|---|---|---|---|---|---|")


def run(rows: list[dict[str, str]], label: str, ttl: str = "5m", **trace_kw: Any) -> list[tuple[str, dict[str, Any]]]:
    trace = build_trace(rows, **trace_kw)
    out = []
    for provider, model in TARGETS:
        t0 = time.perf_counter()
        s = run_trace(trace, provider, model, ttl)
        s["seconds"] = round(time.perf_counter() - t0, 1)
        s["trace"] = {"label": label, "ttl": ttl, **trace_kw}
        out.append((_row(label, provider, model, s), s))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None, help="shared data folder (default $PROMPTSLIM_SHARED_DATA or ../shared/data)")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--apps", type=int, default=4, help="distinct system prompts in the trace")
    ap.add_argument("--rate", type=float, default=4.0, help="requests per minute over the whole trace")
    ap.add_argument("--pool", choices=("cacheable", "all"), default="cacheable",
                    help="draw apps from prompts of >= 1,024 tokens (cacheable) or from all 225")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweep", action="store_true", help="also vary rate, apps, pool and TTL (on 400 requests each)")
    ap.add_argument("--json", default=None, help="write every summary as JSON here")
    args = ap.parse_args(argv)
    data = Path(args.data_dir) if args.data_dir else shared_data_dir()
    if not data.is_absolute() and not data.exists():
        data = Path(__file__).resolve().parents[1] / data
    rows = load_fabric(data)
    kw = {"n_requests": args.requests, "apps": args.apps, "rate_per_min": args.rate, "seed": args.seed, "pool": args.pool}
    results = run(rows, f"default: {args.requests} req, {args.apps} apps, {args.rate:g}/min, {args.pool}", **kw)
    if args.sweep:
        base = {**kw, "n_requests": 400}
        for rate in (0.5, 1.0, 12.0):
            results += run(rows, f"rate {rate:g}/min", **{**base, "rate_per_min": rate})
        for apps in (1, 16):
            results += run(rows, f"{apps} apps", **{**base, "apps": apps})
        results += run(rows, "pool: all 225 prompts, 16 apps", **{**base, "pool": "all", "apps": 16})
        results += run(rows, "rate 0.5/min, 1h TTL", ttl="1h", **{**base, "rate_per_min": 0.5})
    print(HEADER)
    for line, _ in results:
        print(line)
    print()
    for _, s in results[:2]:
        print(f"{s['provider']}/{s['model']}: hit rate {s['hit_rate']:.1%} (naive {s['hit_rate_naive']:.1%}), "
              f"warm-up requests {s['warmup_requests']}, static cached by template "
              + ", ".join(f"T{k}={v:.1%}" for k, v in s["cached_share_by_template"].items())
              + f"; {s['seconds']} s" + (f"; notes: {'; '.join(s['notes'])}" if s["notes"] else ""))
    if args.json:
        Path(args.json).write_text(json.dumps([s for _, s in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
