"""Lint configuration: ``[tool.promptslim]`` in ``pyproject.toml`` or a ``promptslim.toml``; flags override.

The nearest config above the linted paths (or ``--config``) is used. Keys are kebab-case (snake_case
is accepted too) and may sit at the top of the table or in its ``lint`` sub-table, which wins::

    [tool.promptslim]
    model = "gpt-4o-mini"
    budgets = {"prompts/*.prompt" = 2000, "*" = 6000}   # first matching glob wins
    exclude = ["prompts/vendor/"]

    [tool.promptslim.lint]
    select = ["PS1", "PS2"]
    ignore = ["PS303"]
    per-file-ignores = {"prompts/legacy/*" = ["PS104"]}

    [tool.promptslim.lint.options.PS402]
    max_usd_per_1k_calls = 5.0

Globs and exclude patterns are relative to the config file's folder (gitignore syntax for exclude).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .._toml import TOMLDecodeError, load_package_toml, loads
from ..errors import InputError
from .rules import Rule, all_rules, resolve_codes, select_rules

__all__ = ["LintConfig", "find_config", "load_config", "with_overrides", "DEFAULT_MODEL"]

DEFAULT_MODEL: str = load_package_toml("data/lint.toml")["default_model"]

_LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude")
_KNOWN = set(_LIST_KEYS) | {"per-file-ignores", "model", "budgets", "options", "respect-gitignore"}


@dataclass(frozen=True)
class LintConfig:
    """Effective lint settings; ``root`` is the folder relative paths and globs are resolved against."""

    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    model: str = DEFAULT_MODEL
    budgets: tuple[tuple[str, int], ...] = ()
    exclude: tuple[str, ...] = ()
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    respect_gitignore: bool = True

    def rules(self) -> tuple[Rule, ...]:
        """The rules enabled by select / extend-select / ignore."""
        return self._rules

    @cached_property
    def _rules(self) -> tuple[Rule, ...]:
        return select_rules(self.select, self.ignore, self.extend_select)

    def relpath(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to ``root`` in POSIX form (absolute-ish if outside it)."""
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def ignored_codes(self, path: str | os.PathLike[str]) -> set[str]:
        """Codes switched off for ``path`` by ``per-file-ignores``."""
        if not self.per_file_ignores:
            return set()
        rel = self.relpath(path)
        out: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if _glob_match(rel, pattern):
                out |= resolve_codes(codes, f"per-file-ignores[{pattern!r}]")
        return out

    def budget_for(self, path: str | os.PathLike[str], default: int) -> int:
        """Token budget of ``path``: the first matching ``budgets`` glob, else ``default``."""
        if not self.budgets:
            return default
        rel = self.relpath(path)
        for pattern, limit in self.budgets:
            if _glob_match(rel, pattern):
                return limit
        return default

    def option(self, rule: Rule, key: str) -> Any:
        """A rule option: the configured override, else the rule record's default."""
        return self.options.get(rule.code, {}).get(key, rule.options.get(key))


def _glob_match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    if "/" not in pattern:  # a bare name matches in any folder, like .gitignore
        return fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
    return rel.startswith(pattern + "/")


