"""Token baselines: build one from prompt files, write it as stable JSON, load and validate it back.

A baseline is what a CI gate compares against, so it must be reviewable: keys sorted, two-space
indent, one file per key, no timestamps, the same bytes for the same inputs. Loading is strict: a
truncated, hand-broken or conflict-marked file is a :class:`BaselineError` that says how to rebuild
it, never a silent pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from ._io import atomic_write_text
from .errors import InputError, PromptslimError
from .gate_files import GATE, FileRecord, Source, measure_sources, walk_prompt_files
from .tokens import Tokenizer, get_tokenizer

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Baseline",
    "BaselineError",
    "TokenizerMismatchError",
    "build_baseline",
    "baseline_from_sources",
    "dumps_baseline",
    "loads_baseline",
    "load_baseline",
    "write_baseline",
    "check_tokenizer",
    "key_for",
    "entry_is_valid",
]

FORMAT: str = GATE["format"]
FORMAT_VERSION: int = GATE["version"]


class BaselineError(PromptslimError, ValueError):
    """A baseline file is missing, truncated, corrupt or from an unsupported format version."""


class TokenizerMismatchError(PromptslimError, ValueError):
    """The baseline was counted with another tokenizer, so its numbers are not comparable."""


@dataclass(frozen=True)
class Baseline:
    """Token counts of a set of prompt files under one tokenizer and model; ``notes`` are not stored."""

    tokenizer: Mapping[str, str]
    model: str
    files: Mapping[str, FileRecord]
    version: int = FORMAT_VERSION
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def tokens(self) -> int:
        """Sum of all files' tokens."""
        return sum(r.tokens for r in self.files.values())

    @property
    def cost_per_call_usd(self) -> float:
        """Estimated cost of sending every file once (sum of per-file estimates)."""
        return float(sum((Decimal(repr(r.cost_per_call_usd)) for r in self.files.values()), Decimal(0)))

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this baseline (see :func:`dumps_baseline` for the bytes)."""
        return {
            "format": FORMAT,
            "version": self.version,
            "tokenizer": dict(self.tokenizer),
            "model": self.model,
            "totals": {"files": len(self.files), "tokens": self.tokens,
                       "cost_per_call_usd": self.cost_per_call_usd},
            "files": {k: self.files[k].to_json() for k in sorted(self.files)},
        }


def key_for(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """A file's baseline key: its path relative to ``root``, with forward slashes."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return rel.replace(os.sep, "/")


def baseline_from_sources(sources: Iterable[Source], tokenizer: Tokenizer, model: str,
                          reuse: Mapping[str, FileRecord] | None = None) -> Baseline:
    """A baseline from already-read file contents (working tree or a git revision); ``reuse`` as in
    :func:`~promptslim.gate_files.measure_sources`."""
    records, notes = measure_sources(list(sources), tokenizer, model, reuse)
    return Baseline(dict(tokenizer.identity), model, records, FORMAT_VERSION, tuple(notes))


def build_baseline(
    paths: Iterable[str | os.PathLike[str]],
    *,
    model: str | None = None,
    root: str | os.PathLike[str] | None = None,
    tokenizer: Tokenizer | None = None,
    missing_ok: bool = False,
) -> Baseline:
    """Count every prompt file under ``paths`` (keys relative to ``root``, default the current folder).

    >>> b = build_baseline(["promptslim/examples"])  # doctest: +SKIP
    >>> sorted(b.files)  # doctest: +SKIP
    ['promptslim/examples/support_agent.prompt']
    """
    model = model or GATE["default_model"]
    tok = tokenizer or get_tokenizer(model)
    base = Path(root) if root is not None else Path.cwd()
    sources = []
    for path, explicit in walk_prompt_files(paths, missing_ok=missing_ok):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        sources.append(Source(key_for(path, base), str(path), data, explicit))
    return baseline_from_sources(sources, tok, model)


