"""``promptslim rule CODE``: a lint rule's documentation, from the same records as docs/rules.md."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "show the documentation of a lint rule (promptslim rule PS201, or --all)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("codes", nargs="*", metavar="CODE", help="rule codes or names (PS201, dynamic-before-static)")
    p.add_argument("--all", action="store_true", help="every rule")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), markdown (docs/rules.md is this output with --all) or json")


def run(args: argparse.Namespace) -> int:
    from ..lint.rules import all_rules, get_rule, rule_markdown, rule_text, rules_markdown

    if not args.codes and not args.all:
        print("promptslim rule: give a rule code (e.g. PS201) or --all", file=sys.stderr)
        return 2
    rules = list(all_rules()) if args.all else [get_rule(c) for c in args.codes]
    if args.format == "json":
        print(json.dumps([{"code": r.code, "name": r.name, "summary": r.summary, "category": r.category,
                           "severity": r.severity, "fix": r.fix, "default": r.default, "rationale": r.rationale,
                           "example": r.example, "fixed": r.fixed, "options": dict(r.options)} for r in rules],
                         indent=2))
    elif args.format == "markdown":
        print(rules_markdown(rules) if args.all else "\n".join(rule_markdown(r) for r in rules), end="")
    else:
        print("\n".join(rule_text(r) for r in rules), end="")
    return 0
