"""Eval suites ``schema-bfcl`` and ``schema-schemastore``: compact output formats on real schemas.

``schema-bfcl`` builds output instances from the shared BFCL ground-truth answers: one call is a
record (``simple_*``, ``multiple``), several calls of one function an array of records
(``parallel``), calls of several functions an array of ``{name, arguments}`` unions
(``parallel_multiple``). ``schema-schemastore`` generates instances of the shared SchemaStore schemas
(``doc/...``: the whole document) and of the first array-of-objects inside each (``records/...``:
10 records), keeping only instances ``jsonschema`` accepts.

Methods ``delimited``, ``toon``, ``json-min`` and ``auto`` report tokens of the instance in that
format (``tokens_after``) against pretty JSON, indent=2 (``tokens_before``); metrics: ``roundtrip``
(type-exact, the target is 1.0), ``native`` (the format held the schema without falling back),
``beats_minified`` / ``beats_pretty`` (share of cases cheaper than that baseline). ``instructions``
reports the auto instructions against ``json.dumps(schema)``.

``python -m promptslim.eval.tasks.schemas [--limit N]`` prints savings per shape and format against
pretty and minified JSON, instruction sizes and round-trip exactness.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core import Case, MethodOutput, Suite, register_suite, require_file, shared_data_dir

__all__ = ["load_bfcl", "load_schemastore", "schema_report"]

BFCL_CATEGORIES = ("simple_python", "simple_java", "simple_javascript", "multiple", "parallel",
                   "parallel_multiple")
FORMATS = ("delimited", "toon", "json-min", "auto")


def _pick(options: Any) -> Any:
    """BFCL lists acceptable values per argument, canonical first; ``""`` means "may be omitted"."""
    if isinstance(options, list):
        if not options or options[0] == "":
            return _OMIT
        return _resolve(options[0])
    return _resolve(options)


def _resolve(value: Any) -> Any:
    if isinstance(value, dict):  # nested dicts list options per key too
        out = {k: _pick(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _OMIT}
    return value


_OMIT = object()


def _args(params: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments: first listed value each; arguments the function does not declare (a
    few BFCL answers list another function's optional argument) are left out."""
    required = set(params.get("required") or [])
    declared = params.get("properties") or {}
    out = {}
    for name, options in answer.items():
        if name not in declared:
            continue
        value = _pick(options)
        if value is _OMIT:
            if name in required:
                out[name] = ""
            continue
        out[name] = value
    return out


def _bfcl_case(category: str, entry: Mapping[str, Any], answer: Mapping[str, Any]) -> Case | None:
    funcs = {f["name"]: f for f in entry["function"]}
    calls = []
    for call in answer["ground_truth"]:
        (fname, args), = call.items()
        if fname not in funcs:
            return None
        calls.append((fname, _args(funcs[fname]["parameters"], args)))
    names = {n for n, _ in calls}
    instance: Any
    if len(calls) == 1:
        fname, args = calls[0]
        schema, instance, shape = funcs[fname]["parameters"], args, "record"
    elif len(names) == 1:
        params = funcs[calls[0][0]]["parameters"]
        schema = {"type": "array", "items": params}
        instance, shape = [a for _, a in calls], "records"
    else:
        variants = [{"type": "object", "properties": {"name": {"const": n}, "arguments": funcs[n]["parameters"]},
                     "required": ["name", "arguments"], "additionalProperties": False} for n in sorted(names)]
        schema = {"type": "array", "items": {"anyOf": variants}}
        instance, shape = [{"name": n, "arguments": a} for n, a in calls], "calls"
    return Case(f"{shape}/{entry['id']}", {"schema": schema, "instance": instance, "shape": shape,
                                           "category": category})


def _normalize(schema: Any) -> dict[str, Any] | None:
    """The schema as compact_schema sees it (type aliases fixed), or None if it is not valid."""
    from ...errors import InputError
    from ...schema_norm import load_schema

    try:
        return load_schema(schema)[0]
    except InputError:
        return None


def _valid(schema: Any, instance: Any) -> bool:
    """True when ``instance`` validates against the normalized ``schema`` (offline refs only)."""
    from jsonschema import validators
    from referencing.exceptions import Unresolvable

    norm = _normalize(schema)
    if norm is None:
        return False
    cls = validators.validator_for(norm, default=validators.Draft202012Validator)
    try:
        return bool(cls(norm).is_valid(instance))
    except (Unresolvable, RecursionError):
        return False


