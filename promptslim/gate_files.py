"""Prompt files for the token gate: which files count, how they are read, and their token records.

Text prompts (``.txt .md .prompt .j2 .jinja .jinja2``) count as their whole text; message files
(``.json .yaml .yml`` holding ``{"messages": [...]}`` or a bare list of ``{"role": ...}`` dicts) count as
a chat request, with per-message figures, so a review shows *which* message grew. The same rules
apply to files on disk and to blobs read from a git revision, so both sides of a check agree.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from ._io import DEFAULT_MAX_BYTES, is_binary
from ._toml import load_package_toml
from .errors import InputError, ParseError
from .tokens import Tokenizer

__all__ = [
    "MessageRecord",
    "FileRecord",
    "Source",
    "GATE",
    "is_prompt_name",
    "walk_prompt_files",
    "is_skipped_dir",
    "decode_blob",
    "parse_messages",
    "measure_sources",
    "cost_per_call",
    "costs_per_call",
]

GATE: dict[str, Any] = load_package_toml("data/gate.toml")
_KINDS: dict[str, str] = load_package_toml("data/prompt_files.toml")["suffixes"]
_TEXT = frozenset(s for s, kind in _KINDS.items() if kind in ("text", "jinja"))
_MESSAGE = frozenset(s for s, kind in _KINDS.items() if kind in ("json", "yaml"))
_SKIP = frozenset(GATE["files"]["skip_dirs"])
_QUANTUM = Decimal("1e-10")
_MTOK = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """Tokens of one message of a message file (including its per-message overhead)."""

    index: int
    role: str
    tokens: int


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One prompt file in a baseline: tokens per call, content hash (for rename detection), cost."""

    path: str
    tokens: int
    sha256: str
    kind: str = "text"
    cost_per_call_usd: float = 0.0
    messages: tuple[MessageRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored under this file's path in a baseline."""
        out: dict[str, Any] = {"tokens": self.tokens, "sha256": self.sha256, "kind": self.kind,
                               "cost_per_call_usd": self.cost_per_call_usd}
        if self.kind == "messages":
            out["messages"] = [{"index": m.index, "role": m.role, "tokens": m.tokens} for m in self.messages]
        return out

    @classmethod
    def from_json(cls, path: str, obj: Mapping[str, Any]) -> FileRecord:
        """Inverse of :meth:`to_json` (the object is assumed schema-valid)."""
        msgs = tuple(MessageRecord(int(m["index"]), str(m["role"]), int(m["tokens"]))
                     for m in obj.get("messages", ()))
        return cls(path, int(obj["tokens"]), str(obj["sha256"]), str(obj["kind"]),
                   float(obj.get("cost_per_call_usd", 0.0)), msgs)


@dataclass(frozen=True, slots=True)
class Source:
    """A candidate prompt file's bytes: ``key`` is its baseline path, ``where`` names it in errors."""

    key: str
    where: str
    data: bytes
    explicit: bool = False


def is_prompt_name(name: str) -> bool:
    """True if a file met in a directory walk is a candidate by its suffix (message files still need
    to parse as messages)."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix in _TEXT or suffix in _MESSAGE


def is_skipped_dir(name: str) -> bool:
    """True for folders a walk never enters: hidden ones and dependency or build output."""
    return name.startswith(".") or name in _SKIP


def walk_prompt_files(paths: Iterable[str | os.PathLike[str]], *, missing_ok: bool = False
                      ) -> list[tuple[Path, bool]]:
    """Files under ``paths`` in sorted order, each with ``explicit`` (named directly, not walked).

    A directory walk skips hidden and build/dependency folders and keeps prompt suffixes only; a file
    named directly is always kept. A path that does not exist is an error unless ``missing_ok``.
    """
    found: dict[Path, bool] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            found[p] = True
        elif p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not is_skipped_dir(d))
                for fname in sorted(filenames):
                    if is_prompt_name(fname):
                        found.setdefault(Path(dirpath) / fname, False)
        elif not missing_ok:
            raise InputError(f"{p}: no such file or directory (check the paths given to promptslim)")
    return sorted(found.items(), key=lambda kv: kv[0].as_posix())


def decode_blob(data: bytes, where: str) -> str | None:
    """UTF-8 text of a file's bytes (BOM dropped); None for binary data; InputError for bad UTF-8."""
    if is_binary(data):
        return None
    if len(data) > DEFAULT_MAX_BYTES:
        raise InputError(f"{where}: {len(data):,} bytes is over the {DEFAULT_MAX_BYTES:,}-byte limit")
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if bom else 0)
        raise InputError(f"{where}: invalid UTF-8 at byte offset {offset} ({exc.reason}); "
                         "re-save the file as UTF-8") from None


