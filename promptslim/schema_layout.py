"""Which schemas the positional ``delimited`` format can hold, and the slot layout it uses.

A layout is an ordered list of leaf slots (scalars, or arrays of scalars) grouped by the objects
they belong to; nested objects are flattened into dotted field names. A field whose shape is not
fixed by the schema (free-form objects, ``patternProperties``, recursive ``$ref``, unions of
objects, lists of objects, nullable objects) is held whole as one JSON value, and noted. A record
itself that is not a fixed set of declared fields is rejected with a reason and a location, so the
caller can fall back to another format and say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .schema_norm import deref, scalar_kind

__all__ = ["Slot", "Group", "Layout", "Unsupported", "analyze_layout"]

_SCALARS = frozenset({"null", "boolean", "integer", "number", "string"})
_ANNOTATION = frozenset({
    "description", "title", "default", "examples", "example", "$comment", "markdownDescription",
    "deprecated", "readOnly", "writeOnly", "$id", "id", "$schema", "$defs", "definitions", "format",
    "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "enum", "const", "type", "minItems", "maxItems", "uniqueItems", "nullable",
    "contentMediaType", "contentEncoding", "x-order", "enumDescriptions", "markdownEnumDescriptions",
})


class Unsupported(Exception):
    """The schema has a construct the delimited format cannot hold; ``where`` is a JSON pointer."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{reason} at {where}")
        self.reason = reason
        self.where = where


@dataclass(frozen=True, slots=True)
class Slot:
    """One positional field: a scalar (``array=False``) or an array of scalars.

    ``kinds`` are the JSON kinds the value (or each element) may take; ``empty_ok`` means an empty
    field reads as ``""`` (or ``[]``) rather than "absent" (required, under required parents only).
    ``json`` slots hold fields no flat slot can (free-form or nested values) as one JSON value.
    """

    name: str
    key: str
    kinds: frozenset[str]
    array: bool = False
    nullable: bool = False  # array slots only: the array itself may be null
    required: bool = True
    empty_ok: bool = False
    node: Any = None
    pointer: str = "#"
    json: bool = False  # any JSON value: scalars raw, objects and lists as minified JSON


@dataclass(frozen=True, slots=True)
class Group:
    """An object: its children in property order; ``required`` is whether it must be present."""

    key: str
    children: tuple[Slot | Group, ...]
    required: bool = True
    name: str = ""


@dataclass(frozen=True, slots=True)
class Layout:
    """How instances map to lines: ``rows`` (root array), ``wrapped`` (``{key: [rows]}``) or ``record``.

    ``row`` is a Group for object rows or a single Slot for arrays of scalars.
    """

    kind: str
    row: Group | Slot
    slots: tuple[Slot, ...]
    wrapper: str = ""
    row_node: Any = None
    notes: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)  # (where, why, field) JSON cells
    variants: tuple[Any, ...] = ()  # tagged unions (schema_union.Variant): one layout per member
    tag_key: str = ""


def _kinds(root: Mapping[str, Any], node: Any, where: str) -> frozenset[str] | None:
    """Scalar kinds of ``node`` or None when it is not a scalar schema."""
    node, _ = deref(root, node)
    if not isinstance(node, Mapping) or "$ref" in node:
        raise Unsupported("unresolvable or recursive $ref", where)
    if "const" in node:
        kind = scalar_kind(node["const"])
        return frozenset({kind}) if kind in _SCALARS else None
    if isinstance(node.get("enum"), list):
        kinds = {scalar_kind(v) for v in node["enum"]}
        return frozenset(kinds) if kinds <= _SCALARS else None
    t = node.get("type")
    types = {t} if isinstance(t, str) else set(t) if isinstance(t, list) else set()
    if node.get("nullable") is True:
        types.add("null")
    if types:
        return frozenset(types) if types <= _SCALARS else None
    for key in ("anyOf", "oneOf"):
        subs = node.get(key)
        if isinstance(subs, list) and subs:
            out: set[str] = set()
            for i, sub in enumerate(subs):
                k = _kinds(root, sub, f"{where}/{key}/{i}")
                if k is None:
                    return None
                out |= k
            return frozenset(out)
    subs = node.get("allOf")
    if isinstance(subs, list) and len(subs) == 1:
        return _kinds(root, subs[0], f"{where}/allOf/0")
    return None


