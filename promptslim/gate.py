"""Token baselines and regression checks for prompt files: the library behind ``promptslim baseline``
and ``promptslim check``.

A baseline records each prompt file's tokens (and each message's, for message files), the tokenizer
identity, the model and the estimated cost per call. ``check`` recounts the files and fails when one
grew past both the relative and the absolute threshold, or when a new file exceeds its budget. The
baseline comes from a committed lock file or, with ``base_ref``, from a git revision's files.

>>> from promptslim.gate import Thresholds
>>> Thresholds().regressed(1000, 1060), Thresholds().regressed(100, 110)
(True, False)

Implementation: ``gate_files`` (discovery, counting), ``gate_baseline`` (JSON), ``gate_compare``
(judgement), ``gate_git`` (``--base-ref``), ``gate_output`` (table, Markdown, GitHub annotations).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._toml import TOMLDecodeError, loads
from .errors import InputError
from .gate_baseline import (
    Baseline,
    BaselineError,
    TokenizerMismatchError,
    baseline_from_sources,
    build_baseline,
    check_tokenizer,
    dumps_baseline,
    key_for,
    load_baseline,
    loads_baseline,
    write_baseline,
)
from .gate_compare import (
    CheckReport,
    FileDelta,
    MessageDelta,
    Thresholds,
    check_against_baseline,
    ratchet_baseline,
)
from .gate_files import GATE, FileRecord, MessageRecord
from .gate_git import GitError, git_renames, last_commit_of, resolve_ref, sources_at_ref
from .gate_output import FORMATS, format_github, format_json, format_markdown, format_text
from .tokens import get_tokenizer

__all__ = [
    "Baseline",
    "BaselineError",
    "CheckOutcome",
    "CheckReport",
    "FileDelta",
    "FileRecord",
    "FORMATS",
    "GateConfig",
    "GitError",
    "MessageDelta",
    "MessageRecord",
    "Thresholds",
    "TokenizerMismatchError",
    "build_baseline",
    "check_against_baseline",
    "check_paths",
    "dumps_baseline",
    "format_github",
    "format_json",
    "format_markdown",
    "format_text",
    "load_baseline",
    "load_config",
    "loads_baseline",
    "parse_percent",
    "ratchet_baseline",
    "rebaseline_command",
    "write_baseline",
]

DEFAULT_BASELINE: str = GATE["default_baseline"]
DEFAULT_MODEL: str = GATE["default_model"]


def parse_percent(value: str | float | int, where: str = "--max-increase") -> float:
    """``"5%"``, ``"5"``, ``5`` -> 5.0 (always a percentage); InputError for anything else."""
    if isinstance(value, bool):
        raise InputError(f"{where}: expected a percentage like 5%, got {value!r}")
    if isinstance(value, (int, float)):
        pct = float(value)
    else:
        text = value.strip().removesuffix("%").strip()
        try:
            pct = float(text)
        except ValueError:
            raise InputError(f"{where}: expected a percentage like 5%, got {value!r}") from None
    if not pct >= 0 or pct == float("inf"):
        raise InputError(f"{where}: the percentage must be a finite number >= 0, got {value!r}")
    return pct


@dataclass(frozen=True)
class GateConfig:
    """Settings from ``[tool.promptslim]`` in the nearest pyproject.toml; None means not set there.

    Paths in it are relative to the pyproject.toml's folder and returned relative to the current one.
    """

    paths: tuple[str, ...] = ()
    baseline: str | None = None
    model: str | None = None
    max_increase_pct: float | None = None
    min_increase_tokens: int | None = None
    budget: int | None = None
    budgets: tuple[tuple[str, int], ...] = ()
    source: str | None = None


def _int(table: Mapping[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{where}: [tool.promptslim] {key} must be a whole number >= 0, got {value!r}")
    return value


def load_config(start: str | os.PathLike[str] = ".") -> GateConfig:
    """Read ``[tool.promptslim]`` from the nearest pyproject.toml at or above ``start``.

    Keys: ``paths``, ``baseline``, ``model``, ``max-increase`` (``"5%"`` or 5), ``min-increase-tokens``,
    ``budget``, and a ``[tool.promptslim.budgets]`` table of glob = tokens for new files.
    """
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            break
    else:
        return GateConfig()
    where = str(candidate)
    try:
        data = loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TOMLDecodeError) as exc:
        raise InputError(f"{where}: cannot read settings: {exc}") from None
    table = data.get("tool", {}).get("promptslim", {})
    if not isinstance(table, Mapping):
        return GateConfig(source=where)

    def rel(p: str) -> str:
        return os.path.relpath(candidate.parent / p)

    paths = table.get("paths", [])
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InputError(f"{where}: [tool.promptslim] paths must be a list of strings")
    budgets = table.get("budgets", {})
    if not isinstance(budgets, Mapping):
        raise InputError(f"{where}: [tool.promptslim.budgets] must be a table of glob = tokens")
    pairs = tuple((str(k), _int(budgets, k, where) or 0) for k in budgets)
    raw_pct = table.get("max-increase", table.get("max_increase"))
    baseline = table.get("baseline")
    model = table.get("model")
    for key, value in (("baseline", baseline), ("model", model)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where}: [tool.promptslim] {key} must be a string, got {value!r}")
    return GateConfig(
        paths=tuple(rel(p) for p in paths),
        baseline=rel(baseline) if baseline else None,
        model=model,
        max_increase_pct=None if raw_pct is None else parse_percent(raw_pct, f"{where}: max-increase"),
        min_increase_tokens=_int(table, "min-increase-tokens", where) if "min-increase-tokens" in table
        else _int(table, "min_increase_tokens", where),
        budget=_int(table, "budget", where),
        budgets=pairs,
        source=where,
    )


@dataclass(frozen=True)
class CheckOutcome:
    """What :func:`check_paths` compared: the report plus both sides, for ``--update`` and output."""

    report: CheckReport
    baseline: Baseline
    current: Baseline
    root: Path
    accept: str = ""


def rebaseline_command(paths: Sequence[str | os.PathLike[str]], baseline: str, model: str) -> str:
    """The command that rebuilds ``baseline`` from ``paths`` (shown in errors and verdicts)."""
    shown = " ".join(str(p) for p in paths)
    return f"promptslim baseline {shown} -o {baseline} --model {model}"


def in_scope(paths: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str]) -> Callable[[str], bool]:
    """A test of whether a baseline key lies under ``paths`` (a file, or anything inside a folder), so a
    check of some files (a pre-commit run passes only the changed ones) does not call the rest deleted."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for p in paths:
        key = key_for(p, root)
        if os.path.isfile(p):
            exact.add(key)
        elif key == ".":
            return lambda k: True
        else:
            prefixes.append(key + "/")
    pre = tuple(prefixes)
    return lambda k: k in exact or k.startswith(pre)


