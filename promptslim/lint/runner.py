"""Lint many files: find the config, walk the paths, lint (and fix or diff) each file into a report.

One file's failure never stops the run: unreadable, binary, non-UTF-8 and malformed JSON/YAML files
become :class:`FileReport` records with an error, and the other files are still linted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..tokens import Tokenizer, get_tokenizer
from .config import LintConfig, find_config, load_config
from .document import Document
from .engine import document_tokens, lint_document
from .files import DocumentError, SkipFile, iter_files, load_document
from .findings import FileError, FileReport
from .fixes import eligible, fix_document, unified_diff, write_document

__all__ = ["LintRun", "lint_paths", "lint_file", "discover_config"]


@dataclass(frozen=True)
class LintRun:
    """Reports of one run plus the settings it used."""

    reports: tuple[FileReport, ...]
    config: LintConfig
    tokenizer_name: str
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False

    @property
    def errors(self) -> list[FileError]:
        return [r.error for r in self.reports if r.error is not None]

    @property
    def findings(self) -> list:
        return [f for r in self.reports for f in r.findings]

    def exit_code(self) -> int:
        """2 when any file errored; else 1 for findings (warnings) or, with ``--diff``, pending fixes; else 0."""
        if self.errors:
            return 2
        if self.diff:
            return 1 if any(r.diff for r in self.reports) else 0
        return 1 if any(f.severity == "warning" for f in self.findings) else 0


def discover_config(paths: Sequence[str | os.PathLike[str]], explicit: str | os.PathLike[str] | None = None,
                    isolated: bool = False) -> LintConfig:
    """``--config`` if given, else the nearest config above the first path (or the current folder)."""
    if isolated:
        return LintConfig()
    if explicit is not None:
        return load_config(explicit)
    found = find_config(paths[0] if paths else ".") or find_config(".")
    return load_config(found) if found is not None else LintConfig()


def lint_file(path: str | os.PathLike[str], config: LintConfig, tokenizer: Tokenizer, *, fix: bool = False,
              unsafe_fixes: bool = False, diff: bool = False) -> FileReport:
    """Lint one file into a report (fixing it on disk with ``fix``, or diffing with ``diff``)."""
    name = str(path)
    try:
        doc = load_document(path)
    except DocumentError as exc:
        return FileReport(name, error=exc.error)
    except SkipFile as exc:
        return FileReport(name, skipped=str(exc))
    try:
        return _lint_loaded(doc, config, tokenizer, fix, unsafe_fixes, diff)
    except DocumentError as exc:  # a fix produced text that no longer parses: report, never write
        return FileReport(name, error=exc.error)
    except (OSError, ValueError) as exc:
        return FileReport(name, error=FileError(name, f"{type(exc).__name__}: {exc}"))


def _lint_loaded(doc: Document, config: LintConfig, tokenizer: Tokenizer, fix: bool, unsafe: bool,
                 diff: bool) -> FileReport:
    tokens = document_tokens(doc, tokenizer)
    findings = lint_document(doc, config, tokenizer, total_tokens=tokens)
    if not (fix or diff) or not eligible(findings, unsafe):
        return FileReport(doc.path, tuple(findings), tokens=tokens)
    outcome = fix_document(doc, config, tokenizer, unsafe=unsafe, findings=findings)
    if diff:
        return FileReport(doc.path, tuple(findings), tokens=tokens, diff=unified_diff(doc, outcome.document),
                          tokens_fixed=outcome.tokens_before - outcome.tokens_after)
    if outcome.changed:
        write_document(outcome.document)
    return FileReport(doc.path, outcome.remaining, tokens=outcome.tokens_after, fixed=len(outcome.applied),
                      tokens_fixed=outcome.tokens_before - outcome.tokens_after)


class _LazyTokenizer:
    """The run's tokenizer, loaded on first use: a run served wholly from the cache never loads it."""

    def __init__(self, model: str, given: Tokenizer | None) -> None:
        self.model = model
        self.tok = given

    def get(self) -> Tokenizer:
        if self.tok is None:
            self.tok = get_tokenizer(self.model)
        return self.tok


