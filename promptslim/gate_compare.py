"""Compare current prompt token counts with a baseline: regressions, improvements, renames, budgets.

A file *regresses* only when it grows past both thresholds: by more than ``max_increase_pct`` percent
and by at least ``min_increase_tokens`` tokens, so a two-token edit to a tiny prompt never fails CI.
New files pass unless they exceed their budget. Renames are paired by content hash, then by git's
rename detection when the caller supplies it, and compared like any edited file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InputError
from .gate_baseline import Baseline, check_tokenizer
from .gate_files import GATE, FileRecord, cost_per_call

__all__ = [
    "REGRESSED",
    "OVER_BUDGET",
    "GREW",
    "IMPROVED",
    "UNCHANGED",
    "NEW",
    "DELETED",
    "Thresholds",
    "MessageDelta",
    "FileDelta",
    "CheckReport",
    "check_against_baseline",
    "pair_renames",
    "ratchet_baseline",
]

REGRESSED, OVER_BUDGET, GREW, IMPROVED = "regressed", "over-budget", "grew", "improved"
UNCHANGED, NEW, DELETED = "unchanged", "new", "deleted"
FAILING = frozenset({REGRESSED, OVER_BUDGET})
_DEFAULTS = GATE["defaults"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a change fails the gate. ``budgets`` maps glob patterns (first match wins) to token
    budgets for new files; ``budget`` is the budget of new files no pattern matches (None: no limit)."""

    max_increase_pct: float = float(_DEFAULTS["max_increase_pct"])
    min_increase_tokens: int = int(_DEFAULTS["min_increase_tokens"])
    budget: int | None = None
    budgets: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.max_increase_pct >= 0:
            raise InputError(f"max increase must be a percentage >= 0, got {self.max_increase_pct}")
        if self.min_increase_tokens < 0:
            raise InputError(f"min increase tokens must be >= 0, got {self.min_increase_tokens}")
        for name, value in (("budget", self.budget), *self.budgets):
            if value is not None and value < 0:
                raise InputError(f"budget for {name!r} must be >= 0 tokens, got {value}")

    def budget_for(self, path: str) -> int | None:
        """The token budget of a new file at ``path``."""
        for pattern, limit in self.budgets:
            if fnmatch.fnmatchcase(path, pattern):
                return limit
        return self.budget

    def regressed(self, before: int, after: int) -> bool:
        """True when growing from ``before`` to ``after`` tokens is past both thresholds."""
        delta = after - before
        if delta <= 0 or delta < self.min_increase_tokens:
            return False
        return before == 0 or delta * 100 > self.max_increase_pct * before


@dataclass(frozen=True, slots=True)
class MessageDelta:
    """A message of a message file whose token count changed (None: absent on that side)."""

    index: int
    role: str
    before: int | None
    after: int | None


