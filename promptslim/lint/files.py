"""Which files to lint and how to read them: discovery, exclusions, .gitignore, documents.

Directories are walked in sorted order (output is deterministic) honouring ``exclude`` (gitignore
syntax, relative to the config folder), the built-in excludes and every ``.gitignore`` from the
repository root down. Files named on the command line are linted even when .gitignore lists them,
but ``exclude`` still applies (so a pre-commit run skips what the config excludes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .._io import read_text
from .._toml import load_package_toml
from ..errors import InputError
from .config import LintConfig
from .document import Document, Segment, Suppressions, line_starts
from .findings import FileError

__all__ = ["SUFFIXES", "file_kind", "iter_files", "load_document", "DocumentError", "SkipFile"]

_DATA = load_package_toml("data/lint.toml")
SUFFIXES: dict[str, str] = dict(load_package_toml("data/prompt_files.toml")["suffixes"])

_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_SUPPRESS = re.compile(r"\{#-?\s*promptslim:\s*(ignore-file|ignore)\s*(?:\[([^\]]*)\])?\s*-?#\}")


class DocumentError(Exception):
    """A file could not be read or parsed; carries the :class:`FileError` to report."""

    def __init__(self, error: FileError) -> None:
        self.error = error
        super().__init__(str(error))


class SkipFile(Exception):
    """A file the linter does not handle (a JSON/YAML file that holds no chat messages)."""


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """``text``, ``jinja``, ``json`` or ``yaml`` by suffix; None for files the linter does not read."""
    return SUFFIXES.get(os.path.splitext(str(path))[1].lower())


@cache
def _spec(lines: tuple[str, ...]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


class _Ignores:
    """Stack of (folder, spec) from .gitignore files plus the configured excludes."""

    def __init__(self, cfg: LintConfig, gitignore: bool) -> None:
        self.cfg = cfg
        self.gitignore = gitignore
        self.exclude = _spec(tuple(_DATA["walk"]["default_exclude"]) + cfg.exclude)
        self.git_specs: dict[Path, Any] = {}

    def git_spec(self, folder: Path) -> Any:
        if folder not in self.git_specs:
            spec = None
            gi = folder / ".gitignore"
            if self.gitignore and gi.is_file():
                try:
                    spec = _spec(tuple(gi.read_text(encoding="utf-8", errors="replace").splitlines()))
                except OSError:
                    spec = None
            self.git_specs[folder] = spec
        return self.git_specs[folder]

    def excluded(self, path: Path, is_dir: bool) -> bool:
        """Matched by the built-in or configured excludes, by name or by path relative to the config."""
        slash = "/" if is_dir else ""
        if self.exclude.match_file(path.name + slash):
            return True
        rel = self.cfg.relpath(path)
        return not rel.startswith("/") and bool(self.exclude.match_file(rel + slash))

    def git_ignored(self, path: Path, is_dir: bool, repo_root: Path | None) -> bool:
        if not self.gitignore or repo_root is None:
            return False
        verdict = None
        folder = path.parent
        chain = []
        while True:
            chain.append(folder)
            if folder == repo_root or folder.parent == folder:
                break
            folder = folder.parent
        for base in reversed(chain):  # deeper .gitignore files override shallower ones
            spec = self.git_spec(base)
            if spec is None:
                continue
            rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            res = spec.check_file(rel)
            if res.include is not None:
                verdict = res.include
        return bool(verdict)


def _repo_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def iter_files(paths: Sequence[str | os.PathLike[str]], cfg: LintConfig) -> Iterator[tuple[Path, bool]]:
    """Files to lint as ``(path, explicit)``, in the order given and sorted within folders.

    A path that does not exist raises :class:`InputError`.
    """
    ign = _Ignores(cfg, cfg.respect_gitignore)
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"{raw}: no such file or directory")
        if p.is_file():
            ap = Path(os.path.abspath(p))
            if ap not in seen and not ign.excluded(ap, False):
                seen.add(ap)
                yield p, True
            continue
        root = Path(os.path.abspath(p))
        repo = _repo_root(root)
        for dirpath, dirnames, filenames in os.walk(p):
            here = Path(os.path.abspath(dirpath))
            keep = []
            for d in sorted(dirnames):
                full = here / d
                if not ign.excluded(full, True) and not ign.git_ignored(full, True, repo):
                    keep.append(d)
            dirnames[:] = keep
            for f in sorted(filenames):
                if file_kind(f) is None:
                    continue
                full = here / f
                if full in seen or ign.excluded(full, False) or ign.git_ignored(full, False, repo):
                    continue
                seen.add(full)
                yield Path(dirpath) / f, False


def _utf8_position(path: Path) -> tuple[int, int] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[:exc.start]
        line = head.count(b"\n") + 1
        col = len(head[head.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
        return line, col
    return None


def _read(path: Path) -> tuple[str, str, bool]:
    from .._io import BinaryFileError

    name = str(path)
    try:
        tf = read_text(path)
    except BinaryFileError:
        raise DocumentError(FileError(name, "binary file (NUL byte found); not a prompt")) from None
    except InputError as exc:
        msg = str(exc)
        if msg.startswith(f"{path}: "):
            msg = msg[len(f"{path}: "):]
        pos = _utf8_position(path) if "UTF-8" in msg else None
        raise DocumentError(FileError(name, msg, *(pos or (None, None)))) from None
    return tf.text, tf.newline, tf.bom


def load_document(path: str | os.PathLike[str], text: str | None = None, kind: str | None = None) -> Document:
    """Read (or take ``text`` for) one file and split it into prompt segments.

    Raises :class:`DocumentError` for unreadable/binary/bad-UTF-8/malformed files and
    :class:`SkipFile` for JSON/YAML that holds no chat messages.
    """
    p = Path(path)
    name = str(path)
    kind = kind or file_kind(p) or "text"
    newline, bom = "\n", False
    if text is None:
        text, newline, bom = _read(p)
    crlf = False
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        text, crlf = text.replace("\r\n", "\n"), True
    starts = line_starts(text)
    if kind in ("json", "yaml"):
        return _message_document(name, text, kind, newline, bom, crlf, starts)
    protected: tuple[tuple[int, int], ...] = ()
    sup = Suppressions()
    if kind == "jinja":
        protected = tuple(m.span() for m in _JINJA_TAG.finditer(text))
        sup = _suppressions(text, starts)
    seg = Segment(text, 0, None, None, "", protected)
    return Document(name, text, kind, (seg,), kind, newline, bom, crlf, suppressions=sup, line_starts=starts)


def _message_document(name: str, text: str, kind: str, newline: str, bom: bool, crlf: bool,
                      starts: tuple[int, ...]) -> Document:
    from .messages import MalformedError, NotMessagesError, json_segments, yaml_segments

    try:
        segs, messages, tools, tool_pos = (json_segments if kind == "json" else yaml_segments)(text)
    except MalformedError as exc:
        raise DocumentError(FileError(name, str(exc), exc.line, exc.col)) from None
    except NotMessagesError as exc:
        raise SkipFile(f"{name}: {exc}") from None
    return Document(name, text, "messages", tuple(segs), kind, newline, bom, crlf, messages, tools, tool_pos,
                    line_starts=starts)


def _suppressions(text: str, starts: tuple[int, ...]) -> Suppressions:
    """Parse ``{# promptslim: ignore[PS102] #}`` comments: alone on a line they cover the next line,
    after other text they cover their own line; ``ignore-file`` covers the file; no codes means all."""
    from .findings import line_col
    from .rules import resolve_codes

    file_codes: set[str] = set()
    file_all = False
    lines: dict[int, frozenset[str] | None] = {}
    for m in _SUPPRESS.finditer(text):
        codes = frozenset(resolve_codes(m.group(2).split(","), "promptslim: ignore")) if m.group(2) else None
        if m.group(1) == "ignore-file":
            if codes is None:
                file_all = True
            else:
                file_codes |= codes
            continue
        line, _ = line_col(starts, m.start())
        line_start = starts[line - 1]
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        alone = not text[line_start:m.start()].strip() and not text[m.end():line_end].strip()
        target = line + 1 if alone else line
        prev = lines.get(target, frozenset())
        lines[target] = None if (codes is None or prev is None) else prev | codes
    return Suppressions(frozenset(file_codes), file_all, lines)
