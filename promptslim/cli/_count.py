"""``promptslim count FILE...``: tokens per file, whether exact, and estimated cost per 1,000 calls."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "count tokens in prompt files and estimate cost per 1,000 calls"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="prompt files ('-' reads standard input)")
    p.add_argument("--model", "-m", default="gpt-4o", help="model for tokenizer and prices (default: gpt-4o)")
    p.add_argument("--output-tokens", type=int, default=0,
                   help="expected output tokens per call, added to the cost estimate (default: 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from .._io import BinaryFileError, iter_text_chunks
    from ..errors import InputError
    from ..pricing import estimate_cost
    from ..tokens import count_text_stream, get_tokenizer

    tok = get_tokenizer(args.model)
    estimate_cost(0, 0, args.model)  # unknown model -> UnknownModelError -> exit 2 with suggestions
    rows: list[dict[str, Any]] = []
    status = 0
    for name in args.files:
        try:
            if name == "-":
                n = tok.count(sys.stdin.read())
            else:
                n = count_text_stream(iter_text_chunks(name), tok)
        except BinaryFileError as exc:
            print(f"promptslim: skipped: {exc}", file=sys.stderr)
            continue
        except InputError as exc:
            print(f"promptslim: error: {exc}", file=sys.stderr)
            status = 2
            continue
        cost = float(estimate_cost(n, args.output_tokens, args.model).per_calls(1000))
        rows.append({"file": name, "tokens": n, "exact": tok.exact, "encoding": tok.name,
                     "model": args.model, "cost_per_1k_calls_usd": cost})
    if args.json:
        print(json.dumps({"files": rows, "tokenizer": tok.identity, "note": tok.note or None}, indent=2))
    else:
        width = max([len(str(r["file"])) for r in rows] + [4])
        print(f"{'file':<{width}}  {'tokens':>9}  {'exact':<5}  {'$/1k calls':>10}")
        for r in rows:
                print(f"{r['file']!s:<{width}}  {r['tokens']:>9,}  {'yes' if r['exact'] else 'no':<5}  {r['cost_per_1k_calls_usd']:>10.4f}")
        if len(rows) > 1:
            total = sum(r["tokens"] for r in rows)
            print(f"{'total':<{width}}  {total:>9,}")
        print(f"tokenizer: {tok.name} ({'exact' if tok.exact else tok.note}), model {args.model}", file=sys.stderr)
    return status