@dataclass(frozen=True, slots=True)
class FileDelta:
    """One file's outcome. ``path`` is the current path (the old one for deletions)."""

    path: str
    status: str
    before: int | None
    after: int | None
    renamed_from: str | None = None
    budget: int | None = None
    cost_before: float | None = None
    cost_after: float | None = None
    messages: tuple[MessageDelta, ...] = ()

    @property
    def delta(self) -> int:
        """Tokens gained (negative when the file shrank); deletions count as losing all tokens."""
        return (self.after or 0) - (self.before or 0)

    @property
    def pct(self) -> float | None:
        """Relative change in percent, None when there is no baseline count (new files, or 0 before)."""
        if not self.before or self.after is None:
            return None
        return 100.0 * self.delta / self.before

    @property
    def failed(self) -> bool:
        """True for regressions and new files over budget."""
        return self.status in FAILING

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for ``--format json``."""
        out: dict[str, Any] = {"path": self.path, "status": self.status, "before": self.before,
                               "after": self.after, "delta": self.delta, "pct": self.pct,
                               "cost_before_usd": self.cost_before, "cost_after_usd": self.cost_after}
        if self.renamed_from:
            out["renamed_from"] = self.renamed_from
        if self.budget is not None:
            out["budget"] = self.budget
        if self.messages:
            out["messages"] = [{"index": m.index, "role": m.role, "before": m.before, "after": m.after}
                               for m in self.messages]
        return out


@dataclass(frozen=True)
class CheckReport:
    """Every file's outcome, sorted by path, with the settings that judged them."""

    deltas: tuple[FileDelta, ...]
    thresholds: Thresholds
    tokenizer: Mapping[str, str]
    model: str
    baseline_model: str
    notes: tuple[str, ...] = field(default=())

    def by_status(self, status: str) -> tuple[FileDelta, ...]:
        """The outcomes with one status."""
        return tuple(d for d in self.deltas if d.status == status)

    @property
    def failures(self) -> tuple[FileDelta, ...]:
        """Regressions and over-budget new files."""
        return tuple(d for d in self.deltas if d.failed)

    @property
    def renames(self) -> tuple[FileDelta, ...]:
        """Files found under a new path."""
        return tuple(d for d in self.deltas if d.renamed_from)

    @property
    def exit_code(self) -> int:
        """1 when anything failed, else 0."""
        return 1 if self.failures else 0

    @property
    def tokens_before(self) -> int:
        return sum(d.before or 0 for d in self.deltas)

    @property
    def tokens_after(self) -> int:
        return sum(d.after or 0 for d in self.deltas)

    @property
    def cost_before(self) -> float:
        return round(sum(d.cost_before or 0.0 for d in self.deltas), 10)

    @property
    def cost_after(self) -> float:
        return round(sum(d.cost_after or 0.0 for d in self.deltas), 10)

    def counts(self) -> dict[str, int]:
        """How many files have each status (statuses with none are left out), plus ``renamed``."""
        out: dict[str, int] = {}
        for d in self.deltas:
            out[d.status] = out.get(d.status, 0) + 1
        if self.renames:
            out["renamed"] = len(self.renames)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for ``--format json``: settings, totals and every file."""
        t = self.thresholds
        return {
            "exit_code": self.exit_code,
            "tokenizer": dict(self.tokenizer),
            "model": self.model,
            "baseline_model": self.baseline_model,
            "thresholds": {"max_increase_pct": t.max_increase_pct, "min_increase_tokens": t.min_increase_tokens,
                           "budget": t.budget, "budgets": dict(t.budgets)},
            "totals": {"tokens_before": self.tokens_before, "tokens_after": self.tokens_after,
                       "cost_per_call_before_usd": self.cost_before, "cost_per_call_after_usd": self.cost_after},
            "counts": self.counts(),
            "files": [d.to_json() for d in self.deltas],
            "notes": list(self.notes),
        }


def pair_renames(baseline: Baseline, current: Baseline, git_renames: Mapping[str, str] | None = None
                 ) -> dict[str, str]:
    """``{new path: old path}`` for files that vanished from the baseline and appeared under a new
    path: identical content first (sha256), then pairs git's rename detection found."""
    gone = sorted(set(baseline.files) - set(current.files))
    added = sorted(set(current.files) - set(baseline.files))
    by_hash: dict[str, list[str]] = {}
    for old in gone:
        by_hash.setdefault(baseline.files[old].sha256, []).append(old)
    pairs: dict[str, str] = {}
    for new in added:
        olds = by_hash.get(current.files[new].sha256)
        if olds:
            pairs[new] = olds.pop(0)
    used = set(pairs.values())
    for old, new in sorted((git_renames or {}).items()):
        if old in baseline.files and old not in current.files and old not in used \
                and new in current.files and new not in baseline.files and new not in pairs:
            pairs[new] = old
            used.add(old)
    return pairs


