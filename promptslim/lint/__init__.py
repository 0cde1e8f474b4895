"""``promptslim lint``: a ruff-style linter for prompt files, with fixes.

Rules are records in ``promptslim/rules/lint_rules.toml`` (see :mod:`.rules`); the checks reuse the
compression passes (PS101-PS105) and cache detectors (PS201-PS203) rather than re-implementing them.

>>> [f.code for f in lint_text("Due to the fact that users are busy, answer in one sentence.", select=["PS101"])]
['PS101']
"""

from __future__ import annotations

from collections.abc import Sequence

from ..result import Result, Savings
from ..tokens import Tokenizer, get_tokenizer
from .config import LintConfig, find_config, load_config, with_overrides
from .findings import Edit, FileError, FileReport, Finding, Fix
from .rules import Rule, all_rules, get_rule, select_rules
from .runner import LintRun, lint_paths

__all__ = [
    "Edit",
    "FileError",
    "FileReport",
    "Finding",
    "Fix",
    "LintConfig",
    "LintRun",
    "Rule",
    "all_rules",
    "find_config",
    "fix_text",
    "get_rule",
    "lint_paths",
    "lint_text",
    "load_config",
    "select_rules",
]


def _prepare(text: str, path: str, kind: str, config: LintConfig | None, select: Sequence[str] | None,
             ignore: Sequence[str], model: str | None) -> tuple[object, LintConfig, Tokenizer]:
    from .files import load_document

    cfg = with_overrides(config or LintConfig(), select=select, ignore=ignore, model=model)
    doc = load_document(path, text=text, kind=kind)
    return doc, cfg, get_tokenizer(cfg.model)


def lint_text(text: str, *, path: str = "<text>", kind: str = "text", config: LintConfig | None = None,
              select: Sequence[str] | None = None, ignore: Sequence[str] = (),
              model: str | None = None) -> list[Finding]:
    """Findings for a prompt given as a string (``kind``: ``text``, ``jinja``, ``json`` or ``yaml``).

    Malformed JSON/YAML raises :class:`~promptslim.errors.InputError` naming line and column.
    """
    from .engine import lint_document
    from .files import DocumentError, SkipFile

    try:
        doc, cfg, tok = _prepare(text, path, kind, config, select, ignore, model)
    except (DocumentError, SkipFile) as exc:
        from ..errors import InputError

        raise InputError(str(exc)) from None
    return lint_document(doc, cfg, tok)  # type: ignore[arg-type]


def fix_text(text: str, *, kind: str = "text", unsafe: bool = False, config: LintConfig | None = None,
             select: Sequence[str] | None = None, ignore: Sequence[str] = (),
             model: str | None = None) -> Result[str]:
    """Apply the linter's fixes to ``text`` (safe ones, or all with ``unsafe``) and return a :class:`Result`.

    ``changes`` lists the applied fixes in order (rule code, span and text in the round they were applied,
    tokens saved); ``savings`` counts the whole prompt before and after.
    """
    from .engine import document_tokens
    from .files import DocumentError, SkipFile
    from .fixes import fix_document

    try:
        doc, cfg, tok = _prepare(text, "<text>", kind, config, select, ignore, model)
    except (DocumentError, SkipFile) as exc:
        from ..errors import InputError

        raise InputError(str(exc)) from None
    outcome = fix_document(doc, cfg, tok, unsafe=unsafe)  # type: ignore[arg-type]
    before = document_tokens(doc, tok)  # type: ignore[arg-type]
    return Result(outcome.document.text, Savings(before, outcome.tokens_after, tok.name, tok.exact),
                  outcome.changes)
