"""The ``promptslim`` command: a thin shell over the library.

Each subcommand lives in its own module in this package with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; modules import heavy dependencies inside ``run`` so ``--help`` stays fast.
Exit codes follow ruff: 0 clean, 1 findings or regression, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import PromptslimError

__all__ = ["main", "COMMANDS"]

# name -> module (relative to this package). Add a line here to add a subcommand.
COMMANDS: dict[str, str] = {
    "count": "._count",
    "baseline": "._baseline",
    "check": "._check",
    "eval": "._eval",
    "lint": "._lint",
    "rule": "._rule",
    "compress": "._compress",
    "schema": "._schema",
}

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promptslim",
        description="Cut LLM token costs: count, lint, compress and gate prompts.",
    )
    parser.add_argument("--version", action="version", version=f"promptslim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname, __name__)
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args._module.run(args))
    except PromptslimError as exc:
        print(f"promptslim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
