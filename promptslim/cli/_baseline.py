"""``promptslim baseline PATH... [-o promptslim.lock.json]``: record prompt token counts for the CI gate."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "record token counts of prompt files in a baseline file for `promptslim check`"
DESCRIPTION = (
    "Count the tokens of every prompt file under PATH (.txt .md .prompt .j2 .jinja .jinja2, and "
    ".json/.yaml/.yml chat-message files, per message too) and write them, with the tokenizer identity, "
    "model and estimated cost per call, as sorted, diff-friendly JSON. Paths in the file are relative "
    "to its folder. Defaults come from [tool.promptslim] in pyproject.toml."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="prompt files or folders (default: paths in [tool.promptslim])")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="baseline file to write, '-' for standard output (default: promptslim.lock.json)")
    p.add_argument("-m", "--model", help="model for tokenizer and prices (default: gpt-4o)")
    p.add_argument("--root", metavar="DIR",
                   help="folder the recorded paths are relative to (default: the output file's folder)")


def run(args: argparse.Namespace) -> int:
    from ..gate import (
        DEFAULT_BASELINE,
        DEFAULT_MODEL,
        build_baseline,
        dumps_baseline,
        load_config,
        write_baseline,
    )

    config = load_config()
    paths = list(args.paths) or list(config.paths)
    if not paths:
        print("promptslim: error: give the prompt files or folders to record (PATH...), or set "
              "paths = [...] under [tool.promptslim] in pyproject.toml", file=sys.stderr)
        return 2
    output = args.output or config.baseline or DEFAULT_BASELINE
    model = args.model or config.model or DEFAULT_MODEL
    root = args.root or (os.getcwd() if output == "-" else os.path.dirname(os.path.abspath(output)))
    baseline = build_baseline(paths, model=model, root=root)
    for note in baseline.notes:
        print(f"promptslim: note: {note}", file=sys.stderr)
    if output == "-":
        sys.stdout.write(dumps_baseline(baseline))
        return 0
    write_baseline(baseline, output)
    enc = baseline.tokenizer.get("encoding", "?")
    print(f"wrote {output}: {len(baseline.files)} file(s), {baseline.tokens:,} tokens, est. "
          f"${baseline.cost_per_call_usd:.6f} per call ({model}, {enc})", file=sys.stderr)
    return 0