def _load_structured(text: str, suffix: str, where: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ParseError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}", line=line) from None


def parse_messages(text: str, name: str, where: str, explicit: bool) -> list[Mapping[str, Any]] | None:
    """The chat messages in a message file, or None when the file is to be counted as plain text.

    Structured files that do not hold messages are plain text when named explicitly and ignored in
    walks (the caller drops them); a ``messages`` key that is not a list of role dicts is an error.
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in _MESSAGE:
        return None
    try:
        obj = _load_structured(text, suffix, where)
    except ParseError:
        if explicit:
            raise
        return None
    if isinstance(obj, Mapping) and "messages" in obj:
        msgs = obj["messages"]
        if not isinstance(msgs, list):
            raise InputError(f"{where}: 'messages' is {type(msgs).__name__}, expected a list of messages")
        for i, m in enumerate(msgs):
            if not isinstance(m, Mapping) or not isinstance(m.get("role"), str):
                raise InputError(f"{where}: messages[{i}] is not a message (a dict with a string 'role')")
        return msgs
    if isinstance(obj, list) and obj and all(isinstance(m, Mapping) and isinstance(m.get("role"), str)
                                             for m in obj):
        return obj
    return None


def _sha256(text: str) -> str:
    """Content hash of (line-ending normalised) text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cost_per_call(tokens: int, model: str) -> float:
    """Estimated USD input cost of ``tokens`` for ``model``, rounded to 1e-10 so JSON stays stable."""
    from .pricing import estimate_cost

    return float(estimate_cost(tokens, 0, model).total.quantize(_QUANTUM))


def costs_per_call(token_counts: Sequence[int], model: str) -> list[float]:
    """:func:`cost_per_call` for many counts at once, equal to it figure for figure.

    Pricing each file separately costs about 0.07 ms a call, as much as half the tokenizing. Below a
    model's first price tier, cost is linear in tokens, so when the largest count costs exactly
    ``n x base rate``, no tier starts at or below it and every count is priced from the base rate.
    """
    from .pricing import estimate_cost, model_rates

    if not token_counts:
        return []
    top = max(token_counts)
    rate = model_rates(model).input
    if estimate_cost(top, 0, model).total != rate * top / _MTOK:
        return [cost_per_call(n, model) for n in token_counts]
    return [float((rate * n / _MTOK).quantize(_QUANTUM)) for n in token_counts]


def measure_sources(sources: Sequence[Source], tokenizer: Tokenizer, model: str,
                    reuse: Mapping[str, FileRecord] | None = None) -> tuple[dict[str, FileRecord], list[str]]:
    """Token records for ``sources`` plus notes on files skipped (binary, or structured non-messages).

    Text files are tokenized with `count_many`; message files message by message
    through :meth:`Tokenizer.count_messages`, the request total being their sum plus reply priming.
    ``reuse`` holds records counted *in this run with the same tokenizer and model*: a source whose
    key and content hash match one is not counted again (counting is deterministic).
    """
    reuse = reuse or {}
    kept: dict[str, FileRecord] = {}
    notes: list[str] = []
    texts: list[tuple[Source, str]] = []
    chats: list[tuple[Source, str, tuple[MessageRecord, ...]]] = []
    priming = tokenizer.count_messages([])
    for src in sources:
        text = decode_blob(src.data, src.where)
        if text is None:
            notes.append(f"{src.where}: binary file, skipped")
            continue
        text = text.replace("\r\n", "\n")  # a CRLF checkout counts like the LF text Python's open() reads
        known = reuse.get(src.key)
        if known is not None and known.sha256 == _sha256(text):
            kept[src.key] = known
            continue
        msgs = parse_messages(text, src.key, src.where, src.explicit)
        if msgs is None:
            if PurePosixPath(src.key).suffix.lower() in _MESSAGE and not src.explicit:
                continue  # a config or workflow file met in a walk: not a prompt
            texts.append((src, text))
            continue
        per = tuple(MessageRecord(i, str(m["role"]), tokenizer.count_messages([m], reply_priming=False))
                    for i, m in enumerate(msgs))
        chats.append((src, text, per))
    counts = tokenizer.count_many([t for _, t in texts]) if texts else []
    items: list[tuple[Source, str, int, str, tuple[MessageRecord, ...]]]
    items = [(src, text, n, "text", ()) for (src, text), n in zip(texts, counts, strict=True)]
    items += [(src, text, sum(m.tokens for m in per) + priming, "messages", per) for src, text, per in chats]
    costs = costs_per_call([n for _, _, n, _, _ in items], model)
    records = {src.key: FileRecord(src.key, n, _sha256(text), kind, cost, per)
               for (src, text, n, kind, per), cost in zip(items, costs, strict=True)}
    records.update(kept)
    return dict(sorted(records.items())), notes