PARALLEL_MIN_FILES = 64  # below this, starting workers costs more than it saves

_WORKER: dict[str, object] = {}


def _worker_lint(job: tuple[str, bool, bool, bool]) -> FileReport:
    """Lint one file in a forked worker with the settings and tokenizer the parent set up before forking."""
    path, fix, unsafe, diff = job
    return lint_file(path, _WORKER["config"], _WORKER["tokenizer"], fix=fix, unsafe_fixes=unsafe,  # type: ignore[arg-type]
                     diff=diff)


def _default_jobs() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def _lint_many(todo: list[str], cfg: LintConfig, tok: Tokenizer, fix: bool, unsafe: bool, diff: bool,
               jobs: int) -> list[FileReport]:
    """Reports for ``todo`` in order: in this process, or in forked workers for many files on several cores."""
    import multiprocessing

    if jobs <= 1 or len(todo) < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return [lint_file(p, cfg, tok, fix=fix, unsafe_fixes=unsafe, diff=diff) for p in todo]
    from concurrent.futures import ProcessPoolExecutor

    tok.encoding  # noqa: B018 - build tiktoken's encoder once here; forked workers inherit it
    _WORKER.update(config=cfg, tokenizer=tok)  # inherited by the forked workers, never pickled
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_worker_lint, [(p, fix, unsafe, diff) for p in todo],
                                 chunksize=max(1, len(todo) // (jobs * 8))))
    finally:
        _WORKER.clear()


def lint_paths(paths: Sequence[str | os.PathLike[str]], config: LintConfig | None = None, *, fix: bool = False,
               unsafe_fixes: bool = False, diff: bool = False, tokenizer: Tokenizer | None = None,
               cache: bool = False, jobs: int | None = 1) -> LintRun:
    """Lint files and folders; ``config`` defaults to the nearest ``promptslim.toml`` / ``pyproject.toml``.

    ``cache`` reuses results of unchanged files from ``.promptslim_cache/`` (plain lint runs only).
    ``jobs`` > 1 lints many files (64 or more) in that many forked worker processes (None: one per
    available core); reports keep the walk order either way, so output does not depend on it.
    """
    from ..tokens import encoding_for_model

    cfg = config if config is not None else discover_config(paths)
    name = tokenizer.name if tokenizer is not None else encoding_for_model(cfg.model)[0]  # unknown model: error now
    lazy = _LazyTokenizer(cfg.model, tokenizer)
    store = None
    if cache and not (fix or diff):
        from .cache import ResultCache

        store = ResultCache(cfg)
    files = list(iter_files(paths, cfg))
    found: dict[int, FileReport] = {}
    data: dict[int, bytes] = {}
    if store is not None:
        for i, (path, _) in enumerate(files):
            try:
                data[i] = Path(path).read_bytes()
            except OSError:
                continue
            hit = store.get(str(path), data[i])
            if hit is not None:
                found[i] = hit
    todo = [i for i in range(len(files)) if i not in found]
    if todo:
        done = _lint_many([str(files[i][0]) for i in todo], cfg, lazy.get(), fix, unsafe_fixes, diff,
                          _default_jobs() if jobs is None else jobs)
        for i, report in zip(todo, done, strict=True):
            found[i] = report
            if store is not None and i in data:
                store.put(str(files[i][0]), data[i], report)
    reports = []
    for i, (_, explicit) in enumerate(files):
        if found[i].skipped and not explicit:
            continue  # a JSON/YAML file met while walking a folder that holds no chat messages
        reports.append(found[i])
    if store is not None:
        store.save()
    return LintRun(tuple(reports), cfg, name, fix, unsafe_fixes, diff)
