"""``promptslim schema SCHEMA.json``: compact answer instructions for a JSON Schema, and its parser.

Prints the instructions to paste into a prompt (stdout) and what they cost against the schema JSON
(stderr). ``--encode DATA.json`` prints an instance in the compact format (few-shot examples);
``--parse ANSWER`` turns a model's answer back into validated JSON (exit 2 with line, row and field
when it does not parse).
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "compact output-format instructions for a JSON Schema; encode instances, parse answers"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("schema", metavar="SCHEMA", help="JSON Schema file")
    p.add_argument("--format", "-f", default="auto", choices=("auto", "delimited", "toon", "json-min"),
                   help="answer format (default: auto, the cheapest the schema supports)")
    p.add_argument("--tab", action="store_true", help="delimited format: separate fields with tabs, not |")
    p.add_argument("--model", "-m", default=None, help="model whose tokenizer counts tokens (default: o200k_base)")
    p.add_argument("--no-descriptions", action="store_true", help="leave field descriptions out of the listing")
    p.add_argument("--encode", metavar="DATA", help="print this JSON instance in the compact format")
    p.add_argument("--parse", metavar="ANSWER", help="parse a model answer file ('-' = stdin) to validated JSON")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of plain text")


def _read(path: str) -> str:
    from .._io import read_text

    return sys.stdin.read() if path == "-" else read_text(path).text


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..schema import compact_schema
    from ..tokens import get_tokenizer

    try:
        schema = json.loads(_read(args.schema))
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.schema}:{exc.lineno}: not JSON: {exc.msg}") from None
    tok = get_tokenizer(args.model)
    cs = compact_schema(schema, args.format, delimiter="\t" if args.tab else "|", tokenizer=tok,
                        descriptions=not args.no_descriptions)
    res = cs.result
    report: dict[str, object] = {
        "format": cs.format, "instructions": cs.instructions, "instruction_tokens": res.savings.after,
        "schema_json_tokens": res.savings.before, "changes": [c.describe() for c in cs.changes],
        "tokenizer": tok.name,
    }
    if args.encode:
        try:
            data = json.loads(_read(args.encode))
        except json.JSONDecodeError as exc:
            raise InputError(f"{args.encode}:{exc.lineno}: not JSON: {exc.msg}") from None
        saved = cs.savings(data)
        report.update(encoded=cs.encode(data), tokens=saved.vs_pretty.after, pretty_json_tokens=saved.vs_pretty.before,
                      minified_json_tokens=saved.vs_minified.before)
    if args.parse:
        report["parsed"] = cs.parse(_read(args.parse))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    if "parsed" in report:
        print(json.dumps(report["parsed"], indent=2, ensure_ascii=False))
    elif "encoded" in report:
        print(report["encoded"])
        print(f"{report['tokens']} tokens; pretty JSON {report['pretty_json_tokens']}, minified "
              f"{report['minified_json_tokens']} ({tok.name})", file=sys.stderr)
    else:
        print(cs.instructions)
        print(f"format {cs.format}: instructions {res.savings.after} tokens vs schema JSON {res.savings.before} "
              f"({res.savings.percent:.1f}% smaller, {tok.name})", file=sys.stderr)
        for change in cs.changes:
            print(f"  {change.describe()}", file=sys.stderr)
    return 0
