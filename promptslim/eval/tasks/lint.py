"""Eval suite ``lint-corpus``: `promptslim lint` and `--fix` on real prompt corpora.

Cases are the shared fabric system prompts and awesome-chatgpt-prompts. Methods: ``fix`` (what
``promptslim lint --fix`` writes), ``fix-unsafe`` (``--fix --unsafe-fixes``), and the baselines
``truncate-tail`` / ``random-drop`` cut to the same token count as ``fix`` so their fact loss is
comparable. Metrics per case: ``fact_retention`` (numbers, URLs, e-mails, placeholders, negations
and names of the original still present: the target is 100% for the fixes), ``changed`` (any fix
applied) and ``has_PSxxx`` (a finding of that rule, so the mean is the share of prompts with one).

``python -m promptslim.eval.tasks.lint [--limit N] [--json FILE]`` prints the full report the
issue asks for: findings per rule (all and fixable), tokens a ``--fix`` run saves, fact retention.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core import Case, MethodOutput, Suite, register_suite, require_file, shared_data_dir

__all__ = ["load_cases", "lint_case", "corpus_report", "facts_kept"]

_CODES = ("PS101", "PS102", "PS103", "PS104", "PS105", "PS201", "PS202", "PS203", "PS301", "PS302", "PS303",
          "PS401", "PS402")


def load_cases(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """Fabric system prompts, then awesome-chatgpt-prompts, in file order (``limit`` per corpus)."""
    fabric = require_file(data_dir, "prompts/fabric-patterns.jsonl")
    with fabric.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for row in rows[:limit]:
        yield Case(f"fabric/{row['name']}", {"text": row["system"], "corpus": "fabric"})
    awesome = require_file(data_dir, "prompts/awesome-chatgpt-prompts.csv")
    csv.field_size_limit(1 << 30)
    with awesome.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if limit is not None and i >= limit:
                break
            yield Case(f"awesome/{i:04d}", {"text": row["prompt"], "corpus": "awesome-chatgpt-prompts"})


def lint_case(text: str, unsafe: bool = False) -> dict[str, Any]:
    """Lint ``text`` as a ``.prompt`` file and fix it; findings, fixed text and token counts."""
    from ...lint import fix_text, lint_text

    findings = lint_text(text)
    fixed = fix_text(text, unsafe=unsafe)
    return {"findings": findings, "fixed": fixed.value, "before": fixed.savings.before,
            "after": fixed.savings.after, "applied": fixed.changes}


HARD_FACTS = ("number", "url", "email", "placeholder")


def facts_kept(original: str, fixed: str, kinds: tuple[str, ...] | None = None) -> float | None:
    """Share of the original's facts (``extract_facts``: numbers, URLs, e-mails, placeholders, negation
    clauses, names) still present after the fix; None when there are none.

    Like :func:`~promptslim.eval.metrics.fact_retention`, but a fact counts only as often as the
    original itself contains it verbatim: the extractor joins a clause's words with single spaces, so
    a negation split over two lines is not literally in the original and cannot be "lost" by a fix.
    ``kinds=HARD_FACTS`` leaves out names and negation windows.
    """
    from collections import Counter

    from ..metrics import extract_facts

    total = kept = 0
    low_orig, low_fixed = original.lower(), fixed.lower()
    for kind, items in extract_facts(original).items():
        if kinds is not None and kind not in kinds:
            continue
        for item, count in Counter(items).items():
            ci = kind == "negation"
            base = min(count, (low_orig if ci else original).count(item))
            total += base
            kept += min(base, (low_fixed if ci else fixed).count(item))
    return kept / total if total else None


def _metrics(text: str, out: str, findings: Any = None) -> dict[str, float]:
    m: dict[str, float] = {}
    fr = facts_kept(text, out)
    if fr is not None:
        m["fact_retention"] = fr
    m["changed"] = 1.0 if out != text else 0.0
    if findings is not None:
        codes = {f.code for f in findings}
        m.update({f"has_{c}": 1.0 if c in codes else 0.0 for c in _CODES})
    return m


def _fix_method(unsafe: bool) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        res = lint_case(case.data["text"], unsafe)
        return MethodOutput(res["before"], res["after"], _metrics(case.data["text"], res["fixed"], res["findings"]),
                            res["fixed"])
    return method


def _baseline(kind: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...lint import fix_text
        from ...tokens import get_tokenizer
        from ..baselines import case_seed, random_sentence_drop, truncate_tail

        text = case.data["text"]
        tok = get_tokenizer()
        target = fix_text(text).savings.after  # same size as the safe fix
        out = truncate_tail(text, target, tok) if kind == "tail" else random_sentence_drop(
            text, target, case_seed(case.id), tok)
        return MethodOutput(tok.count(text), tok.count(out), _metrics(text, out), out)
    return method


SUITE = Suite(
    name="lint-corpus",
    task="lint",
    description="promptslim lint --fix on fabric and awesome-chatgpt-prompts: findings per rule, tokens saved, "
                "fact retention (target 100%) vs truncation to the same size",
    load=load_cases,
    methods={"fix": _fix_method(False), "fix-unsafe": _fix_method(True), "truncate-tail": _baseline("tail"),
             "random-drop": _baseline("random")},
    budgets=(None,),
    needs_shared_data=True,
    primary_metric="fact_retention",
    baselines=("truncate-tail", "random-drop"),
)
if __name__ != "__main__":  # run as a script, the package import has registered it already
    register_suite(SUITE)


def corpus_report(data_dir: Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """Findings per rule (all / fixable safe / fixable unsafe), tokens saved by --fix and by
    --fix --unsafe-fixes, and fact retention of the fixed prompts, per corpus."""
    data_dir = shared_data_dir(data_dir)
    out: dict[str, Any] = {}
    for case in load_cases(data_dir, limit):
        corpus = case.data["corpus"]
        text = case.data["text"]
        agg = out.setdefault(corpus, {"prompts": 0, "tokens": 0, "findings": Counter(), "safe_fixable": Counter(),
                                      "unsafe_fixable": Counter(), "tokens_saved_fix": 0,
                                      "tokens_saved_unsafe": 0, "prompts_changed": 0, "facts_min": 1.0,
                                      "facts_sum": 0.0, "facts_n": 0, "facts_min_unsafe": 1.0, "hard_facts_min_unsafe": 1.0, "lost": [],
                                      "lost_unsafe": []})
        safe = lint_case(text)
        unsafe = lint_case(text, unsafe=True)
        agg["prompts"] += 1
        agg["tokens"] += safe["before"]
        for f in safe["findings"]:
            agg["findings"][f.code] += 1
            if f.fix is not None:
                agg["safe_fixable" if f.fix.applicability == "safe" else "unsafe_fixable"][f.code] += 1
        agg["tokens_saved_fix"] += safe["before"] - safe["after"]
        agg["tokens_saved_unsafe"] += unsafe["before"] - unsafe["after"]
        agg["prompts_changed"] += safe["fixed"] != text
        fr = facts_kept(text, safe["fixed"])
        if fr is not None:
            agg["facts_sum"] += fr
            agg["facts_n"] += 1
            agg["facts_min"] = min(agg["facts_min"], fr)
            if fr < 1.0:
                agg["lost"].append(case.id)
        fru = facts_kept(text, unsafe["fixed"])
        if fru is not None:
            agg["facts_min_unsafe"] = min(agg["facts_min_unsafe"], fru)
            if fru < 1.0:
                agg["lost_unsafe"].append((case.id, round(fru, 4), sorted({c.rule for c in unsafe["applied"]})))
        hard = facts_kept(text, unsafe["fixed"], HARD_FACTS)
        if hard is not None:
            agg["hard_facts_min_unsafe"] = min(agg["hard_facts_min_unsafe"], hard)
    for agg in out.values():
        agg["fact_retention_mean"] = agg.pop("facts_sum") / agg["facts_n"] if agg["facts_n"] else None
        for key in ("findings", "safe_fixable", "unsafe_fixable"):
            agg[key] = dict(sorted(agg[key].items()))
    return out


def _print(report: Mapping[str, Any]) -> None:
    for corpus, agg in report.items():
        print(f"## {corpus}: {agg['prompts']} prompts, {agg['tokens']:,} tokens")
        print(f"{'rule':<6} {'findings':>9} {'safe fix':>9} {'unsafe fix':>11}")
        for code in _CODES:
            print(f"{code:<6} {agg['findings'].get(code, 0):>9,} {agg['safe_fixable'].get(code, 0):>9,} "
                  f"{agg['unsafe_fixable'].get(code, 0):>11,}")
        pct = 100.0 * agg["tokens_saved_fix"] / agg["tokens"] if agg["tokens"] else 0.0
        pct_u = 100.0 * agg["tokens_saved_unsafe"] / agg["tokens"] if agg["tokens"] else 0.0
        print(f"--fix saves {agg['tokens_saved_fix']:,} tokens ({pct:.2f}%), {agg['prompts_changed']} prompts changed; "
              f"--fix --unsafe-fixes saves {agg['tokens_saved_unsafe']:,} ({pct_u:.2f}%)")
        print(f"fact retention after --fix: mean {agg['fact_retention_mean']}, min {agg['facts_min']} "
              f"({len(agg['lost'])} prompts below 100%); after --unsafe-fixes: min {agg['facts_min_unsafe']} "
              f"({len(agg['lost_unsafe'])} prompts below 100%; numbers/URLs/e-mails/placeholders only: min "
              f"{agg['hard_facts_min_unsafe']})\n")


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally save as JSON) the lint corpus report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="shared data folder (default: $PROMPTSLIM_SHARED_DATA or ../shared/data)")
    p.add_argument("--limit", type=int, default=None, help="at most N prompts per corpus")
    p.add_argument("--json", default=None, help="also write the report as JSON to this file")
    args = p.parse_args(argv)
    report = corpus_report(Path(args.data) if args.data else None, args.limit)
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