def load_bfcl(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """BFCL cases, round-robin over categories so a ``limit`` still mixes shapes; instances that do
    not validate against their (normalized) schema are skipped."""
    per_cat: list[list[Case]] = []
    for cat in BFCL_CATEGORIES:
        qpath = require_file(data_dir, f"schemas/bfcl/BFCL_v4_{cat}.json")
        apath = require_file(data_dir, f"schemas/bfcl/possible_answer/BFCL_v4_{cat}.json")
        with apath.open(encoding="utf-8") as fh:
            answers = {a["id"]: a for a in (json.loads(line) for line in fh if line.strip())}
        cases = []
        with qpath.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if entry["id"] not in answers:
                    continue
                case = _bfcl_case(cat, entry, answers[entry["id"]])
                if case is not None and _valid(case.data["schema"], case.data["instance"]):
                    cases.append(case)
        per_cat.append(cases)
    n = 0
    for i in range(max(len(c) for c in per_cat)):
        for cases in per_cat:
            if i < len(cases):
                if limit is not None and n >= limit:
                    return
                yield cases[i]
                n += 1


def _first_record_array(root: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first array-of-objects (two or more properties) in ``root``, as a schema that keeps the
    root's definitions so local ``$ref`` still resolve."""
    from ...schema_norm import deref, iter_subschemas

    stack: list[Any] = [root]
    seen = 0
    while stack and seen < 5000:
        node = stack.pop(0)
        seen += 1
        if not isinstance(node, Mapping):
            continue
        if node.get("type") == "array" and isinstance(node.get("items"), Mapping):
            items, _ = deref(root, node["items"])
            if isinstance(items, Mapping) and items.get("type") == "object" \
                    and len(items.get("properties") or {}) >= 2:
                out: dict[str, Any] = {k: v for k, v in root.items() if k in ("$schema", "definitions", "$defs")}
                out.update({"type": "array", "items": node["items"]})
                return out
        stack.extend(sub for _, sub in iter_subschemas(node))
    return None


def load_schemastore(data_dir: Path | None, limit: int | None = None) -> Iterator[Case]:
    """Per schema file (name order): a generated document, then 10 records of its first record
    array; each instance is the first of seeds 0-4 that validates."""
    from ...schema_gen import generate_instance

    folder = require_file(data_dir, "schemas/schemastore")
    n = 0
    for path in sorted(folder.glob("*.json")):
        try:
            root = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(root, dict):
            continue
        records = _first_record_array(root)
        for shape, schema, n_items in (("document", root, 3), ("records", records, 10)):
            if schema is None:
                continue
            norm = _normalize(schema)
            if norm is None:
                continue
            for seed in range(5):
                try:
                    instance = generate_instance(norm, seed, n_items=n_items)
                except RecursionError:
                    break
                if _valid(norm, instance):
                    if limit is not None and n >= limit:
                        return
                    yield Case(f"{shape}/{path.stem}", {"schema": norm, "instance": instance, "shape": shape})
                    n += 1
                    break


def _compiled(case: Case, fmt: str, params: Mapping[str, Any]) -> Any:
    from ...schema import compact_schema

    cache = params.get("_state")
    key = (case.id, fmt)
    if isinstance(cache, dict) and key in cache:
        return cache[key]
    cs = compact_schema(case.data["schema"], fmt)
    if isinstance(cache, dict):
        if len(cache) > 64:  # one case at a time: keep memory flat on big schemas
            cache.clear()
        cache[key] = cs
    return cs


def _format_method(fmt: str) -> Any:
    def method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
        from ...schema_formats import JsonMinFormat
        from ..metrics import roundtrip_exact

        cs = _compiled(case, fmt, params)
        value = case.data["instance"]
        text = cs.encode(value)
        back = cs.parse(text)
        tok = cs.tokenizer
        pretty = tok.count(json.dumps(value, indent=2, ensure_ascii=False))
        minified = tok.count(JsonMinFormat().encode(value))
        after = tok.count(text)
        metrics = {"roundtrip": roundtrip_exact(value, back),
                   "native": 1.0 if fmt == "auto" or cs.format == fmt else 0.0,
                   "beats_minified": 1.0 if after < minified else 0.0,
                   "beats_pretty": 1.0 if after < pretty else 0.0}
        return MethodOutput(pretty, after, metrics, text)
    return method


def _instructions_method(case: Case, budget: float | None, params: Mapping[str, Any]) -> MethodOutput:
    cs = _compiled(case, "auto", params)
    res = cs.result
    return MethodOutput(res.savings.before, res.savings.after,
                        {"half_or_less": 1.0 if res.savings.after <= 0.5 * res.savings.before else 0.0},
                        cs.instructions)


def _methods() -> dict[str, Any]:
    methods: dict[str, Any] = {f: _format_method(f) for f in FORMATS}
    methods["instructions"] = _instructions_method
    return methods


def _setup(params: Mapping[str, Any]) -> dict[Any, Any]:
    return {}


_DESC = ("output tokens per format vs pretty JSON (tokens_before), round-trip exactness (target 1.0); "
         "'instructions' = auto instructions vs json.dumps(schema)")
SUITES = (
    Suite(name="schema-bfcl", task="schema", description="BFCL ground-truth calls: " + _DESC, load=load_bfcl,
          methods=_methods(), budgets=(None,), needs_shared_data=True, primary_metric="roundtrip",
          baselines=("json-min",), setup=_setup),
    Suite(name="schema-schemastore", task="schema", description="SchemaStore generated instances: " + _DESC,
          load=load_schemastore, methods=_methods(), budgets=(None,), needs_shared_data=True,
          primary_metric="roundtrip", baselines=("json-min",), setup=_setup),
)
if __name__ != "__main__":  # run as a script, the package import has registered them already
    for _suite in SUITES:
        register_suite(_suite)


def schema_report(data_dir: Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """Per suite and shape: tokens of each format against pretty and minified JSON, round-trip
    exactness, fallbacks; and instruction tokens against ``json.dumps(schema)``. A case where any
    format raises is left out of every total and listed under ``failed``."""
    from ...schema import compact_schema
    from ...schema_formats import JsonMinFormat
    from ...tokens import get_tokenizer
    from ..metrics import roundtrip_exact

    data_dir = shared_data_dir(data_dir)
    tok = get_tokenizer()
    report: dict[str, Any] = {}
    for name, loader in (("schema-bfcl", load_bfcl), ("schema-schemastore", load_schemastore)):
        shapes: dict[str, Any] = {}
        for case in loader(data_dir, limit):
            value = case.data["instance"]
            agg = shapes.setdefault(case.data["shape"], {
                "cases": 0, "pretty": 0, "minified": 0, "schema_json": 0, "instructions": 0, "listing": 0,
                "formats": {f: {"tokens": 0, "roundtrip": 0, "native": 0, "chosen": {}} for f in FORMATS},
                "failed": []})
            results = {}
            try:
                for fmt in FORMATS:
                    cs = compact_schema(case.data["schema"], fmt)
                    text = cs.encode(value)
                    results[fmt] = (cs, text, cs.parse(text))
            except Exception as exc:  # an eval reports failures instead of stopping
                agg["failed"].append(f"{case.id} ({fmt}): {type(exc).__name__}: {exc}"[:300])
                continue
            for fmt, (cs, text, back) in results.items():
                f = agg["formats"][fmt]
                f["tokens"] += tok.count(text)
                f["roundtrip"] += int(roundtrip_exact(value, back))
                f["native"] += int(cs.format == fmt)
                f["chosen"][cs.format] = f["chosen"].get(cs.format, 0) + 1
            auto = results["auto"][0]
            agg["schema_json"] += auto.result.savings.before
            agg["instructions"] += auto.result.savings.after
            agg["listing"] += tok.count(auto.type_listing)
            agg["cases"] += 1
            agg["pretty"] += tok.count(json.dumps(value, indent=2, ensure_ascii=False))
            agg["minified"] += tok.count(JsonMinFormat().encode(value))
        report[name] = shapes
    return report


def _pct(after: int, before: int) -> str:
    return f"{100.0 * (1 - after / before):6.1f}%" if before else "   n/a"


def _print(report: Mapping[str, Any]) -> None:
    for suite, shapes in report.items():
        for shape, agg in shapes.items():
            print(f"## {suite} / {shape}: {agg['cases']} cases; pretty JSON {agg['pretty']:,} tokens, "
                  f"minified {agg['minified']:,}")
            print(f"{'format':<10} {'tokens':>9} {'vs pretty':>10} {'vs min':>8} {'roundtrip':>10} {'native':>7}  chosen")
            for fmt, f in agg["formats"].items():
                print(f"{fmt:<10} {f['tokens']:>9,} {_pct(f['tokens'], agg['pretty']):>10} "
                      f"{_pct(f['tokens'], agg['minified']):>8} {f['roundtrip']:>5}/{agg['cases']:<4} "
                      f"{f['native']:>7}  {f['chosen']}")
            print(f"instructions (auto) {agg['instructions']:,} tokens vs json.dumps(schema) {agg['schema_json']:,}: "
                  f"{_pct(agg['instructions'], agg['schema_json']).strip()} smaller; type listing alone "
                  f"{agg['listing']:,} ({_pct(agg['listing'], agg['schema_json']).strip()} smaller)")
            print(f"failed cases: {len(agg['failed'])}" + "".join(f"\n  {e}" for e in agg["failed"][:5]) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally save as JSON) the schema format report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="shared data folder (default: $PROMPTSLIM_SHARED_DATA or ../shared/data)")
    p.add_argument("--limit", type=int, default=None, help="at most N cases per suite")
    p.add_argument("--json", default=None, help="also write the report as JSON to this file")
    args = p.parse_args(argv)
    report = schema_report(Path(args.data) if args.data else None, args.limit)
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
