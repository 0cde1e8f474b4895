"""``promptslim lint PATH...``: ruff-style findings for prompt files, with fixes (see docs/lint.md)."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "lint prompt files for token waste, cache breakers and missing constraints (with --fix)"
DESCRIPTION = (
    "Lint prompt files (.txt .md .prompt, Jinja .j2/.jinja/.jinja2, chat messages in .json/.yaml/.yml). "
    "Each finding shows path:line:col, the rule code, a message and the tokens its fix saves. "
    "Exit codes: 0 clean, 1 findings (or pending fixes with --diff), 2 errors."
)


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    p.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) unsafe fixes")
    p.add_argument("--diff", action="store_true",
                   help="print the fixes as a diff without writing; exit 1 when any are pending")
    p.add_argument("--select", type=_codes, default=None, metavar="CODES",
                   help="comma-separated codes or prefixes to enable, replacing the config (ALL for every rule)")
    p.add_argument("--extend-select", type=_codes, default=[], metavar="CODES", help="codes to enable in addition")
    p.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="codes or prefixes to disable")
    p.add_argument("--format", "--output-format", dest="format", choices=("text", "json", "github", "sarif"),
                   default=None, help="output format (default: text; github when GITHUB_ACTIONS is set)")
    p.add_argument("--statistics", action="store_true", help="print counts by rule instead of findings")
    p.add_argument("--model", "-m", default=None, help="model for tokenizer, cache minimums and prices "
                                                       "(default: config, else gpt-4o)")
    p.add_argument("--config", default=None, metavar="FILE", help="promptslim.toml or pyproject.toml to use")
    p.add_argument("--isolated", action="store_true", help="ignore every config file")
    p.add_argument("--exclude", type=_codes, default=[], metavar="PATTERNS",
                   help="extra gitignore-style patterns to skip")
    p.add_argument("--output-file", "-o", default=None, metavar="FILE", help="write the report to FILE")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="worker processes for 64 or more files (default: one per available core; 1: none)")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the result cache (.promptslim_cache/ beside the config)")


def run(args: argparse.Namespace) -> int:
    from ..lint.config import with_overrides
    from ..lint.output import render, render_statistics, step_summary, use_color
    from ..lint.runner import discover_config, lint_paths

    if args.fix and args.diff:
        print("promptslim: error: --fix and --diff cannot be combined", file=sys.stderr)
        return 2
    cfg = discover_config(args.paths, args.config, args.isolated)
    cfg = with_overrides(cfg, select=args.select, extend_select=args.extend_select, ignore=args.ignore,
                         model=args.model, exclude=args.exclude)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    result = lint_paths(args.paths, cfg, fix=args.fix, unsafe_fixes=args.unsafe_fixes, diff=args.diff,
                        cache=not args.no_cache, jobs=args.jobs)
    out = open(args.output_file, "w", encoding="utf-8") if args.output_file else sys.stdout
    try:
        if args.diff:
            for r in result.reports:
                if r.diff:
                    out.write(r.diff)
            for e in result.errors:
                print(f"{e}: error", file=sys.stderr)
            pending = sum(1 for r in result.reports if r.diff)
            saved = sum(r.tokens_fixed for r in result.reports)
            print(f"{pending} file{'s' if pending != 1 else ''} would be changed; the fixes save {saved:,} tokens"
                  if pending else "No fixes to apply.", file=sys.stderr)
        elif args.statistics:
            out.write(render_statistics(result, "json" if fmt == "json" else "text"))
        else:
            out.write(render(result, fmt, color=fmt == "text" and out is sys.stdout and use_color(sys.stdout)))
        for r in result.reports:
            if r.skipped:
                print(f"promptslim: skipped: {r.skipped}", file=sys.stderr)
    finally:
        if out is not sys.stdout:
            out.close()
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(step_summary(result))
    return result.exit_code()