def dumps_baseline(baseline: Baseline) -> str:
    """Stable, diff-friendly JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(baseline.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_baseline(baseline: Baseline, path: str | os.PathLike[str]) -> None:
    """Write ``baseline`` atomically (a crash never leaves a truncated lock file)."""
    atomic_write_text(path, dumps_baseline(baseline))


@cache
def _validator() -> Any:
    import jsonschema

    schema = GATE["baseline_schema"]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _nat(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def entry_is_valid(entry: Any) -> bool:
    """Fast test of one ``files`` entry; True only for entries the JSON Schema accepts.

    Validating 1,000 entries with jsonschema costs about a third of tokenizing them, so entries are
    checked here and jsonschema runs only when one fails, to produce its precise message.
    """
    if not isinstance(entry, dict) or not _nat(entry.get("tokens")) or entry.get("kind") not in ("text", "messages"):
        return False
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        return False
    cost = entry.get("cost_per_call_usd", 0)
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not cost >= 0:
        return False
    msgs = entry.get("messages", [])
    return isinstance(msgs, list) and all(
        isinstance(m, dict) and _nat(m.get("index")) and isinstance(m.get("role"), str) and _nat(m.get("tokens"))
        for m in msgs)


def _schema_errors(obj: Any) -> list[Any]:
    if isinstance(obj, dict) and isinstance(obj.get("files"), dict) and all(
            entry_is_valid(v) for v in obj["files"].values()):
        obj = {**obj, "files": {}}  # entries already checked: validate the frame only
    return sorted(_validator().iter_errors(obj), key=lambda e: list(e.absolute_path))


_REBUILD = "rebuild it with `promptslim baseline PATH... -o {name}` (or restore it from git)"


def loads_baseline(text: str, where: str = "baseline") -> Baseline:
    """Parse and validate baseline JSON; every defect is a :class:`BaselineError` naming ``where``."""
    rebuild = _REBUILD.format(name=where)
    if not text.strip():
        raise BaselineError(f"{where}: baseline file is empty; {rebuild}")
    if "\n<<<<<<< " in "\n" + text:
        raise BaselineError(f"{where}: baseline file contains git merge-conflict markers; {rebuild}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(text.rstrip()) or not text.rstrip().endswith("}")
        cut = " (the file ends before the JSON does: truncated?)" if ended else ""
        at = " " if exc.msg.endswith(" at") else " at "
        raise BaselineError(f"{where}: baseline is not valid JSON ({exc.msg}{at}line {exc.lineno} column "
                            f"{exc.colno}){cut}; {rebuild}") from None
    if isinstance(obj, dict) and obj.get("format") == FORMAT and isinstance(obj.get("version"), int) \
            and obj["version"] > FORMAT_VERSION:
        raise BaselineError(f"{where}: baseline format version {obj['version']} is newer than this promptslim "
                            f"supports ({FORMAT_VERSION}); upgrade promptslim or {rebuild}")
    errors = _schema_errors(obj)
    if errors:
        err = errors[0]
        at = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise BaselineError(f"{where}: not a valid promptslim baseline at {at}: {err.message}; {rebuild}")
    files = {str(k): FileRecord.from_json(str(k), v) for k, v in sorted(obj["files"].items())}
    for key, rec in files.items():
        if rec.kind == "messages" and not rec.messages and rec.tokens:
            raise BaselineError(f"{where}: file {key!r} is a message file without its messages; {rebuild}")
    base = Baseline(dict(obj["tokenizer"]), obj["model"], files, obj["version"])
    totals = obj["totals"]
    if totals["files"] != len(files) or totals["tokens"] != base.tokens:
        raise BaselineError(f"{where}: totals ({totals['files']} files, {totals['tokens']} tokens) do not match "
                            f"the entries ({len(files)} files, {base.tokens} tokens): edited by hand or merged "
                            f"badly; {rebuild}")
    return base


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read and validate a baseline file; missing, unreadable or corrupt files raise BaselineError."""
    p = Path(path)
    if not p.exists():
        raise BaselineError(f"{p}: no baseline file here; create one with `promptslim baseline PATH... -o {p}`")
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise BaselineError(f"{p}: cannot read the baseline ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{p}: baseline is not UTF-8 (byte {exc.start}): corrupt; "
                            + _REBUILD.format(name=p)) from None
    return loads_baseline(text, str(p))


def check_tokenizer(baseline: Baseline, tokenizer: Tokenizer | Mapping[str, str], *, where: str = "baseline",
                    rebaseline: str = "", ignore_tiktoken_version: bool = False) -> None:
    """Raise :class:`TokenizerMismatchError` unless ``baseline`` was counted with ``tokenizer``.

    Identity is encoding, scaling factor and tiktoken version (a new tiktoken may split differently);
    ``ignore_tiktoken_version`` relaxes only the last. ``tokenizer`` may be a Tokenizer or its identity.
    """
    ident: Mapping[str, str] = tokenizer.identity if isinstance(tokenizer, Tokenizer) else tokenizer
    want = dict(ident)
    have = dict(baseline.tokenizer)
    if ignore_tiktoken_version:
        want.pop("tiktoken", None)
        have.pop("tiktoken", None)
    if want == have:
        return

    def show(ident: Mapping[str, str]) -> str:
        extra = f" x{ident['factor']}" if "factor" in ident else ""
        return f"{ident.get('encoding', '?')}{extra} (tiktoken {ident.get('tiktoken', '?')})"

    how = rebaseline or f"promptslim baseline PATH... -o {where}"
    only_version = {k: v for k, v in want.items() if k != "tiktoken"} == \
                   {k: v for k, v in have.items() if k != "tiktoken"}
    hint = " (or pass --ignore-tiktoken-version to compare anyway)" if only_version else ""
    raise TokenizerMismatchError(
        f"{where}: baseline was counted with {show(baseline.tokenizer)} but this run uses "
        f"{show(ident)}, so the counts are not comparable; re-baseline with `{how}` "
        f"and commit the result{hint}")
