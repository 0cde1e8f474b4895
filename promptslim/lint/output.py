"""Render a lint run: text (coloured on a terminal), JSON, GitHub annotations (+ step summary), SARIF.

Every renderer is a pure function of the run returning a string; the CLI writes it. Colour follows
``NO_COLOR`` / ``FORCE_COLOR`` and whether standard output is a terminal.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .findings import FileError, Finding
from .rules import get_rule
from .runner import LintRun

__all__ = ["FORMATS", "render", "render_text", "render_json", "render_github", "step_summary", "statistics",
           "use_color"]

FORMATS = ("text", "json", "github", "sarif")

_RESET, _BOLD, _DIM, _RED, _CYAN, _BLUE, _GREEN, _YELLOW = (
    "\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[36m", "\033[34m", "\033[32m", "\033[33m")


def use_color(stream: Any) -> bool:
    """Colour when the stream is a terminal, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces it."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _c(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _shows_fix(f: Finding, unsafe: bool) -> bool:
    return f.fix is not None and (unsafe or f.fix.applicability == "safe")


def _saved(n: int | None) -> str:
    if n is None:
        return ""
    return f" ({-n:+,d} token{'s' if abs(n) != 1 else ''})" if n else " (±0 tokens)"


def finding_line(f: Finding, color: bool = False, unsafe: bool = False) -> str:
    """``path:line:col: CODE [*] message (-N tokens)``: ``[*]`` marks a fix ``--fix`` would apply."""
    where = _c(f.path, _BOLD, color) + _c(":", _CYAN, color) + f"{f.line}" + _c(":", _CYAN, color) + f"{f.col}" \
        + _c(":", _CYAN, color)
    code = _c(f.code, _BOLD + (_BLUE if f.severity == "info" else _RED), color)
    mark = " " + _c("[*]", _CYAN, color) if _shows_fix(f, unsafe) else ""
    return f"{where} {code}{mark} {f.message}{_c(_saved(f.tokens_saved), _DIM, color)}"


def _error_line(e: FileError, color: bool) -> str:
    return f"{_c(str(e.path), _BOLD, color)}{':' + str(e.line) + ':' + str(e.col) if e.line is not None else ''}: " \
           f"{_c('error', _BOLD + _RED, color)}: {e.message}"


def _fix_totals(findings: Sequence[Finding], unsafe: bool) -> tuple[int, int, int, int]:
    safe = [f for f in findings if _shows_fix(f, unsafe)]
    hidden = [f for f in findings if f.fix is not None and not _shows_fix(f, unsafe)]
    return len(safe), sum(max(0, f.tokens_saved or 0) for f in safe), len(hidden), \
        sum(max(0, f.tokens_saved or 0) for f in hidden)


def summary_line(run: LintRun, color: bool = False) -> str:
    """The closing line: counts, what ``--fix`` would save, errors."""
    findings = run.findings
    errors = run.errors
    parts = []
    fixed = sum(r.fixed for r in run.reports)
    if run.fix:
        saved = sum(r.tokens_fixed for r in run.reports)
        parts.append(f"Fixed {fixed} finding{'s' if fixed != 1 else ''} ({saved:,} tokens saved); "
                     f"{len(findings)} remaining.")
    elif not findings and not errors:
        return _c("All checks passed!", _GREEN, color)
    else:
        n_info = sum(1 for f in findings if f.severity == "info")
        info = f", {n_info} informational" if n_info else ""
        parts.append(f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}{info}.")
    n_fix, tok_fix, n_hidden, tok_hidden = _fix_totals(findings, run.unsafe_fixes)
    if n_fix and not run.fix:
        parts.append(f"[*] {n_fix} fixable with --fix{' --unsafe-fixes' if run.unsafe_fixes else ''} "
                     f"(saves about {tok_fix:,} tokens).")
    if n_hidden:
        parts.append(f"{n_hidden} more fix{'es' if n_hidden != 1 else ''} with --unsafe-fixes "
                     f"(about {tok_hidden:,} tokens).")
    if errors:
        parts.append(_c(f"{len(errors)} file{'s' if len(errors) != 1 else ''} could not be linted.", _RED, color))
    return " ".join(parts)


def render_text(run: LintRun, color: bool = False) -> str:
    """Findings one per line (ruff style), then error lines, then the summary."""
    out = [finding_line(f, color, run.unsafe_fixes) for f in run.findings]
    out += [_error_line(e, color) for e in run.errors]
    out.append(summary_line(run, color))
    return "\n".join(out) + "\n"


