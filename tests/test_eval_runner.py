"""The eval runner: deterministic, baselines beside transforms, failures reported, gate semantics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from promptslim.cli import main
from promptslim.eval import Case, MethodOutput, Suite, register_suite
from promptslim.eval.baselines import case_seed, random_sentence_drop
from promptslim.eval.metrics import answer_recall
from promptslim.eval.report import gate_against, plot_frontier, to_markdown, write_json
from promptslim.eval.runner import run_eval
from promptslim.tokens import get_tokenizer

TEXTS = [
    ("c1", "Alpha is first. The answer is 42. Beta follows. Gamma ends.", ["42"]),
    ("c2", "Rome was founded in 753 BC. It is in Italy. Many tourists visit.", ["753 BC"]),
    ("c3", "No answer here. Just words. More words.", ["Zurich"]),
    ("boom", "This case makes the method fail.", ["x"]),
]


def _load(_d: Any, limit: int | None) -> list[Case]:
    cases = [Case(i, {"text": t, "answers": a}) for i, t, a in TEXTS]
    return cases[:limit] if limit else cases


def _rand(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    tok = get_tokenizer()
    if case.id == "boom":
        raise RuntimeError("kaboom")
    text = case.data["text"]
    n = tok.count(text)
    out = random_sentence_drop(text, max(1, int(n * (budget or 1))), case_seed(case.id, params["_seed"]), tok)
    ar = answer_recall(text, out, case.data["answers"])
    return MethodOutput(n, tok.count(out), {} if ar is None else {"answer_recall": ar}, out)


def _noop(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    n = get_tokenizer().count(case.data["text"])
    ar = answer_recall(case.data["text"], case.data["text"], case.data["answers"])
    return MethodOutput(n, n, {} if ar is None else {"answer_recall": ar})


SUITE = register_suite(Suite(name="test-toy", task="rag", description="toy", load=_load,
                             methods={"rand": _rand, "noop": _noop}, budgets=(0.5, 0.25),
                             primary_metric="answer_recall", baselines=("noop",)))


def test_runs_are_deterministic_and_complete() -> None:
    a = run_eval([SUITE], progress=False)
    b = run_eval([SUITE], progress=False, workers=3)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    assert [(r.method, r.budget) for r in a.rows] == [("rand", 0.5), ("rand", 0.25), ("noop", None)]
    rand = a.rows[0]
    assert rand.n == 3 and rand.failures == 1 and rand.metric_counts["answer_recall"] == 2
    assert [f.case_id for f in a.failures] == ["boom", "boom"]
    assert a.rows[2].baseline and a.rows[2].metrics["answer_recall"] == 1.0 and a.rows[2].savings_pct == 0.0
    assert any("not measured" in n for n in a.notes)


def test_seed_changes_random_baseline() -> None:
    a = run_eval([SUITE], progress=False, seed=0, budgets=[0.3])
    b = run_eval([SUITE], progress=False, seed=12345, budgets=[0.3])
    assert [r.budget for r in a.rows] == [0.3, None]
    assert a.rows[0].tokens_before == b.rows[0].tokens_before


def test_markdown_and_plot(tmp_path) -> None:
    rep = run_eval([SUITE], progress=False)
    md = to_markdown(rep)
    assert "| noop (baseline) | - |" in md and "answer_recall" in md and "failed" in md
    png = tmp_path / "f.png"
    assert plot_frontier(rep, png) == ["test-toy"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_gate_flags_quality_and_savings_drops(tmp_path) -> None:
    rep = run_eval([SUITE], progress=False)
    path = tmp_path / "base.json"
    write_json(rep, path)
    base = json.loads(path.read_text())
    assert not gate_against(rep, base).failed
    base["rows"][0]["metrics"]["answer_recall"] = rep.rows[0].metrics["answer_recall"] + 0.2
    base["rows"][1]["savings_pct"] = rep.rows[1].savings_pct + 5
    result = gate_against(rep, base)
    assert result.failed and len(result.regressions) == 2
    assert "answer_recall" in result.regressions[0] and "savings" in result.regressions[1]


def test_cli_gate_exit_codes(tmp_path, capsys) -> None:
    base = tmp_path / "gate.json"
    assert main(["eval", "test-toy", "--gate", str(base), "--update-gate"]) == 0
    assert main(["eval", "test-toy", "--gate", str(base)]) == 0
    data = json.loads(base.read_text())
    data["rows"][0]["metrics"]["answer_recall"] = 1.5
    base.write_text(json.dumps(data))
    assert main(["eval", "test-toy", "--gate", str(base)]) == 1
    assert "REGRESSION" in capsys.readouterr().err
    base.write_text('{"rows": [')
    assert main(["eval", "test-toy", "--gate", str(base)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_cli_bad_input(capsys) -> None:
    assert main(["eval", "no-such-suite"]) == 2
    assert "unknown eval suite" in capsys.readouterr().err
    assert main(["eval", "test-toy", "--budgets", "2"]) == 2
    assert main(["eval", "test-toy", "--param", "novalue"]) == 2


def test_cli_json_output(capsys) -> None:
    assert main(["eval", "test-toy", "--json", "-", "--limit", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["n"] for r in data["rows"]} == {2}


def test_missing_shared_data_is_clear(tmp_path) -> None:
    from promptslim.eval.core import DataMissingError, require_file

    with pytest.raises(DataMissingError, match="PROMPTSLIM_SHARED_DATA"):
        require_file(tmp_path, "qa/none.json")
