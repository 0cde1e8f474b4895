"""Render a :class:`CheckReport` as a terminal table, JSON, Markdown, or GitHub annotations.

Markdown serves pull-request comments and ``$GITHUB_STEP_SUMMARY``; GitHub annotations mark the
regressed files in the diff view, but GitHub shows only about ten per step, so the summary always
carries the complete list.
"""

from __future__ import annotations

import json
import posixpath

from .gate_compare import (
    DELETED,
    GREW,
    IMPROVED,
    NEW,
    OVER_BUDGET,
    REGRESSED,
    UNCHANGED,
    CheckReport,
    FileDelta,
)
from .gate_files import GATE

__all__ = ["format_text", "format_json", "format_markdown", "format_github", "summary_line", "FORMATS"]

FORMATS = ("text", "json", "github", "markdown")
_ORDER = {REGRESSED: 0, OVER_BUDGET: 1, GREW: 2, NEW: 3, IMPROVED: 4, DELETED: 5, UNCHANGED: 6}
_NOUN = {REGRESSED: "regressed", OVER_BUDGET: "over budget", GREW: "grew within thresholds",
         IMPROVED: "improved", NEW: "new", DELETED: "deleted", UNCHANGED: "unchanged", "renamed": "renamed"}


def _num(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _change(d: FileDelta) -> str:
    pct = d.pct
    rel = f" ({pct:+.1f}%)" if pct is not None else ""
    return f"{d.delta:+,}{rel}"


def _name(d: FileDelta) -> str:
    return f"{d.path} (renamed from {d.renamed_from})" if d.renamed_from else d.path


def _why(d: FileDelta, report: CheckReport) -> str:
    t = report.thresholds
    if d.status == REGRESSED:
        return f"grew past both thresholds (> {t.max_increase_pct:g}% and >= {t.min_increase_tokens} tokens)"
    if d.status == OVER_BUDGET:
        return f"new file over its budget of {d.budget:,} tokens"
    return ""


def _rows(report: CheckReport, verbose: bool) -> list[FileDelta]:
    rows = [d for d in report.deltas if verbose or d.status != UNCHANGED or d.renamed_from]
    return sorted(rows, key=lambda d: (_ORDER[d.status], d.path))


def summary_line(report: CheckReport) -> str:
    """``3 files: 1 regressed, 1 improved, 1 renamed``: counts by status, failures first."""
    counts = report.counts()
    parts = [f"{counts[s]} {_NOUN[s]}" for s in (*_ORDER, "renamed") if counts.get(s)]
    n = len(report.deltas)
    return f"{n} file{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def _totals(report: CheckReport) -> str:
    b, a = report.tokens_before, report.tokens_after
    pct = f", {100.0 * (a - b) / b:+.1f}%" if b else ""
    model = report.model if report.model == report.baseline_model else \
        f"{report.baseline_model} -> {report.model}"
    return (f"total {b:,} -> {a:,} tokens ({a - b:+,}{pct}); est. input cost of one call per file "
            f"${report.cost_before:.6f} -> ${report.cost_after:.6f} ({model})")


def _verdict(report: CheckReport, accept: str) -> str:
    fails = report.failures
    if not fails:
        better = report.by_status(IMPROVED)
        lock = f"; lock in {len(better)} improvement(s) with --update" if better else ""
        return f"OK: no prompt grew past the thresholds{lock}"
    how = f"; to accept the growth on purpose run `{accept}` and commit it" if accept else ""
    return f"FAILED: {len(fails)} file(s) regressed or over budget: shrink them{how}"


def format_text(report: CheckReport, *, verbose: bool = False, accept: str = "") -> str:
    """A plain table of the files that changed (every file with ``verbose``), totals and the verdict."""
    rows = _rows(report, verbose)
    lines = [f"promptslim check: {summary_line(report)}"]
    if rows:
        width = max(len(_name(d)) for d in rows)
        lines.append(f"{'status':<11}  {'file':<{width}}  {'before':>8}  {'after':>8}  change")
        for d in rows:
            extra = f"  budget {d.budget:,}" if d.budget is not None else ""
            lines.append(f"{d.status:<11}  {_name(d):<{width}}  {_num(d.before):>8}  {_num(d.after):>8}  "
                         f"{_change(d)}{extra}")
            for m in d.messages:
                lines.append(f"{'':<11}    messages[{m.index}] ({m.role}): {_num(m.before)} -> {_num(m.after)}")
    lines.append(_totals(report))
    t = report.thresholds
    lines.append(f"thresholds: a file fails when it grows by > {t.max_increase_pct:g}% and by >= "
                 f"{t.min_increase_tokens} tokens" + (f"; new-file budget {t.budget:,}" if t.budget is not None
                                                       else ""))
    lines.extend(f"note: {n}" for n in report.notes)
    lines.append(_verdict(report, accept))
    return "\n".join(lines) + "\n"


def format_json(report: CheckReport) -> str:
    """The report as stable JSON (sorted keys)."""
    return json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "\\`")