def _edit_json(e: Any) -> dict[str, Any]:
    return {"content": e.content, "location": {"row": e.start_lc[0], "column": e.start_lc[1]},
            "end_location": {"row": e.end_lc[0], "column": e.end_lc[1]}}


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding as JSON-ready data (ruff-like field names)."""
    return {
        "code": f.code, "name": f.name, "message": f.message, "severity": f.severity, "filename": f.path,
        "location": {"row": f.line, "column": f.col}, "end_location": {"row": f.end_line, "column": f.end_col},
        "fix": None if f.fix is None else {"applicability": f.fix.applicability,
                                           "edits": [_edit_json(e) for e in f.fix.edits]},
        "tokens_saved": f.tokens_saved, "detail": f.detail,
    }


def render_json(run: LintRun) -> str:
    """``{"findings": [...], "errors": [...], "files": [...], "summary": {...}}``, stable key order."""
    errors = [{"filename": e.path, "message": e.message, "row": e.line, "column": e.col} for e in run.errors]
    files = [{"filename": r.path, "tokens": r.tokens, "findings": len(r.findings), "fixed": r.fixed,
              "tokens_fixed": r.tokens_fixed, "error": r.error is not None, "skipped": r.skipped or None}
             for r in run.reports]
    n_fix, tok_fix, n_hidden, tok_hidden = _fix_totals(run.findings, run.unsafe_fixes)
    summary = {"files": len(run.reports), "findings": len(run.findings), "errors": len(errors),
               "fixable": n_fix, "fixable_tokens": tok_fix, "unsafe_fixable": n_hidden,
               "unsafe_fixable_tokens": tok_hidden, "fixed": sum(r.fixed for r in run.reports),
               "tokens_fixed": sum(r.tokens_fixed for r in run.reports), "tokenizer": run.tokenizer_name,
               "model": run.config.model, "exit_code": run.exit_code()}
    data = {"findings": [finding_dict(f) for f in run.findings], "errors": errors, "files": files,
            "summary": summary}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(run: LintRun) -> str:
    """GitHub Actions workflow commands, one annotation per finding and per file error."""
    out = []
    for f in run.findings:
        level = "notice" if f.severity == "info" else "warning"
        props = (f"file={_gh_escape(f.path, True)},line={f.line},col={f.col},endLine={f.end_line},"
                 f"endColumn={f.end_col},title={_gh_escape(f'{f.code} {f.name}', True)}")
        out.append(f"::{level} {props}::{_gh_escape(f.code + ' ' + f.message + _saved(f.tokens_saved))}")
    for e in run.errors:
        loc = f",line={e.line},col={e.col}" if e.line is not None else ""
        out.append(f"::error file={_gh_escape(e.path, True)}{loc},title=promptslim lint::{_gh_escape(e.message)}")
    out.append(summary_line(run))
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_summary(run: LintRun) -> str:
    """The full findings table in Markdown for ``$GITHUB_STEP_SUMMARY`` (annotations are capped per step)."""
    lines = ["## promptslim lint", "", summary_line(run), ""]
    if run.findings:
        lines += ["| File | Line | Rule | Message | Tokens saved |", "|---|---:|---|---|---:|"]
        for f in run.findings:
            saved = "" if f.tokens_saved is None else f"{f.tokens_saved:,}"
            lines.append(f"| {_md_cell(f.path)} | {f.line} | {f.code} {f.name} | {_md_cell(f.message)} | {saved} |")
        lines.append("")
    if run.errors:
        lines += ["| File | Error |", "|---|---|"]
        lines += [f"| {_md_cell(str(e.path))} | {_md_cell(str(e))} |" for e in run.errors]
        lines.append("")
    return "\n".join(lines) + "\n"


def statistics(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Counts by rule, most frequent first: code, name, count, fixable count, tokens the fixes save."""
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    saved: defaultdict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.code] += 1
        if f.fix is not None:
            fixable[f.code] += 1
            saved[f.code] += max(0, f.tokens_saved or 0)
    rows = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rows.append({"code": code, "name": get_rule(code).name, "count": n, "fixable": fixable[code],
                     "tokens_saved": saved[code]})
    return rows


def render_statistics(run: LintRun, fmt: str = "text") -> str:
    """``--statistics``: one row per rule (JSON list for ``--format json``)."""
    rows = statistics(run.findings)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    width = max([len(str(r["count"])) for r in rows] + [1])
    out = [f"{r['count']:>{width}}  {r['code']}  {'[*]' if r['fixable'] else '   '} {r['name']:<28}"
           + (f" {-r['tokens_saved']:+,d} tokens" if r["fixable"] else "") for r in rows]
    out += [_error_line(e, False) for e in run.errors]
    out.append(summary_line(run))
    return "\n".join(out) + "\n"


def render(run: LintRun, fmt: str, color: bool = False) -> str:
    """Dispatch on ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "text":
        return render_text(run, color)
    if fmt == "json":
        return render_json(run)
    if fmt == "github":
        return render_github(run)
    if fmt == "sarif":
        from .output_sarif import render_sarif

        return render_sarif(run)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
