"""SARIF 2.1.0 output: the rule list comes from the rule records, results carry regions and fixes.

Columns are Unicode code points (``columnKind``), as the linter counts them; URIs are the linted
paths relative to the current folder, POSIX-style and percent-encoded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .findings import Finding
from .rules import all_rules, rule_markdown, rule_text
from .runner import LintRun

__all__ = ["SARIF_SCHEMA", "sarif_log", "render_sarif"]

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_INFO_URI = "https://github.com/promptslim/promptslim/blob/main/docs/rules.md"


def _uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(p.as_posix())


def _region(line: int, col: int, end_line: int, end_col: int) -> dict[str, int]:
    return {"startLine": line, "startColumn": col, "endLine": max(end_line, line),
            "endColumn": end_col if (end_line, end_col) >= (line, col) else col}


def _level(severity: str) -> str:
    return "note" if severity == "info" else "warning"


def _rules() -> list[dict[str, Any]]:
    out = []
    for r in all_rules():
        out.append({
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": " ".join(r.rationale.split())},
            "help": {"text": rule_text(r), "markdown": rule_markdown(r)},
            "helpUri": f"{_INFO_URI}#{r.code.lower()}-{r.name}",
            "defaultConfiguration": {"level": _level(r.severity), "enabled": r.default},
            "properties": {"category": r.category, "fix": r.fix},
        })
    return out


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    uri = _uri(f.path)
    res: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": _level(f.severity),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                            "region": _region(f.line, f.col, f.end_line, f.end_col)}}],
        "properties": {"tokensSaved": f.tokens_saved, **{k: v for k, v in f.detail.items()
                                                         if isinstance(v, (int, float, str, bool))}},
    }
    if f.fix is not None:
        res["fixes"] = [{
            "description": {"text": f"{f.fix.applicability} fix for {f.code}"},
            "artifactChanges": [{
                "artifactLocation": {"uri": uri},
                "replacements": [{"deletedRegion": _region(*e.start_lc, *e.end_lc),
                                  "insertedContent": {"text": e.content}} for e in f.fix.edits],
            }],
        }]
    return res


def sarif_log(run: LintRun) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a run as a dict (validated against the OASIS schema in the tests)."""
    from .. import __version__

    index = {r.code: i for i, r in enumerate(all_rules())}
    notifications = []
    for e in run.errors:
        loc: dict[str, Any] = {"artifactLocation": {"uri": _uri(e.path)}}
        if e.line is not None:
            loc["region"] = {"startLine": e.line, "startColumn": e.col or 1}
        notifications.append({"level": "error", "message": {"text": e.message},
                              "locations": [{"physicalLocation": loc}]})
    artifacts = sorted({_uri(r.path) for r in run.reports})
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "promptslim", "semanticVersion": __version__, "version": __version__,
                                "informationUri": _INFO_URI, "rules": _rules()}},
            "invocations": [{"executionSuccessful": not run.errors,
                             "toolExecutionNotifications": notifications,
                             "workingDirectory": {"uri": Path(os.getcwd()).as_uri() + "/"}}],
            "artifacts": [{"location": {"uri": u}} for u in artifacts],
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index) for f in run.findings],
            "properties": {"tokenizer": run.tokenizer_name, "model": run.config.model},
        }],
    }


def render_sarif(run: LintRun) -> str:
    """The SARIF log as indented JSON text."""
    return json.dumps(sarif_log(run), indent=2, ensure_ascii=False) + "\n"
