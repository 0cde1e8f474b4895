"""What a cold `promptslim lint` run loads: the second run on a machine (disk caches filled) must not
build tiktoken's full encoder or import jsonschema / genai-prices for an ordinary prompt file.

These are structural checks (which modules load), not timings: the speed itself is measured in
benchmarks/bench_lint.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "promptslim" / "examples" / "support_agent.prompt"

PROBE = """
import json, sys
sys.argv = ["promptslim", "lint", "--no-cache", sys.argv[1]]
from promptslim.cli import main
try:
    code = main()
except SystemExit as exc:
    code = exc.code
from promptslim import tokens
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"jsonschema", "genai_prices", "torch", "spacy"})
built = sorted(name for name, eng in tokens._engines.items() if eng.built)
sys.stderr.write(json.dumps({"code": code, "heavy": heavy, "built": built}) + "\\n")
"""


def _probe(path: Path, cache: Path) -> dict:
    env = {"PROMPTSLIM_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, env=env,
                          cwd=path.parent)
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_second_run_loads_nothing_heavy(tmp_path: Path) -> None:
    prompt = tmp_path / "p.prompt"
    prompt.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    cache = tmp_path / "cache"
    first = _probe(prompt, cache)
    second = _probe(prompt, cache)
    assert first["code"] == second["code"] == 1  # the example has findings
    assert first["built"] == ["o200k_base"]  # first run on a machine: builds and caches the rank shards
    assert second["built"] == []
    assert second["heavy"] == []


def test_output_constraint_patterns_joined_keep_their_meaning() -> None:
    """PS303 joins its patterns into one search over lower-cased text; upper-case literals keep
    ignoring case, and patterns that cannot be joined fall back to one search each."""
    from promptslim.lint.checks_structure import _constraint_rx

    joined = _constraint_rx((r"\bin json\b", r"Answer In \d+ Words"))
    assert joined is not None
    assert joined.search("reply in json only.") and joined.search("answer in 50 words")
    assert not joined.search("answer in many words")
    assert _constraint_rx(("(?i)json", "bar")) is None  # global flag mid-pattern: not joinable


def test_ps303_honours_patterns_that_cannot_be_joined(tmp_path: Path) -> None:
    from promptslim.lint import lint_text
    from promptslim.lint.config import load_config

    (tmp_path / "promptslim.toml").write_text(
        '[lint.options.PS303]\npatterns = ["(?i)REPLY BRIEFLY"]\nmin_prompt_tokens = 1\n', encoding="utf-8")
    cfg = load_config(tmp_path / "promptslim.toml")
    text = "You are a helpful assistant for the billing team. Reply briefly."
    assert not [f for f in lint_text(text, config=cfg) if f.code == "PS303"]
    assert [f for f in lint_text("You are a helpful assistant for the billing team.", config=cfg)
            if f.code == "PS303"]
