"""Eval reports as Markdown and JSON, a savings-vs-quality frontier plot, and the quality gate."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, MissingExtraError
from .runner import EvalReport, Row

__all__ = ["to_markdown", "write_json", "plot_frontier", "GateResult", "gate_against", "load_report"]


def _metric_names(rows: list[Row]) -> list[str]:
    names: list[str] = []
    for r in rows:
        for k in r.metrics:
            if k not in names:
                names.append(k)
    return names


def to_markdown(report: EvalReport) -> str:
    """One table per suite: method, budget, cases, tokens, savings, then each quality metric."""
    out: list[str] = []
    suites = list(dict.fromkeys(r.suite for r in report.rows))
    for suite in suites:
        rows = [r for r in report.rows if r.suite == suite]
        metrics = _metric_names(rows)
        primary = report.primary_metrics.get(suite, "")
        out.append(f"### {suite}" + (f" (primary metric: {primary})" if primary else ""))
        out.append("")
        head = ["method", "budget", "n", "tokens before", "tokens after", "saved %", "median saved %", *metrics]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            name = f"{r.method} (baseline)" if r.baseline else r.method
            budget = "-" if r.budget is None else f"{r.budget:g}"
            vals = [f"{r.metrics[m]:.3f}" if m in r.metrics else "n/a" for m in metrics]
            n = f"{r.n}" + (f" ({r.failures} failed)" if r.failures else "")
            out.append(f"| {name} | {budget} | {n} | {r.tokens_before:,} | {r.tokens_after:,} | "
                       f"{r.savings_pct:.1f} | {r.median_savings_pct:.1f} | " + " | ".join(vals) + " |")
        out.append("")
    for note in report.notes:
        out.append(f"- {note}")
    if report.failures:
        out.append(f"- {len(report.failures)} case(s) failed; first: {report.failures[0].case_id}: "
                   f"{report.failures[0].error}")
    return "\n".join(out).rstrip() + "\n"


def write_json(report: EvalReport, path: str | Path) -> None:
    """Sorted, stable JSON (the gate's baseline format)."""
    Path(path).write_text(json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_report(path: str | Path) -> dict[str, Any]:
    """A JSON report written by :func:`write_json`, with a clear error when it is not one."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: eval baseline not found (create it with --update-gate)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); re-create it") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise InputError(f"{p}: not an eval report (no 'rows' list)")
    return data


def plot_frontier(report: EvalReport, path: str | Path, metric: str | None = None) -> list[str]:
    """Draw savings (x) against quality (y), one line per method, one panel per suite; baselines dashed.

    Returns the suites drawn. Needs matplotlib (extra ``plot``).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtraError("--plot", "plot", exc) from exc
    suites = list(dict.fromkeys(r.suite for r in report.rows))
    fig, axes = plt.subplots(1, len(suites), figsize=(5.5 * len(suites), 4.2), squeeze=False)
    for ax, suite in zip(axes[0], suites):
        rows = [r for r in report.rows if r.suite == suite]
        m = metric or report.primary_metrics.get(suite) or (_metric_names(rows) or [""])[0]
        for method in dict.fromkeys(r.method for r in rows):
            pts = sorted((r.savings_pct, r.metrics[m]) for r in rows if r.method == method and m in r.metrics)
            if not pts:
                continue
            base = any(r.baseline for r in rows if r.method == method)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", linestyle="--" if base else "-",
                    label=method + (" (baseline)" if base else ""), alpha=0.85)
        ax.set_title(suite)
        ax.set_xlabel("tokens saved (%)")
        ax.set_ylabel(m)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return suites


@dataclass(frozen=True)
class GateResult:
    """Regressions (quality drops, savings drops), improvements, and rows with no baseline."""

    regressions: list[str]
    improvements: list[str]
    missing: list[str]

    @property
    def failed(self) -> bool:
        return bool(self.regressions)


def gate_against(report: EvalReport, baseline: Mapping[str, Any], max_quality_drop: float = 0.01,
                 max_savings_drop: float = 1.0) -> GateResult:
    """Compare with a baseline report: a metric mean falling more than ``max_quality_drop`` (absolute),
    or savings falling more than ``max_savings_drop`` percentage points, is a regression."""
    base_rows = {}
    for r in baseline.get("rows", []):
        b = r.get("budget")
        base_rows[f"{r['suite']}|{r['method']}|{'' if b is None else repr(float(b))}"] = r
    regressions, improvements, missing = [], [], []
    for row in report.rows:
        key = f"{row.suite}|{row.method}|{'' if row.budget is None else repr(float(row.budget))}"
        base = base_rows.get(key)
        label = f"{row.suite} {row.method}" + (f" @{row.budget:g}" if row.budget is not None else "")
        if base is None:
            missing.append(label)
            continue
        for m, v in row.metrics.items():
            old = base.get("metrics", {}).get(m)
            if old is None:
                continue
            if v < old - max_quality_drop:
                regressions.append(f"{label}: {m} fell {old:.3f} -> {v:.3f}")
            elif v > old + max_quality_drop:
                improvements.append(f"{label}: {m} rose {old:.3f} -> {v:.3f}")
        old_s = float(base.get("savings_pct", 0.0))
        if row.savings_pct < old_s - max_savings_drop:
            regressions.append(f"{label}: savings fell {old_s:.1f}% -> {row.savings_pct:.1f}%")
        elif row.savings_pct > old_s + max_savings_drop:
            improvements.append(f"{label}: savings rose {old_s:.1f}% -> {row.savings_pct:.1f}%")
    return GateResult(regressions, improvements, missing)