class _Analyzer:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.slots: list[Slot] = []
        self.notes: list[tuple[str, str, str]] = []  # (where, why, field) of fields held as JSON

    def resolve(self, node: Any, where: str, stack: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        node, refs = deref(self.root, node)
        if isinstance(node, Mapping) and "$ref" in node:
            raise Unsupported("recursive or unresolvable $ref", where)
        if set(refs) & set(stack):
            raise Unsupported("recursive $ref", where)
        if isinstance(node, Mapping):
            subs = node.get("allOf")
            if isinstance(subs, list) and len(subs) == 1 and not self._has_shape(node):
                rest = {k: v for k, v in node.items() if k != "allOf"}
                inner, more = self.resolve(subs[0], f"{where}/allOf/0", (*stack, *refs))
                if isinstance(inner, Mapping):
                    return {**inner, **rest}, (*stack, *refs, *more)
        return node, (*stack, *refs)

    @staticmethod
    def _has_shape(node: Mapping[str, Any]) -> bool:
        return any(k in node for k in ("type", "properties", "items", "enum", "const"))

    def is_object(self, node: Any) -> bool:
        if not isinstance(node, Mapping):
            return False
        t = node.get("type")
        return t == "object" or (isinstance(t, list) and "object" in t) or (t is None and "properties" in node)

    def leaf(self, node: Any, name: str, key: str, required: bool, empty_ok: bool, where: str,
             stack: tuple[str, ...]) -> Slot:
        node, stack = self.resolve(node, where, stack)
        kinds = _kinds(self.root, node, where)
        if kinds is not None:
            return self._add(Slot(name, key, kinds, False, False, required, empty_ok, node, where))
        if not isinstance(node, Mapping):
            raise Unsupported("free-form value (no type)", where)
        t = node.get("type")
        types = {t} if isinstance(t, str) else set(t) if isinstance(t, list) else set()
        if node.get("nullable") is True:
            types.add("null")
        if types in ({"array"}, {"array", "null"}) or (not types and "items" in node):
            items = node.get("items")
            if isinstance(items, list) or "prefixItems" in node:
                raise Unsupported("tuple array (positional items)", where)
            if items is None or items is True or items == {}:
                raise Unsupported("free-form array (no items schema)", where)
            inner, _ = self.resolve(items, f"{where}/items", stack)
            ikinds = _kinds(self.root, inner, f"{where}/items")
            if ikinds is None:
                raise Unsupported("array of objects or arrays inside a record", where)
            return self._add(Slot(name, key, ikinds, True, "null" in types, required, empty_ok, node, where))
        raise Unsupported("value that is not a scalar, list of scalars or object", where)

    def _add(self, slot: Slot) -> Slot:
        self.slots.append(slot)
        return slot

    def group(self, node: Any, prefix: str, key: str, required: bool, chain_required: bool, where: str,
              stack: tuple[str, ...]) -> Group:
        node, stack = self.resolve(node, where, stack)
        if not self.is_object(node):
            raise Unsupported("not an object", where)
        t = node.get("type")
        if isinstance(t, list) and t != ["object"]:
            raise Unsupported("nullable object" if "null" in t else "object in a type union", where)
        for bad in ("patternProperties", "anyOf", "oneOf", "allOf", "if", "dependencies", "dependentSchemas",
                    "not", "propertyNames"):
            if bad in node:
                raise Unsupported(f"object with {bad}", where)
        props = node.get("properties")
        if not isinstance(props, Mapping) or not props:
            raise Unsupported("free-form object (no properties)", where)
        extra = node.get("additionalProperties")
        if extra is True or (isinstance(extra, Mapping) and extra):
            raise Unsupported("additionalProperties allows undeclared keys", where)
        req = set(node.get("required") or [])
        if req - set(props):
            raise Unsupported("required key not declared in properties", where)
        children: list[Slot | Group] = []
        for name, sub in props.items():
            sub_where = f"{where}/properties/{name}"
            full = f"{prefix}{name}"
            is_req = name in req
            mark = len(self.slots)
            try:
                sub_node, _ = self.resolve(sub, sub_where, stack)
                if self.is_object(sub_node) and not _kinds_safe(self.root, sub_node):
                    children.append(self.group(sub, f"{full}.", name, is_req, chain_required and is_req,
                                               sub_where, stack))
                else:
                    children.append(self.leaf(sub, full, name, is_req, chain_required and is_req, sub_where,
                                              stack))
            except Unsupported as exc:  # hold the whole field as one JSON value instead
                del self.slots[mark:]
                self.notes.append((exc.where, exc.reason, full))
                children.append(self._add(Slot(full, name, _SCALARS, False, False, is_req, False, sub, sub_where,
                                               json=True)))
        grp = Group(key, tuple(children), required, prefix.rstrip("."))
        if not required and not _has_required_leaf(grp):
            raise Unsupported("optional object without a required field (absent and {} look alike)", where)
        return grp


def _kinds_safe(root: Mapping[str, Any], node: Any) -> bool:
    try:
        return _kinds(root, node, "#") is not None
    except Unsupported:
        return False


def _has_required_leaf(group: Group) -> bool:
    for child in group.children:
        if child.required and (isinstance(child, Slot) or _has_required_leaf(child)):
            return True
    return False


def analyze_layout(schema: Mapping[str, Any]) -> Layout:
    """The delimited layout of ``schema``; raises :class:`Unsupported` with a reason and location."""
    an = _Analyzer(schema)
    root, stack = an.resolve(schema, "#", ("#",))
    if not isinstance(root, Mapping):
        raise Unsupported("boolean schema", "#")
    kind, wrapper, arr, where = "record", "", None, "#"
    if root.get("type") == "array" or (root.get("type") is None and "items" in root):
        kind, arr = "rows", root
    elif an.is_object(root):
        props = root.get("properties") or {}
        if len(props) == 1 and list(root.get("required") or []) == list(props):
            (name, sub), = props.items()
            sub_node, _ = an.resolve(sub, f"#/properties/{name}", stack)
            if isinstance(sub_node, Mapping) and sub_node.get("type") == "array":
                kind, wrapper, arr, where = "wrapped", name, sub_node, f"#/properties/{name}"
                extra = root.get("additionalProperties")
                if extra is True or (isinstance(extra, Mapping) and extra) or "patternProperties" in root:
                    raise Unsupported("additionalProperties allows undeclared keys", "#")
    else:
        raise Unsupported("root is neither an object nor an array", "#")
    if arr is None:
        row: Group | Slot = an.group(root, "", "", True, True, "#", stack)
        row_node = root
    else:
        items = arr.get("items")
        if isinstance(items, list) or "prefixItems" in arr:
            raise Unsupported("tuple array (positional items)", where)
        if items is None or items is True or items == {}:
            raise Unsupported("free-form array (no items schema)", where)
        row_node, _ = an.resolve(items, f"{where}/items", stack)
        if an.is_object(row_node) and not _kinds_safe(schema, row_node):
            row = an.group(items, "", "", True, True, f"{where}/items", stack)
        else:
            row = an.leaf(items, "value", "", True, False, f"{where}/items", stack)
    slots = tuple(an.slots)
    if len(slots) == 1:
        only = slots[0]
        if not (only.empty_ok or isinstance(row, Slot)):  # required under required parents only
            raise Unsupported("a single optional field per line (an absent value would be a blank line)", where)
        if only.json:
            raise Unsupported("a single free-form field per line", where)
        slots = (Slot(only.name, only.key, only.kinds, only.array, only.nullable, True, False, only.node,
                      only.pointer),)
        row = _replace_slot(row, slots[0])
    return Layout(kind, row, slots, wrapper, row_node, tuple(an.notes))


def _replace_slot(row: Group | Slot, slot: Slot) -> Group | Slot:
    if isinstance(row, Slot):
        return slot
    return Group(row.key, tuple(_replace_slot(c, slot) if not isinstance(c, Slot) or c.name == slot.name else c
                                for c in row.children), row.required, row.name)
