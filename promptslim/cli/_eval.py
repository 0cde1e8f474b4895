"""``promptslim eval``: token savings beside answer quality, with baselines, plots and a gate."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "score transforms' token savings against answer quality on eval suites"
DESCRIPTION = (HELP + ". With no SUITE, runs the project's own suites on eval_sets/ (no shared data needed). "
               "Exit 1 when --gate finds a regression, 2 on usage or data errors.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suites", nargs="*", metavar="SUITE", help="suite names (see --list); 'all' for every suite")
    p.add_argument("--list", action="store_true", help="list suites and their methods, then exit")
    p.add_argument("--transform", "-t", action="append", metavar="NAME",
                   help="only these methods (repeatable); baselines always run")
    p.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                   help="parameter passed to methods (value parsed as JSON when possible)")
    p.add_argument("--budgets", metavar="R,R,...", help="budget ratios, e.g. 0.5,0.25,0.125")
    p.add_argument("--limit", type=int, help="at most N cases per suite")
    p.add_argument("--workers", type=int, default=1, help="threads per method (default 1)")
    p.add_argument("--seed", type=int, default=0, help="run seed for random baselines (default 0)")
    p.add_argument("--data-dir", help="shared data folder (default $PROMPTSLIM_SHARED_DATA or ../shared/data)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="write the JSON report here ('-' = stdout)")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown table here")
    p.add_argument("--plot", metavar="PNG", help="draw savings against quality (needs matplotlib)")
    p.add_argument("--gate", metavar="BASELINE.json", help="compare with a baseline report; exit 1 on regression")
    p.add_argument("--update-gate", action="store_true", help="write this run as the --gate baseline")
    p.add_argument("--max-quality-drop", type=float, default=0.01,
                   help="allowed absolute drop of any quality metric (default 0.01)")
    p.add_argument("--max-savings-drop", type=float, default=1.0,
                   help="allowed drop of savings in percentage points (default 1.0)")


def _parse_params(items: list[str]) -> dict[str, Any]:
    from ..errors import InputError

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--param {item!r}: expected K=V")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..eval.core import list_suites
    from ..eval.report import gate_against, load_report, plot_frontier, to_markdown, write_json
    from ..eval.runner import run_eval

    if args.list:
        for s in list_suites():
            data = "shared data" if s.needs_shared_data else "eval_sets"
            print(f"{s.name:<22} {s.task:<10} {data:<12} methods: {', '.join(s.methods)}")
            print(f"{'':<22} {s.description}")
        return 0
    names = args.suites
    if not names:
        names = [s.name for s in list_suites() if not s.needs_shared_data]
    elif names == ["all"]:
        names = [s.name for s in list_suites()]
    budgets = None
    if args.budgets:
        try:
            budgets = [float(x) for x in args.budgets.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"--budgets {args.budgets!r}: expected comma-separated ratios like 0.5,0.25") from None
        if any(not 0 < b <= 1 for b in budgets):
            raise InputError("--budgets: every ratio must be in (0, 1]")
    if args.gate and not args.update_gate:
        baseline = load_report(args.gate)  # fail fast on a missing or corrupt baseline
    report = run_eval(names, methods=args.transform, budgets=budgets, params=_parse_params(args.param),
                      limit=args.limit, workers=max(1, args.workers), data_dir=args.data_dir, seed=args.seed)
    md = to_markdown(report)
    if args.json_out == "-":
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(md)
        if args.json_out:
            write_json(report, args.json_out)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(md)
    if args.plot:
        plot_frontier(report, args.plot)
        print(f"frontier plot written to {args.plot}", file=sys.stderr)
    print(f"eval finished in {report.seconds:.1f}s, {len(report.failures)} failed case(s)", file=sys.stderr)
    if args.gate:
        if args.update_gate:
            write_json(report, args.gate)
            print(f"gate baseline written to {args.gate}", file=sys.stderr)
            return 0
        result = gate_against(report, baseline, args.max_quality_drop, args.max_savings_drop)
        for line in result.improvements:
            print(f"improved: {line}", file=sys.stderr)
        for line in result.missing:
            print(f"not in baseline: {line}", file=sys.stderr)
        for line in result.regressions:
            print(f"REGRESSION: {line}", file=sys.stderr)
        return 1 if result.failed else 0
    return 0