def check_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    baseline_path: str | os.PathLike[str] | None = None,
    base_ref: str | None = None,
    thresholds: Thresholds | None = None,
    model: str | None = None,
    root: str | os.PathLike[str] | None = None,
    ignore_tiktoken_version: bool = False,
    detect_git_renames: bool = True,
) -> CheckOutcome:
    """Count the prompt files under ``paths`` and judge them against a baseline file or a git revision.

    With ``baseline_path``, keys are relative to the baseline's folder (``root`` overrides) and the
    model defaults to the baseline's. With ``base_ref``, the baseline is counted from that revision's
    files, keys relative to the current folder. Raises BaselineError, TokenizerMismatchError, GitError.
    """
    if (baseline_path is None) == (base_ref is None):
        raise InputError("give exactly one of a baseline file or a git base ref")
    if base_ref is not None:
        model = model or DEFAULT_MODEL
        tok = get_tokenizer(model)
        base_root = Path(root) if root is not None else Path.cwd()
        present = [p for p in paths if os.path.exists(p)]
        current = build_baseline(present, model=model, root=base_root, tokenizer=tok)
        # files unchanged since base_ref keep the count just made (same tokenizer, same bytes)
        old = baseline_from_sources(sources_at_ref(base_ref, paths, base_root), tok, model, reuse=current.files)
        gone = [str(p) for p in paths if not os.path.exists(p)]
        if gone and not old.files:
            raise InputError(f"{', '.join(gone)}: no such file or directory, here or at {base_ref}")
        where, rebaseline = f"{base_ref}", ""
        full = old
    else:
        where = str(baseline_path)
        old = load_baseline(where)
        model = model or old.model
        tok = get_tokenizer(model)
        rebaseline = rebaseline_command(paths, where, model)
        check_tokenizer(old, tok, where=where, rebaseline=rebaseline, ignore_tiktoken_version=ignore_tiktoken_version)
        base_root = Path(root) if root is not None else Path(os.path.dirname(os.path.abspath(where)))
        current = build_baseline(paths, model=model, root=base_root, tokenizer=tok)
        scope = in_scope(paths, base_root)
        full, old = old, replace(old, files={k: v for k, v in old.files.items() if scope(k)})
    renames: dict[str, str] = {}
    if detect_git_renames and set(old.files) - set(current.files) and set(current.files) - set(old.files):
        commit = resolve_ref(base_ref) if base_ref is not None else last_commit_of(where)
        if commit:
            renames = git_renames(commit, paths, base_root)
    report = check_against_baseline(old, current, thresholds, git_renames=renames, where=where,
                                    rebaseline=rebaseline, ignore_tiktoken_version=ignore_tiktoken_version)
    notes = report.notes + old.notes
    if old.model != current.model:
        notes += (f"baseline priced for {old.model}, this run for {current.model}",)
    return CheckOutcome(replace(report, notes=notes), full, current, base_root, rebaseline)
