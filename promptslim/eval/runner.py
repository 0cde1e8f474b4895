"""Run eval suites: every method at every budget over every case, failures reported, not fatal.

Runs are deterministic: cases load in file order, per-case seeds derive from case ids, and results
are aggregated in a fixed order whatever ``workers`` is, so the same command gives the same numbers.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core import Case, MethodOutput, Suite, get_suite, shared_data_dir
from .llm import answer_question, llm_config
from .metrics import exact_match, f1_score

__all__ = ["Row", "Failure", "EvalReport", "run_eval"]


@dataclass(frozen=True, slots=True)
class Failure:
    """A case a method could not score: reported with its error, the run goes on."""

    suite: str
    method: str
    budget: float | None
    case_id: str
    error: str


@dataclass(frozen=True)
class Row:
    """Aggregate of one (suite, method, budget): token savings beside quality metric means."""

    suite: str
    method: str
    budget: float | None
    baseline: bool
    n: int
    failures: int
    tokens_before: int
    tokens_after: int
    median_savings_pct: float
    metrics: Mapping[str, float]
    metric_counts: Mapping[str, int]

    @property
    def savings_pct(self) -> float:
        """Percent of all tokens saved over the suite (token-weighted)."""
        return 100.0 * (1 - self.tokens_after / self.tokens_before) if self.tokens_before else 0.0

    def key(self) -> str:
        return f"{self.suite}|{self.method}|{'' if self.budget is None else repr(self.budget)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "method": self.method, "budget": self.budget, "baseline": self.baseline,
            "n": self.n, "failures": self.failures, "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after, "savings_pct": round(self.savings_pct, 3),
            "median_savings_pct": round(self.median_savings_pct, 3),
            "metrics": {k: round(v, 4) for k, v in sorted(self.metrics.items())},
            "metric_counts": dict(sorted(self.metric_counts.items())),
        }


@dataclass
class EvalReport:
    """Rows, failures and the facts a reader needs to trust them (data folder, LLM judge or not)."""

    rows: list[Row]
    failures: list[Failure] = field(default_factory=list)
    primary_metrics: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "failures": [_failure_dict(f) for f in self.failures],
            "primary_metrics": dict(sorted(self.primary_metrics.items())),
            "notes": list(self.notes),
        }


def _failure_dict(f: Failure) -> dict[str, Any]:
    return {"suite": f.suite, "method": f.method, "budget": f.budget, "case_id": f.case_id, "error": f.error}


ProgressFn = Callable[[str, int, int], None]


def _stderr_progress(label: str, done: int, total: int) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r{label[:40]:<40} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _score(method: Callable[..., MethodOutput], case: Case, budget: float | None,
           params: Mapping[str, Any]) -> MethodOutput | str:
    try:
        out = method(case, budget, params)
    except Exception as exc:  # a failing case is reported and the run continues
        return f"{type(exc).__name__}: {exc}"
    if not isinstance(out, MethodOutput):
        return f"method returned {type(out).__name__}, expected MethodOutput"
    return out


def _aggregate(suite: Suite, method: str, budget: float | None, results: Sequence[MethodOutput],
               failures: int) -> Row:
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    per_case = []
    for r in results:
        for k, v in r.metrics.items():
            if v is None:
                continue
            sums[k] = sums.get(k, 0.0) + float(v)
            counts[k] = counts.get(k, 0) + 1
        if r.tokens_before:
            per_case.append(100.0 * (1 - r.tokens_after / r.tokens_before))
    return Row(
        suite=suite.name, method=method, budget=budget, baseline=method in suite.baselines,
        n=len(results), failures=failures,
        tokens_before=sum(r.tokens_before for r in results), tokens_after=sum(r.tokens_after for r in results),
        median_savings_pct=statistics.median(per_case) if per_case else 0.0,
        metrics={k: sums[k] / counts[k] for k in sorted(sums)}, metric_counts=dict(sorted(counts.items())),
    )


def _add_llm_metrics(cases: Sequence[Case], outs: Sequence[MethodOutput | str], cfg: Any) -> list[MethodOutput | str]:
    fixed: list[MethodOutput | str] = []
    for case, out in zip(cases, outs):
        q, answers = case.data.get("question"), case.data.get("answers")
        if isinstance(out, MethodOutput) and out.output_text is not None and q and answers:
            try:
                pred = answer_question(cfg, out.output_text, str(q))
                extra = {"llm_exact_match": exact_match(pred, answers), "llm_f1": f1_score(pred, answers)}
                out = MethodOutput(out.tokens_before, out.tokens_after, {**out.metrics, **extra}, out.output_text)
            except Exception as exc:
                out = f"LLM call failed: {type(exc).__name__}: {exc}"
        fixed.append(out)
    return fixed


def run_eval(
    suites: Iterable[str | Suite],
    *,
    methods: Sequence[str] | None = None,
    budgets: Sequence[float] | None = None,
    params: Mapping[str, Any] | None = None,
    limit: int | None = None,
    workers: int = 1,
    data_dir: str | Path | None = None,
    seed: int = 0,
    progress: ProgressFn | bool = True,
) -> EvalReport:
    """Score every selected method of every suite at every budget; baselines run beside them.

    ``methods`` filters by name (baselines are always kept); ``budgets`` overrides the budget ratios
    of suites that use budgets; ``params`` reach every method (``k=v`` from the CLI).
    """
    started = time.perf_counter()
    report_fn: ProgressFn | None = _stderr_progress if progress is True else (progress or None)
    base_params = dict(params or {})
    data = shared_data_dir(data_dir)
    report = EvalReport(rows=[])
    cfg = llm_config()
    report.notes.append(
        f"end-to-end answer quality: measured with {cfg.model} at {cfg.base_url}" if cfg else
        "end-to-end answer quality: not measured (no OpenAI-compatible endpoint configured; "
        "set PROMPTSLIM_EVAL_BASE_URL and PROMPTSLIM_EVAL_MODEL to measure it)")
    for item in suites:
        suite = item if isinstance(item, Suite) else get_suite(item)
        cases = list(suite.load(data if suite.needs_shared_data else None, limit))
        report.primary_metrics[suite.name] = suite.primary_metric
        run_params = dict(base_params)
        run_params["_seed"] = seed
        if suite.setup is not None:
            run_params["_state"] = suite.setup(run_params)
        names = [m for m in suite.methods if methods is None or m in methods or m in suite.baselines]
        unknown = [m for m in (methods or ()) if m not in suite.methods]
        if unknown and len(unknown) == len(methods or ()):
            raise ValueError(f"suite {suite.name!r} has no method {', '.join(unknown)}; "
                             f"it has: {', '.join(suite.methods)}")
        suite_budgets: Sequence[float | None] = suite.budgets
        if budgets is not None and suite.budgets != (None,):
            suite_budgets = list(budgets)
        for method in names:
            fn = suite.methods[method]
            for budget in ([None] if method in suite.budgetless else suite_budgets):
                label = f"{suite.name}:{method}" + (f"@{budget:g}" if budget is not None else "")
                outs: list[MethodOutput | str]
                if workers > 1:
                    with ThreadPoolExecutor(max_workers=workers) as pool:
                        outs = list(pool.map(_score, [fn] * len(cases), cases, [budget] * len(cases),
                                             [run_params] * len(cases)))
                else:
                    outs = []
                    for i, c in enumerate(cases):
                        outs.append(_score(fn, c, budget, run_params))
                        if report_fn and (i % 25 == 0 or i + 1 == len(cases)):
                            report_fn(label, i + 1, len(cases))
                if cfg is not None:
                    outs = _add_llm_metrics(cases, outs, cfg)
                good = [o for o in outs if isinstance(o, MethodOutput)]
                for case, o in zip(cases, outs):
                    if isinstance(o, str):
                        report.failures.append(Failure(suite.name, method, budget, case.id, o))
                report.rows.append(_aggregate(suite, method, budget, good, len(outs) - len(good)))
    report.seconds = time.perf_counter() - started
    return report