def format_markdown(report: CheckReport, *, verbose: bool = False, accept: str = "") -> str:
    """A Markdown section for a pull-request comment or ``$GITHUB_STEP_SUMMARY``, listing every change."""
    ok = not report.failures
    lines = [f"### promptslim check: {'passed' if ok else 'failed'}", "", summary_line(report) + ".", ""]
    rows = _rows(report, verbose)
    if rows:
        lines += ["| status | file | before | after | change |", "|---|---|---:|---:|---:|"]
        for d in rows:
            mark = "**" if d.failed else ""
            name = f"`{_md_escape(d.path)}`" + (f" (renamed from `{_md_escape(d.renamed_from)}`)"
                                                 if d.renamed_from else "")
            lines.append(f"| {mark}{d.status}{mark} | {name} | {_num(d.before)} | "
                         f"{_num(d.after)} | {_change(d)} |")
            for m in d.messages:
                lines.append(f"| | messages[{m.index}] ({_md_escape(m.role)}) | {_num(m.before)} | "
                             f"{_num(m.after)} | |")
        lines.append("")
    lines.append(_totals(report).replace("$", "\\$") + ".")
    t = report.thresholds
    lines.append("")
    lines.append(f"A file fails when it grows by more than {t.max_increase_pct:g}% **and** by at least "
                 f"{t.min_increase_tokens} tokens. Tokenizer `{report.tokenizer.get('encoding', '?')}`.")
    lines.extend(["", *(f"- note: {_md_escape(n)}" for n in report.notes)] if report.notes else [])
    lines += ["", _verdict(report, accept)]
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: CheckReport, *, path_prefix: str = "", accept: str = "",
                  max_annotations: int | None = None) -> str:
    """``::error`` workflow commands on failed files (capped as GitHub caps them), then the text table.

    ``path_prefix`` turns baseline keys into paths from the repository root, which annotations need.
    """
    cap = GATE["github"]["max_annotations"] if max_annotations is None else max_annotations
    lines = []
    fails = sorted(report.failures, key=lambda d: (_ORDER[d.status], d.path))
    for d in fails[:cap]:
        path = posixpath.normpath(posixpath.join(path_prefix, d.path)) if path_prefix else d.path
        pct = f", {d.pct:+.1f}%" if d.pct is not None else ""
        msg = f"{_num(d.before)} -> {_num(d.after)} tokens ({d.delta:+,}{pct}): {_why(d, report)}"
        lines.append(f"::error file={_escape_prop(path)},line=1,title={_escape_prop('promptslim check')}::"
                     f"{_escape_data(msg)}")
    if len(fails) > cap:
        lines.append(f"::warning title=promptslim check::{len(fails) - cap} more failing file(s) not "
                     "annotated; see the job summary")
    return "\n".join(lines) + ("\n" if lines else "") + format_text(report, accept=accept)