def _message_deltas(old: FileRecord, new: FileRecord) -> tuple[MessageDelta, ...]:
    if old.kind != "messages" or new.kind != "messages":
        return ()
    out = []
    for i in range(max(len(old.messages), len(new.messages))):
        a = old.messages[i] if i < len(old.messages) else None
        b = new.messages[i] if i < len(new.messages) else None
        before, after = (a.tokens if a else None), (b.tokens if b else None)
        if before != after:
            role = b.role if b is not None else (a.role if a is not None else "")
            out.append(MessageDelta(i, role, before, after))
    return tuple(out)


def _compare(path: str, old: FileRecord, new: FileRecord, t: Thresholds, renamed_from: str | None) -> FileDelta:
    if new.tokens < old.tokens:
        status = IMPROVED
    elif new.tokens == old.tokens:
        status = UNCHANGED
    else:
        status = REGRESSED if t.regressed(old.tokens, new.tokens) else GREW
    return FileDelta(path, status, old.tokens, new.tokens, renamed_from, None, old.cost_per_call_usd,
                     new.cost_per_call_usd, _message_deltas(old, new))


def check_against_baseline(
    baseline: Baseline,
    current: Baseline,
    thresholds: Thresholds | None = None,
    *,
    git_renames: Mapping[str, str] | None = None,
    ignore_tiktoken_version: bool = False,
    where: str = "baseline",
    rebaseline: str = "",
) -> CheckReport:
    """Judge ``current`` against ``baseline``; raises TokenizerMismatchError if they are not comparable.

    ``git_renames`` maps old to new paths (keys as in the baselines) from ``git diff -M``.
    """
    t = thresholds or Thresholds()
    check_tokenizer(baseline, current.tokenizer, where=where, rebaseline=rebaseline,
                    ignore_tiktoken_version=ignore_tiktoken_version)
    renames = pair_renames(baseline, current, git_renames)
    moved = set(renames.values())
    deltas: list[FileDelta] = []
    for path, new in current.files.items():
        if path in baseline.files:
            deltas.append(_compare(path, baseline.files[path], new, t, None))
        elif path in renames:
            deltas.append(_compare(path, baseline.files[renames[path]], new, t, renames[path]))
        else:
            budget = t.budget_for(path)
            status = OVER_BUDGET if budget is not None and new.tokens > budget else NEW
            deltas.append(FileDelta(path, status, None, new.tokens, None, budget, None, new.cost_per_call_usd))
    for path, old in baseline.files.items():
        if path not in current.files and path not in moved:
            deltas.append(FileDelta(path, DELETED, old.tokens, None, None, None, old.cost_per_call_usd, None))
    deltas.sort(key=lambda d: d.path)
    return CheckReport(tuple(deltas), t, dict(current.tokenizer), current.model, baseline.model,
                       tuple(current.notes))


def ratchet_baseline(baseline: Baseline, current: Baseline, report: CheckReport) -> Baseline:
    """The baseline ``--update`` writes: improvements, renames, deletions and new files within budget
    are locked in; files that grew keep their old count, so growth never ratchets up unnoticed
    (accept growth on purpose by re-running ``promptslim baseline``). Entries the report does not
    mention (outside the checked paths) are kept as they were."""
    mentioned = {d.path for d in report.deltas} | {d.renamed_from for d in report.deltas if d.renamed_from}

    def kept(rec: FileRecord, path: str) -> FileRecord:
        cost = rec.cost_per_call_usd if baseline.model == current.model else \
            cost_per_call(rec.tokens, current.model)
        return replace(rec, path=path, cost_per_call_usd=cost)

    files = {k: kept(v, k) for k, v in baseline.files.items() if k not in mentioned}
    for d in report.deltas:
        if d.status in (IMPROVED, UNCHANGED, NEW):
            files[d.path] = current.files[d.path]
        elif d.status in (GREW, REGRESSED):
            files[d.path] = kept(baseline.files[d.renamed_from or d.path], d.path)
    return Baseline(dict(current.tokenizer), current.model, dict(sorted(files.items())))
