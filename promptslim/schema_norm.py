"""Schema intake for compact output schemas: accept JSON Schema dicts or pydantic model classes,
normalize non-standard type names, walk subschemas and resolve local ``$ref`` pointers.

Everything downstream (rendering, formats, instance generation) reads schemas through these helpers,
so a quirk fixed here (``"type": "dict"`` in BFCL tool schemas) is fixed everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from ._toml import load_package_toml
from .errors import InputError
from .result import Change

__all__ = [
    "load_schema",
    "iter_subschemas",
    "resolve_ref",
    "deref",
    "scalar_kind",
    "SCHEMA_DATA",
]

SCHEMA_DATA: dict[str, Any] = load_package_toml("data/schema.toml")
_ALIASES: dict[str, str] = SCHEMA_DATA["type_aliases"]

# keyword -> how its value holds subschemas
_ONE = ("additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")


def iter_subschemas(node: Mapping[str, Any], path: str = "#") -> Iterator[tuple[str, Any]]:
    """Yield ``(json_pointer, subschema)`` for the direct subschemas of ``node`` (not recursive)."""
    for key in _ONE:
        if key in node:
            yield f"{path}/{key}", node[key]
    for key in _MAP:
        sub = node.get(key)
        if isinstance(sub, Mapping):
            for name, value in sub.items():
                yield f"{path}/{key}/{_escape(name)}", value
    for key in _LIST:
        sub = node.get(key)
        if isinstance(sub, list):
            for i, value in enumerate(sub):
                yield f"{path}/{key}/{i}", value
    items = node.get("items")
    if isinstance(items, list):
        for i, value in enumerate(items):
            yield f"{path}/items/{i}", value
    elif items is not None:
        yield f"{path}/items", items
    deps = node.get("dependencies")
    if isinstance(deps, Mapping):
        for name, value in deps.items():
            if isinstance(value, Mapping):
                yield f"{path}/dependencies/{_escape(name)}", value


def _escape(name: str) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


def load_schema(schema: Any, *, check: bool = True) -> tuple[dict[str, Any], tuple[Change, ...]]:
    """A normalized deep copy of ``schema`` (dict, JSON text or pydantic model class) and the
    changes made to it; raises :class:`InputError` naming the path when it is not a valid schema
    (the meta-schema check is skipped with ``check=False``)."""
    changes: list[Change] = []
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        schema = schema.model_json_schema()
        changes.append(Change("normalize", "pydantic", "#", reason="schema taken from model_json_schema()"))
    elif hasattr(schema, "model_json_schema") and not isinstance(schema, Mapping):
        raise InputError(f"got a pydantic model instance ({type(schema).__name__}); pass the class instead")
    elif isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise InputError(f"schema text is not JSON: {exc}") from None
    if isinstance(schema, bool):
        raise InputError("a boolean schema (true/false) has no shape to compact; pass an object schema")
    if not isinstance(schema, Mapping):
        raise InputError(f"schema must be a JSON Schema dict or a pydantic model class, not {type(schema).__name__}")
    try:
        out: dict[str, Any] = json.loads(json.dumps(schema, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InputError(f"schema is not JSON-serializable: {exc}") from None
    counts: dict[tuple[str, str], list[str]] = {}
    _fix_types(out, "#", counts)
    for (before, after), where in sorted(counts.items()):
        changes.append(Change("normalize", "type-alias", where[0], before=before, after=after or "(any)",
                              reason=f"non-standard type name at {len(where)} place(s)"))
    if check:
        _check(out)
    return out, tuple(changes)


def _fix_types(node: Any, path: str, counts: dict[tuple[str, str], list[str]]) -> None:
    if not isinstance(node, dict):
        return
    t = node.get("type")
    if isinstance(t, str) and t in _ALIASES:
        new = _ALIASES[t]
        counts.setdefault((t, new), []).append(path)
        if new:
            node["type"] = new
        else:
            del node["type"]
    elif isinstance(t, list):
        fixed = [_ALIASES.get(x, x) if isinstance(x, str) else x for x in t]
        if fixed != t:
            for old, new in zip(t, fixed):
                if old != new:
                    counts.setdefault((old, new), []).append(path)
            node["type"] = [x for x in fixed if x] if all(fixed) else None
            if node["type"] is None:
                del node["type"]
    for sub_path, sub in list(iter_subschemas(node, path)):
        _fix_types(sub, sub_path, counts)


def _check(schema: dict[str, Any]) -> None:
    from jsonschema import exceptions, validators

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        where = "#/" + "/".join(_escape(str(p)) for p in exc.absolute_path)
        raise InputError(f"invalid JSON Schema at {where}: {exc.message}") from None


def resolve_ref(root: Mapping[str, Any], ref: str) -> Any:
    """The subschema a local ``$ref`` (``#``, ``#/$defs/x``, ``#/definitions/x``) points to, or None
    when the reference is remote or does not resolve (callers report that as unsupported)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def deref(root: Mapping[str, Any], node: Any, limit: int = 32) -> tuple[Any, list[str]]:
    """Follow a chain of pure ``$ref`` nodes; returns the target and the refs followed. A node with
    ``$ref`` plus siblings is merged shallowly (siblings win), as draft 2019+ evaluates both."""
    seen: list[str] = []
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and len(seen) < limit:
        ref = node["$ref"]
        if ref in seen:
            break
        target = resolve_ref(root, ref)
        if target is None or not isinstance(target, Mapping):
            break
        seen.append(ref)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **siblings} if siblings else target
    return node, seen


def scalar_kind(value: Any) -> str:
    """The JSON kind of a Python value: null, boolean, integer, number, string, array or object."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
