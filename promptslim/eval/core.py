"""Eval building blocks: cases, methods, suites and the suite registry.

A *suite* turns data into :class:`Case` records and names the *methods* to score on them (the
transform under test plus baselines). A method takes a case, an optional budget ratio and params,
and returns a :class:`MethodOutput`: tokens before and after, and quality metrics in [0, 1].
The runner (``runner.py``) aggregates outputs into a report; nothing here does I/O.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, PromptslimError

__all__ = [
    "Case",
    "MethodOutput",
    "Method",
    "Suite",
    "register_suite",
    "get_suite",
    "list_suites",
    "shared_data_dir",
    "DataMissingError",
]


class DataMissingError(PromptslimError, FileNotFoundError):
    """A suite needs the shared data folder (or one of its files) and it is not there."""


@dataclass(frozen=True, slots=True)
class Case:
    """One eval item: an id unique within its suite and a task-specific payload."""

    id: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MethodOutput:
    """What one method did to one case: token counts and quality metrics (higher is better, 0..1).

    A metric that does not apply to a case (e.g. answer recall where the answer was never in the
    context) is left out rather than set, so means are taken over applicable cases only.
    """

    tokens_before: int
    tokens_after: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    output_text: str | None = None  # the compressed context, for optional end-to-end answer scoring


# method(case, budget_ratio or None, params) -> MethodOutput
Method = Callable[[Case, "float | None", Mapping[str, Any]], MethodOutput]


@dataclass(frozen=True)
class Suite:
    """A named eval: how to load cases, which methods to compare, and at which budgets.

    ``load(data_dir, limit)`` yields cases; ``data_dir`` is the shared data folder for suites with
    ``needs_shared_data=True`` and None for suites on the project's own ``eval_sets/``.
    ``budgets`` are ratios of the original tokens (``0.25`` = a quarter); ``(None,)`` means the
    methods pick their own size (compression levels, schemas). ``setup(params)`` runs once per run
    and its return value is passed to methods as ``params["_state"]`` (load heavy backends there).
    """

    name: str
    task: str
    description: str
    load: Callable[[Path | None, int | None], Iterable[Case]]
    methods: Mapping[str, Method]
    budgets: tuple[float | None, ...] = (None,)
    needs_shared_data: bool = False
    primary_metric: str = ""
    baselines: tuple[str, ...] = ()
    setup: Callable[[Mapping[str, Any]], Any] | None = None
    budgetless: tuple[str, ...] = ("noop",)  # methods that ignore the budget: run once, budget None


_SUITES: dict[str, Suite] = {}


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` to the registry; a duplicate name is an error (two modules claiming one name)."""
    if suite.name in _SUITES and _SUITES[suite.name] is not suite:
        raise ValueError(f"eval suite {suite.name!r} is registered twice")
    _SUITES[suite.name] = suite
    return suite


def _load_builtin_suites() -> None:
    from . import tasks  # noqa: F401  (importing registers the built-in suites)


def get_suite(name: str) -> Suite:
    """The suite called ``name``; unknown names raise with the list of known ones."""
    _load_builtin_suites()
    try:
        return _SUITES[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _SUITES, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise InputError(f"unknown eval suite {name!r}.{hint} Known: {', '.join(sorted(_SUITES))}") from None


def list_suites() -> list[Suite]:
    """Every registered suite, sorted by name."""
    _load_builtin_suites()
    return [_SUITES[k] for k in sorted(_SUITES)]


def shared_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The shared data folder: ``explicit``, else ``$PROMPTSLIM_SHARED_DATA``, else ``../shared/data``."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("PROMPTSLIM_SHARED_DATA")
    return Path(env) if env else Path("..") / "shared" / "data"


def require_file(data_dir: Path | None, relpath: str) -> Path:
    """``data_dir / relpath``, or a :class:`DataMissingError` that names the path and the env var."""
    if data_dir is None:
        raise DataMissingError(f"suite needs the shared data folder; set PROMPTSLIM_SHARED_DATA ({relpath})")
    path = data_dir / relpath
    if not path.exists():
        raise DataMissingError(f"{path}: not found (set PROMPTSLIM_SHARED_DATA to the shared data folder)")
    return path
