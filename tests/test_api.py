"""The public API is a tested contract, and importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import promptslim

HEAVY = ("torch", "transformers", "sentence_transformers", "spacy", "llmlingua", "matplotlib")


def test_all_names_resolve() -> None:
    for name in promptslim.__all__:
        assert getattr(promptslim, name) is not None, name
    assert len(set(promptslim.__all__)) == len(promptslim.__all__)


def test_foundation_names_exported() -> None:
    for name in ("count_tokens", "get_tokenizer", "estimate_cost", "Result", "Savings", "Change",
                 "Tokenizer", "PromptslimError"):
        assert name in promptslim.__all__


def test_import_does_not_pull_heavy_backends() -> None:
    code = "import sys, json, promptslim, promptslim.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not [m for m in HEAVY if m in loaded]


def test_help_does_not_pull_heavy_backends() -> None:
    code = ("import sys, json\nfrom promptslim.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert not [m for m in HEAVY if m in loaded]
