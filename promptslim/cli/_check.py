"""``promptslim check PATH...``: fail CI when prompt token counts regress against a baseline."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "fail when prompt files grow past token thresholds (against a baseline file or a git ref)"
DESCRIPTION = (
    "Recount the prompt files under PATH and compare them with a baseline (promptslim.lock.json, or a "
    "git revision with --base-ref). Exit 1 when a file grows by more than --max-increase percent AND by "
    "at least --min-increase-tokens tokens, or a new file exceeds --budget; exit 2 when the baseline is "
    "missing, corrupt or counted with another tokenizer. Improvements are reported; --update locks "
    "them in. Defaults come from [tool.promptslim] in pyproject.toml."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="prompt files or folders (default: paths in [tool.promptslim])")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--baseline", metavar="FILE", help="baseline file (default: promptslim.lock.json)")
    src.add_argument("--base-ref", metavar="REF",
                     help="count the baseline from this git revision's files instead (e.g. origin/main)")
    p.add_argument("--max-increase", metavar="PCT", help="relative growth allowed per file (default: 5%%)")
    p.add_argument("--min-increase-tokens", type=int, metavar="N",
                   help="growth below N tokens never fails (default: 20)")
    p.add_argument("--budget", type=int, metavar="N", help="token budget of each new file (default: none)")
    p.add_argument("-m", "--model", help="model for tokenizer and prices (default: the baseline's, or gpt-4o)")
    p.add_argument("--format", choices=("text", "json", "github", "markdown"), default="text",
                   help="output format (github: annotations plus a table; with github or markdown the "
                        "Markdown report is also appended to $GITHUB_STEP_SUMMARY when set)")
    p.add_argument("--update", action="store_true",
                   help="write improvements, renames, deletions and new files into the baseline")
    p.add_argument("-v", "--verbose", action="store_true", help="list unchanged files too")
    p.add_argument("--root", metavar="DIR", help="folder baseline paths are relative to")
    p.add_argument("--ignore-tiktoken-version", action="store_true",
                   help="compare even if the baseline was counted with another tiktoken version")
    p.add_argument("--no-git-renames", action="store_true", help="pair renamed files by content hash only")


def _annotation_prefix(root: str) -> str:
    from ..gate_git import GitError, git_toplevel

    try:
        top = str(git_toplevel(root))
    except GitError:
        top = os.getcwd()
    rel = os.path.relpath(root, top).replace(os.sep, "/")
    return "" if rel == "." else rel


def run(args: argparse.Namespace) -> int:
    from ..gate import (
        DEFAULT_BASELINE,
        Thresholds,
        check_paths,
        format_github,
        format_json,
        format_markdown,
        format_text,
        load_config,
        parse_percent,
        ratchet_baseline,
        write_baseline,
    )
    from ..gate_baseline import dumps_baseline

    config = load_config()
    paths = list(args.paths) or list(config.paths)
    if not paths:
        print("promptslim: error: give the prompt files or folders to check (PATH...), or set "
              "paths = [...] under [tool.promptslim] in pyproject.toml", file=sys.stderr)
        return 2
    if args.update and args.base_ref:
        print("promptslim: error: --update writes a baseline file and cannot be used with --base-ref",
              file=sys.stderr)
        return 2
    defaults = Thresholds()
    pct = parse_percent(args.max_increase) if args.max_increase is not None else config.max_increase_pct
    min_tokens = args.min_increase_tokens if args.min_increase_tokens is not None else config.min_increase_tokens
    thresholds = Thresholds(
        max_increase_pct=defaults.max_increase_pct if pct is None else pct,
        min_increase_tokens=defaults.min_increase_tokens if min_tokens is None else min_tokens,
        budget=args.budget if args.budget is not None else config.budget,
        budgets=config.budgets,
    )
    baseline_file = None if args.base_ref else (args.baseline or config.baseline or DEFAULT_BASELINE)
    outcome = check_paths(paths, baseline_path=baseline_file, base_ref=args.base_ref, thresholds=thresholds,
                          model=args.model or config.model, root=args.root,
                          ignore_tiktoken_version=args.ignore_tiktoken_version,
                          detect_git_renames=not args.no_git_renames)
    report = outcome.report
    if args.format == "json":
        out = format_json(report)
    elif args.format == "markdown":
        out = format_markdown(report, verbose=args.verbose, accept=outcome.accept)
    elif args.format == "github":
        out = format_github(report, path_prefix=_annotation_prefix(str(outcome.root)), accept=outcome.accept)
    else:
        out = format_text(report, verbose=args.verbose, accept=outcome.accept)
    sys.stdout.write(out)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and args.format in ("github", "markdown"):
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(format_markdown(report, accept=outcome.accept) + "\n")
    if args.update and baseline_file is not None:
        updated = ratchet_baseline(outcome.baseline, outcome.current, report)
        if dumps_baseline(updated) != dumps_baseline(outcome.baseline):
            write_baseline(updated, baseline_file)
            print(f"promptslim: updated {baseline_file}: {len(updated.files)} file(s), {updated.tokens:,} tokens "
                  "(improvements, renames, deletions and new files locked in; growth was not)", file=sys.stderr)
        else:
            print(f"promptslim: {baseline_file} is already up to date", file=sys.stderr)
    return report.exit_code
