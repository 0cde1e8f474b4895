"""The lint rule registry: interprets the records in ``promptslim/rules/lint_rules.toml``.

Rules are data (code, name, summary, rationale, example, fix safety, options); this module turns
them into :class:`Rule` objects, resolves ``select``/``ignore`` codes and prefixes, and renders the
documentation that ``promptslim rule``, ``docs/rules.md`` and the SARIF rule list share.

>>> get_rule("PS101").name
'verbose-phrase'
>>> [r.code for r in select_rules(["PS2"], ["PS202"])]
['PS201', 'PS203']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from .._toml import load_package_toml
from ..errors import InputError

__all__ = [
    "Rule",
    "FIX_SAFETY",
    "all_rules",
    "get_rule",
    "resolve_codes",
    "select_rules",
    "rule_text",
    "rule_markdown",
    "rules_markdown",
]

FIX_SAFETY = ("safe", "unsafe", "none")
_SEVERITIES = ("warning", "info")
_CODE = re.compile(r"^PS\d{3}$")
RULES_FILE = "rules/lint_rules.toml"


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule as its record states it; ``options`` are the default thresholds."""

    code: str
    name: str
    summary: str
    category: str
    severity: str
    fix: str
    default: bool
    check: str
    rationale: str
    example: str = ""
    fixed: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fixable(self) -> bool:
        """True when the rule can offer a fix (safe or unsafe)."""
        return self.fix != "none"


def _rule_from_record(rec: Mapping[str, Any], index: int) -> Rule:
    where = f"{RULES_FILE} rule #{index + 1}"
    missing = [k for k in ("code", "name", "summary", "category", "severity", "fix", "default", "check",
                           "rationale") if k not in rec]
    if missing:
        raise InputError(f"{where}: missing field(s) {', '.join(missing)}")
    if not _CODE.match(rec["code"]):
        raise InputError(f"{where}: code {rec['code']!r} is not of the form PS###")
    if rec["fix"] not in FIX_SAFETY:
        raise InputError(f"{where} ({rec['code']}): fix must be one of {FIX_SAFETY}, got {rec['fix']!r}")
    if rec["severity"] not in _SEVERITIES:
        raise InputError(f"{where} ({rec['code']}): severity must be one of {_SEVERITIES}")
    return Rule(
        code=rec["code"], name=rec["name"], summary=rec["summary"], category=rec["category"],
        severity=rec["severity"], fix=rec["fix"], default=bool(rec["default"]), check=rec["check"],
        rationale=rec["rationale"].strip(), example=rec.get("example", "").strip("\n"),
        fixed=rec.get("fixed", "").strip("\n"), options=MappingProxyType(dict(rec.get("options", {}))),
    )


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule record, in file order; duplicate codes or names are an error in the data."""
    records = load_package_toml(RULES_FILE).get("rule", [])
    rules = tuple(_rule_from_record(rec, i) for i, rec in enumerate(records))
    seen: dict[str, str] = {}
    for r in rules:
        for key in (r.code, r.name):
            if key in seen:
                raise InputError(f"{RULES_FILE}: {key!r} is defined twice")
            seen[key] = r.code
    return rules


@cache
def _by_key() -> Mapping[str, Rule]:
    table: dict[str, Rule] = {}
    for r in all_rules():
        table[r.code] = r
        table[r.name] = r
    return table


def get_rule(code: str) -> Rule:
    """The rule with this code (``PS101``) or name (``verbose-phrase``); unknown ones raise with suggestions."""
    key = code.strip()
    rule = _by_key().get(key.upper() if key[:2].lower() == "ps" else key)
    if rule is None:
        close = difflib.get_close_matches(key.upper(), [r.code for r in all_rules()], n=3, cutoff=0.6)
        close += difflib.get_close_matches(key, [r.name for r in all_rules()], n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise InputError(f"unknown rule {code!r}.{hint} See `promptslim rule --all`.")
    return rule


def resolve_codes(selectors: Iterable[str], where: str = "select") -> set[str]:
    """Codes matched by selectors: full codes, prefixes (``PS1``), rule names, or ``ALL``."""
    codes: set[str] = set()
    known = [r.code for r in all_rules()]
    for raw in selectors:
        sel = raw.strip()
        if not sel:
            continue
        if sel.upper() == "ALL":
            codes.update(known)
            continue
        if sel[:2].upper() == "PS" and sel[2:].isdigit():
            hits = [c for c in known if c.startswith(sel.upper())]
            if not hits:
                raise InputError(f"{where}: {sel!r} matches no rule (known: {', '.join(known)})")
            codes.update(hits)
            continue
        codes.add(get_rule(sel).code)
    return codes


def select_rules(select: Sequence[str] | None = None, ignore: Sequence[str] = (),
                 extend_select: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The enabled rules: ``select`` (default: rules marked default) plus ``extend_select``, minus ``ignore``.

    ``ignore`` always wins over ``select``, whatever the order; the result is sorted by code.
    """
    chosen = resolve_codes(select, "select") if select is not None else {r.code for r in all_rules() if r.default}
    chosen |= resolve_codes(extend_select, "extend-select")
    chosen -= resolve_codes(ignore, "ignore")
    return tuple(sorted((r for r in all_rules() if r.code in chosen), key=lambda r: r.code))


