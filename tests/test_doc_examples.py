"""The examples in docstrings and in the README's self-contained blocks give the output they show."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest
from conftest import REPO

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# README blocks that define everything they use (the others use data described in prose)
_README_BLOCKS = ("ps.count_tokens(", "ps.compress_prompt(", "ps.select_chunks(", "ps.split_cacheable(")


def _modules_with_examples() -> list[str]:
    root = REPO / "promptslim"
    out = []
    for path in sorted(root.rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            rel = path.relative_to(REPO).with_suffix("")
            out.append(".".join(p for p in rel.parts if p != "__init__"))
    return out


MODULES = _modules_with_examples()


def test_some_modules_have_examples() -> None:
    assert len(MODULES) >= 5


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=_FLAGS, verbose=False, report=True)
    assert res.failed == 0, f"{name}: {res.failed} of {res.attempted} docstring examples fail"


def _readme_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.+?)```", text, re.S)
    return [b for b in blocks if any(k in b for k in _README_BLOCKS)]


def test_readme_examples_run_as_shown() -> None:
    blocks = _readme_blocks()
    assert len(blocks) == len(_README_BLOCKS)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    globs: dict[str, object] = {}
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, globs, f"README block {i}", "README.md", 0)
        runner.run(test, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: carry names over to the next block
    res = runner.summarize(verbose=False)
    assert res.attempted >= 10
    assert res.failed == 0, f"{res.failed} README examples do not give the output shown (see the report above)"
