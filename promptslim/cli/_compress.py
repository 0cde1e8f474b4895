"""``promptslim compress FILE``: compress a prompt file; prints to stdout unless told otherwise.

Never overwrites a file unless asked: ``-o OUT`` refuses an existing file without ``--force``,
``--in-place`` rewrites FILE atomically keeping its line endings and byte-order mark. Savings go
to stderr so stdout stays the prompt (or the ``--diff``).
"""

from __future__ import annotations

import argparse
import sys

HELP = "compress a prompt file (layout, verbose phrases, filler, duplicates; levels safe/balanced/aggressive)"
DESCRIPTION = (
    "Compress a system prompt without losing protected spans (code, URLs, numbers, quotes, placeholders, "
    "<keep> regions) or negations. Prints the result to stdout; savings go to stderr."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="prompt file ('-' reads standard input)")
    p.add_argument("--level", "-l", default="balanced", choices=("safe", "balanced", "aggressive"),
                   help="how hard to compress (default: balanced)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", metavar="OUT", help="write the result to OUT (refuses an existing file "
                     "unless --force)")
    out.add_argument("--in-place", "-i", action="store_true", help="rewrite FILE atomically")
    p.add_argument("--force", action="store_true", help="with -o, overwrite OUT if it exists")
    p.add_argument("--diff", action="store_true", help="print a unified diff instead of the result "
                   "(with -o/--in-place the file is still written)")
    p.add_argument("--model", "-m", default=None, help="tokenizer of this model (default: o200k_base)")
    p.add_argument("--protect", action="append", default=[], metavar="TEXT",
                   help="text to keep verbatim wherever it occurs (repeatable)")
    p.add_argument("--protect-regex", action="append", default=[], metavar="REGEX",
                   help="regular expression whose matches are kept verbatim (repeatable)")
    p.add_argument("--backend", default="rules", choices=("rules", "llmlingua2"),
                   help="rules (default) or llmlingua2 (extra 'llmlingua', needs --llmlingua-model)")
    p.add_argument("--llmlingua-model", default=None, metavar="PATH",
                   help="LLMLingua-2 model folder or hub name (weights are CC-BY-NC-SA)")
    p.add_argument("--rate", type=float, default=0.5, help="LLMLingua-2: share of tokens to keep (default 0.5)")
    p.add_argument("--near-duplicates", type=float, default=None, metavar="COSINE",
                   help="also drop near-duplicate sentences at this embedding similarity (extra 'semantic')")
    p.add_argument("--skip", action="append", default=[], metavar="PASS",
                   help="leave this pass out of the level (repeatable); e.g. --skip articles keeps 'the', 'a', 'an'")
    p.add_argument("--changes", action="store_true", help="list every change on stderr")


def run(args: argparse.Namespace) -> int:
    import difflib
    import os
    import re
    from pathlib import Path

    from .._io import atomic_write_text, read_text
    from ..compress import compress_prompt
    from ..errors import InputError

    if args.force and not args.output:
        raise InputError("--force only applies to -o OUT")
    if args.in_place and args.file == "-":
        raise InputError("--in-place needs a file, not standard input")
    if args.file == "-":
        raw = sys.stdin.read()
        newline = "\r\n" if "\r\n" in raw else "\n"
        bom = False
        name = "<stdin>"
    else:
        tf = read_text(args.file)
        raw, newline, bom, name = tf.text, tf.newline, tf.bom, args.file
    text = raw.replace("\r\n", "\n")
    if args.output:
        target = Path(args.output)
        if args.file != "-" and target.exists() and os.path.samefile(target, args.file):
            raise InputError(f"{args.output} is the input file; use --in-place to rewrite it")
        if target.exists() and not args.force:
            raise InputError(f"{args.output} exists; pass --force to overwrite it")
    try:
        patterns = [re.compile(rx) for rx in args.protect_regex]
    except re.error as exc:
        raise InputError(f"--protect-regex {exc.pattern!r}: {exc}") from None
    passes = None
    if args.skip:
        from ..compress_passes import PASS_ORDER, PASSES

        unknown = sorted(set(args.skip) - set(PASSES))
        if unknown:
            raise InputError(f"--skip {', '.join(unknown)}: no such pass; passes: {', '.join(PASSES)}")
        passes = [name for name in PASS_ORDER[args.level] if name not in args.skip]
    res = compress_prompt(
        text, level=args.level, protect=[*args.protect, *patterns], tokenizer=args.model,
        backend=args.backend, model=args.llmlingua_model, rate=args.rate,
        near_duplicates=args.near_duplicates, max_chars=None, passes=passes,
    )
    out = res.value
    if args.in_place:
        if out != text:
            atomic_write_text(args.file, out, newline=newline, bom=bom)
    elif args.output:
        atomic_write_text(args.output, out, newline=newline, bom=bom)
    if args.diff:
        sys.stdout.writelines(difflib.unified_diff(
            text.splitlines(keepends=True), out.splitlines(keepends=True),
            fromfile=name, tofile=f"{name} ({args.level})"))
    elif not (args.in_place or args.output):
        sys.stdout.write(out)
    if args.changes:
        for c in res.changes:
            print(f"  {c.location}: {c.before!r} -> {c.after!r} ({-c.tokens_saved:+d}) {c.reason}", file=sys.stderr)
    where = " (written in place)" if args.in_place and out != text else (f" -> {args.output}" if args.output else "")
    print(f"{name}: {res.savings}, {len(res.changes)} changes at level {args.level}{where}", file=sys.stderr)
    return 0