def _fix_label(rule: Rule) -> str:
    return {"safe": "safe fix (applied by --fix)", "unsafe": "unsafe fix (applied by --fix --unsafe-fixes)",
            "none": "no automatic fix"}[rule.fix]


def rule_text(rule: Rule) -> str:
    """Plain-text documentation of one rule, for ``promptslim rule CODE``."""
    lines = [f"{rule.code} ({rule.name})", "", rule.summary, "",
             f"Category: {rule.category}. Severity: {rule.severity}. Fix: {_fix_label(rule)}. "
             f"Enabled by default: {'yes' if rule.default else 'no'}.", "", "Why", "", rule.rationale]
    if rule.example:
        lines += ["", "Example", "", _indent(rule.example)]
    if rule.fixed:
        lines += ["", "After the fix" if rule.fixable else "Better", "", _indent(rule.fixed)]
    opts = _public_options(rule)
    if opts:
        lines += ["", "Options (override in [tool.promptslim.lint.options." + rule.code + "])", ""]
        lines += [f"    {k} = {v!r}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join(("    " + ln) if ln else "" for ln in text.splitlines())


def _public_options(rule: Rule) -> dict[str, Any]:
    # Regex tables and the compressor pass name are implementation details, not knobs worth listing.
    return {k: v for k, v in rule.options.items()
            if k != "pass" and not isinstance(v, (list, dict)) and not k.startswith(("markers_", "heading", "tag"))}


def rule_markdown(rule: Rule) -> str:
    """Markdown section for one rule, as in ``docs/rules.md``."""
    out = [f"## {rule.code} {rule.name}", "", f"**{rule.summary}.**", "",
           f"Category: {rule.category} · severity: {rule.severity} · fix: {_fix_label(rule)} · "
           f"default: {'on' if rule.default else 'off'}", "", rule.rationale, ""]
    if rule.example:
        out += ["Example:", "", "```text", rule.example, "```", ""]
    if rule.fixed:
        out += ["After the fix:" if rule.fixable else "Better:", "", "```text", rule.fixed, "```", ""]
    opts = _public_options(rule)
    if opts:
        out += [f"Options (`[tool.promptslim.lint.options.{rule.code}]`): "
                + ", ".join(f"`{k} = {v!r}`" for k, v in opts.items()), ""]
    return "\n".join(out)


def rules_markdown(rules: Sequence[Rule] | None = None) -> str:
    """The whole rules page (``docs/rules.md``), generated from the records."""
    rules = all_rules() if rules is None else rules
    head = ["# promptslim lint rules", "",
            "<!-- Generated by `promptslim rule --all --format markdown` from promptslim/rules/lint_rules.toml."
            " Do not edit by hand. -->", "",
            "| Code | Name | Summary | Fix | Default |", "|---|---|---|---|---|"]
    head += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.summary} | {r.fix} | "
             f"{'on' if r.default else 'off'} |" for r in rules]
    return "\n".join(head) + "\n\n" + "\n".join(rule_markdown(r) for r in rules)