def find_config(start: str | os.PathLike[str]) -> Path | None:
    """The nearest ``promptslim.toml``, or ``pyproject.toml`` with a ``[tool.promptslim]`` table, at or above ``start``."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        own = folder / "promptslim.toml"
        if own.is_file():
            return own
        py = folder / "pyproject.toml"
        if py.is_file():
            try:
                text = py.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "[tool.promptslim" in text:
                return py
    return None


def _table(path: Path) -> dict[str, Any]:
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read config ({exc})") from None
    except TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("promptslim", {})
    table = {k.replace("_", "-"): v for k, v in data.items() if k != "lint"}
    lint = data.get("lint", {})
    if not isinstance(lint, dict):
        raise InputError(f"{path}: 'lint' must be a table")
    for key, value in lint.items():
        norm = key.replace("_", "-")
        if norm not in _KNOWN:
            close = difflib.get_close_matches(norm, sorted(_KNOWN), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{path}: unknown lint setting {key!r}{hint}")
        table[norm] = value
    return {k: v for k, v in table.items() if k in _KNOWN}


def _str_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: '{key}' must be a list of strings")
    return tuple(value)


def load_config(path: str | os.PathLike[str] | None) -> LintConfig:
    """Settings from a config file (``None``: defaults rooted at the current folder); validates every key."""
    if path is None:
        return LintConfig()
    p = Path(os.path.abspath(path))
    t = _table(p)
    kw: dict[str, Any] = {"root": p.parent, "source": p}
    for key in _LIST_KEYS:
        if key in t:
            kw[key.replace("-", "_")] = _str_list(p, key, t[key])
    if "extend_exclude" in kw:
        kw["exclude"] = kw.get("exclude", ()) + kw.pop("extend_exclude")
    if "per-file-ignores" in t:
        pfi = t["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise InputError(f"{p}: 'per-file-ignores' must be a table of glob = [codes]")
        kw["per_file_ignores"] = tuple((g, _str_list(p, f"per-file-ignores.{g}", c)) for g, c in pfi.items())
    if "model" in t:
        if not isinstance(t["model"], str) or not t["model"]:
            raise InputError(f"{p}: 'model' must be a model name such as \"gpt-4o\"")
        kw["model"] = t["model"]
    if "budgets" in t:
        kw["budgets"] = _budgets(p, t["budgets"])
    if "respect-gitignore" in t:
        kw["respect_gitignore"] = bool(t["respect-gitignore"])
    if "options" in t:
        kw["options"] = _options(p, t["options"])
    cfg = LintConfig(**kw)
    try:  # validate codes now, naming the file
        cfg.rules()
        for glob, codes in cfg.per_file_ignores:
            resolve_codes(codes, f"per-file-ignores[{glob!r}]")
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None
    return cfg


def _budgets(path: Path, value: Any) -> tuple[tuple[str, int], ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"*": value}
    if not isinstance(value, dict):
        raise InputError(f"{path}: 'budgets' must be a token count or a table of glob = tokens")
    out = []
    for glob, limit in value.items():
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise InputError(f"{path}: budget for {glob!r} must be a whole number of tokens >= 0, got {limit!r}")
        out.append((glob, limit))
    return tuple(out)


def _options(path: Path, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise InputError(f"{path}: 'options' must be a table of rule code = {{option = value}}")
    known = {r.code: r for r in all_rules()}
    out: dict[str, dict[str, Any]] = {}
    for code, opts in value.items():
        rule = known.get(code.upper())
        if rule is None:
            raise InputError(f"{path}: options for unknown rule {code!r}")
        if not isinstance(opts, dict):
            raise InputError(f"{path}: options.{code} must be a table")
        for k, v in opts.items():
            if k not in rule.options:
                raise InputError(f"{path}: {rule.code} has no option {k!r} (options: {', '.join(rule.options)})")
            default = rule.options[k]
            if isinstance(default, (int, float)) and not isinstance(default, bool) and (
                    not isinstance(v, (int, float)) or isinstance(v, bool)):
                raise InputError(f"{path}: {rule.code}.{k} must be a number, got {v!r}")
        out[rule.code] = dict(opts)
    return out


def with_overrides(cfg: LintConfig, *, select: Sequence[str] | None = None, extend_select: Sequence[str] = (),
                   ignore: Sequence[str] = (), model: str | None = None,
                   exclude: Sequence[str] = ()) -> LintConfig:
    """``cfg`` with command-line flags applied. ``select`` replaces the configured rule selection
    (select, extend-select and ignore), so a code named on the command line runs; ``ignore``,
    ``extend_select`` and ``exclude`` add to what is configured."""
    changes: dict[str, Any] = {}
    if select is not None:
        changes["select"] = tuple(select)
        changes["extend_select"] = tuple(extend_select)
        changes["ignore"] = tuple(ignore)
    else:
        if extend_select:
            changes["extend_select"] = cfg.extend_select + tuple(extend_select)
        if ignore:
            changes["ignore"] = cfg.ignore + tuple(ignore)
    if model:
        changes["model"] = model
    if exclude:
        changes["exclude"] = cfg.exclude + tuple(exclude)
    out = replace(cfg, **changes)
    out.rules()
    return out
