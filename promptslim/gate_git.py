"""Git side of the token gate: prompt files as they were at a revision, and git's rename detection.

``--base-ref origin/main`` gates a pull request without a committed baseline: the files at that
revision are listed with ``git ls-tree`` and read in one ``git cat-file --batch`` process (the
plumbing behind ``git show REV:PATH``, one process instead of one per file), then counted with the
same rules as the working tree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from .errors import PromptslimError
from .gate_baseline import key_for
from .gate_files import Source, is_prompt_name, is_skipped_dir

__all__ = ["GitError", "git_toplevel", "resolve_ref", "sources_at_ref", "git_renames", "last_commit_of"]


class GitError(PromptslimError, RuntimeError):
    """git is missing, the folder is not a repository, or a revision cannot be resolved."""


def _git(args: Sequence[str], cwd: str | os.PathLike[str], stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH (needed for --base-ref)") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {' '.join(args[:2])} failed in {cwd}: {msg[-1] if msg else proc.returncode}")
    return proc.stdout


def git_toplevel(cwd: str | os.PathLike[str] = ".") -> Path:
    """The work tree root of the repository containing ``cwd``."""
    try:
        out = _git(["rev-parse", "--show-toplevel"], cwd)
    except GitError:
        raise GitError(f"{os.path.abspath(cwd)} is not inside a git repository (--base-ref needs one)") from None
    return Path(os.fsdecode(out.strip()))


def resolve_ref(ref: str, cwd: str | os.PathLike[str] = ".") -> str:
    """The commit id of ``ref``; a clear error when it is unknown (often a shallow CI checkout)."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd).decode().strip()
    except GitError:
        raise GitError(f"unknown git revision {ref!r}: fetch it first (`git fetch origin`; with "
                       "actions/checkout set fetch-depth: 0)") from None


def _spec(path: str | os.PathLike[str], top: Path) -> str:
    rel = os.path.relpath(os.path.abspath(path), top).replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        raise GitError(f"{path} is outside the git repository at {top}")
    return "" if rel == "." else rel


def _select(names: Iterable[str], specs: Sequence[str]) -> list[tuple[str, bool]]:
    """Repository paths matching ``specs`` with the working-tree walk's rules, and ``explicit``."""
    chosen: dict[str, bool] = {}
    names = list(names)
    exact = set(names)
    for spec in specs:
        if spec and spec in exact:
            chosen[spec] = True
            continue
        prefix = f"{spec}/" if spec else ""
        for name in names:
            if not name.startswith(prefix):
                continue
            inner = PurePosixPath(name[len(prefix):])
            if any(is_skipped_dir(part) for part in inner.parts[:-1]) or not is_prompt_name(inner.name):
                continue
            chosen.setdefault(name, False)
    return sorted(chosen.items())


def sources_at_ref(ref: str, paths: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str],
                   cwd: str | os.PathLike[str] = ".") -> list[Source]:
    """The prompt files under ``paths`` as they are at ``ref``, keyed relative to ``root``."""
    top = git_toplevel(cwd)
    commit = resolve_ref(ref, cwd)
    specs = [_spec(Path(cwd) / p, top) for p in paths]
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit], top)
    blobs: dict[str, str] = {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # symlinks are skipped
            blobs[os.fsdecode(raw_name)] = sha.decode()
    chosen = _select(blobs, specs)
    if not chosen:
        return []
    batch = _git(["cat-file", "--batch"], top, "".join(f"{blobs[n]}\n" for n, _ in chosen).encode())
    sources = []
    pos = 0
    for name, explicit in chosen:
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        data = batch[header_end + 1: header_end + 1 + size]
        pos = header_end + 1 + size + 1
        sources.append(Source(key_for(top / name, root), f"{ref}:{name}", data, explicit))
    return sources


def last_commit_of(path: str | os.PathLike[str]) -> str | None:
    """The last commit that changed ``path`` (the commit a committed baseline describes), or None."""
    p = Path(path)
    try:
        out = _git(["log", "-1", "--format=%H", "--", p.name], p.parent if str(p.parent) else ".")
    except GitError:
        return None
    return out.decode().strip() or None


def git_renames(base: str, paths: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str],
                cwd: str | os.PathLike[str] = ".") -> dict[str, str]:
    """``{old key: new key}`` for files git sees as renamed between ``base`` and the working tree.

    Catches renames with edits (git's similarity index), which content hashes cannot. Files not yet
    known to git are invisible to it; empty when git is unavailable.
    """
    try:
        top = git_toplevel(cwd)
        out = _git(["diff", "-M", "--name-status", "-z", base, "--", *[str(p) for p in paths]], cwd)
    except GitError:
        return {}
    parts = out.split(b"\0")
    renames: dict[str, str] = {}
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i].decode()
        if status.startswith(("R", "C")):
            old, new = os.fsdecode(parts[i + 1]), os.fsdecode(parts[i + 2])
            if status.startswith("R"):
                renames[key_for(top / old, root)] = key_for(top / new, root)
            i += 3
        else:
            i += 2
    return renames
