"""A result cache for ``promptslim lint``, as ruff keeps one: unchanged files are not linted again.

An entry is keyed by the file's path and the SHA-256 of its bytes; the cache file itself is keyed by a
fingerprint of everything else that decides findings: promptslim's own code and rule data (size and
mtime of every file in the package), the tokenizer library, the price data, and the settings in force.
Change any of them and the old cache is simply not read. Only plain lint runs use it (never ``--fix``
or ``--diff``). It lives in ``.promptslim_cache/`` beside the config (with a ``.gitignore`` of ``*``);
``--no-cache`` turns it off. A damaged cache file is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from .config import LintConfig
from .findings import Edit, FileError, FileReport, Finding, Fix

__all__ = ["ResultCache", "fingerprint", "report_to_dict", "report_from_dict"]

CACHE_DIR = ".promptslim_cache"
MAX_ENTRIES = 20_000


def _tree_stamp(folder: Path, suffixes: tuple[str, ...]) -> list[tuple[str, int, int]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(suffixes):
                st = os.stat(os.path.join(dirpath, name))
                out.append((os.path.relpath(os.path.join(dirpath, name), folder), st.st_size, st.st_mtime_ns))
    return out


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fingerprint(config: LintConfig) -> str:
    """Hash of code, data and settings that decide findings (see the module docstring)."""
    from .. import __version__

    h = hashlib.sha256()
    parts: list[Any] = [__version__, repr((config.root, config.select, config.extend_select, config.ignore,
                                          config.per_file_ignores, config.model, config.budgets, config.exclude,
                                          sorted((k, sorted(v.items())) for k, v in config.options.items())))]
    own = Path(__file__).resolve().parents[1]
    parts.append(_tree_stamp(own, (".py", ".toml", ".txt")))
    for dep in ("tiktoken", "genai_prices", "bpe_openai"):
        folder = _package_dir(dep)
        parts.append((dep, _tree_stamp(folder, (".py", ".json", ".gz", ".so")) if folder else None))
    h.update(repr(parts).encode("utf-8"))
    return h.hexdigest()[:24]


def _edit(e: Edit) -> list[Any]:
    return [e.start, e.end, e.content, list(e.start_lc), list(e.end_lc)]


def report_to_dict(r: FileReport) -> dict[str, Any]:
    """A report as JSON-ready data (exact round trip with :func:`report_from_dict`)."""
    return {
        "tokens": r.tokens, "skipped": r.skipped,
        "error": None if r.error is None else [r.error.message, r.error.line, r.error.col],
        "findings": [[f.code, f.name, f.message, f.start, f.end, f.line, f.col, f.end_line, f.end_col, f.severity,
                      None if f.fix is None else [f.fix.applicability, [_edit(e) for e in f.fix.edits]],
                      f.tokens_saved, f.detail] for f in r.findings],
    }


def report_from_dict(path: str, d: dict[str, Any]) -> FileReport:
    """Inverse of :func:`report_to_dict` for the file at ``path``."""
    findings = []
    for code, name, msg, s, e, ln, col, eln, ecol, sev, fix, saved, detail in d["findings"]:
        fx = None
        if fix is not None:
            fx = Fix(tuple(Edit(a, b, c, tuple(slc), tuple(elc)) for a, b, c, slc, elc in fix[1]), fix[0])
        findings.append(Finding(code, name, msg, path, s, e, ln, col, eln, ecol, sev, fx, saved, detail))
    err = d["error"]
    error = None if err is None else FileError(path, err[0], err[1], err[2])
    return FileReport(path, tuple(findings), error, d["tokens"], skipped=d["skipped"])


class ResultCache:
    """Load once, look up per file, save once at the end of a run."""

    def __init__(self, config: LintConfig, folder: Path | None = None) -> None:
        self.folder = folder or config.root / CACHE_DIR
        self.file = self.folder / f"lint-{fingerprint(config)}.json"
        self.entries: dict[str, Any] = {}
        self.dirty = False
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self.entries = data
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def key(path: str, data: bytes) -> str:
        return f"{path}\0{hashlib.sha256(data).hexdigest()}"

    def get(self, path: str, data: bytes) -> FileReport | None:
        d = self.entries.get(self.key(path, data))
        if d is None:
            return None
        try:
            return report_from_dict(path, d)
        except (TypeError, ValueError, KeyError, IndexError):
            return None

    def put(self, path: str, data: bytes, report: FileReport) -> None:
        if report.error is not None:  # errors (unreadable files) may be transient: always retry
            return
        self.entries[self.key(path, data)] = report_to_dict(report)
        self.dirty = True

    def save(self) -> None:
        """Write atomically; old cache files (other fingerprints) are removed. Failures are ignored."""
        if not self.dirty:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gi = self.folder / ".gitignore"
            if not gi.exists():
                gi.write_text("# Automatically created by promptslim lint.\n*\n", encoding="utf-8")
            entries = dict(list(self.entries.items())[-MAX_ENTRIES:])
            tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(entries, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.file)
            for old in self.folder.glob("lint-*.json"):
                if old != self.file:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
