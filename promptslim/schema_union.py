"""Tagged unions in the ``delimited`` format: lists whose items take one of several object shapes,
told apart by a constant field (tool calls ``{"name": "get_weather", "arguments": {...}}``, events
``{"type": "click", ...}``).

Each line starts with the tag, then the fields of that shape in order: ``get_weather|Lisbon|3``.
The tag field must be required in every shape, a constant string, and different per shape; each
shape's other fields follow the record rules of :mod:`promptslim.schema_layout`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .schema_delimited import ABSENT, DelimitedCodec, RowError, split_fields
from .schema_layout import Group, Layout, Unsupported, _Analyzer
from .schema_norm import deref

__all__ = ["Variant", "analyze_union", "UnionCodec"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One shape of a tagged union: its tag value and the layout of its other fields."""

    tag: str
    layout: Layout
    node: Any


def _tag_of(node: Mapping[str, Any], key: str) -> str | None:
    prop = (node.get("properties") or {}).get(key)
    if not isinstance(prop, Mapping) or key not in (node.get("required") or []):
        return None
    if isinstance(prop.get("const"), str):
        return str(prop["const"])
    enum = prop.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return str(enum[0])
    return None


def analyze_union(schema: Mapping[str, Any]) -> Layout:
    """A rows (or wrapped rows) layout whose items are a tagged union; raises :class:`Unsupported`."""
    root, _ = deref(schema, schema)
    kind, wrapper, arr, where = "rows", "", root, "#"
    if isinstance(root, Mapping) and root.get("type") == "object":
        props = root.get("properties") or {}
        extra = root.get("additionalProperties")
        if len(props) != 1 or list(root.get("required") or []) != list(props) or extra is True \
                or (isinstance(extra, Mapping) and extra) or "patternProperties" in root:
            raise Unsupported("not a list of tagged items", "#")
        (wrapper, sub), = props.items()
        kind, where = "wrapped", f"#/properties/{wrapper}"
        arr, _ = deref(schema, sub)
    if not isinstance(arr, Mapping) or arr.get("type") != "array" or not isinstance(arr.get("items"), Mapping):
        raise Unsupported("not a list of tagged items", where)
    items, _ = deref(schema, arr["items"])
    key = "oneOf" if isinstance(items.get("oneOf"), list) else "anyOf"
    branches = items.get(key)
    if not isinstance(branches, list) or len(branches) < 2 or set(items) - {key, "description", "title"}:
        raise Unsupported("not a union of object shapes", f"{where}/items")
    shapes = []
    for i, branch in enumerate(branches):
        node, _ = deref(schema, branch)
        if not isinstance(node, Mapping) or node.get("type", "object") != "object" or "properties" not in node:
            raise Unsupported("a union member is not an object with properties", f"{where}/items/{key}/{i}")
        shapes.append(node)
    tag_key = next((k for k in shapes[0].get("properties") or {} if all(_tag_of(s, k) for s in shapes)), None)
    if tag_key is None:
        raise Unsupported("no required constant field tells the union members apart", f"{where}/items")
    tags = [str(_tag_of(s, tag_key)) for s in shapes]
    if len(set(tags)) != len(tags):
        raise Unsupported(f"two union members share the {tag_key!r} value", f"{where}/items")
    variants = []
    notes: list[tuple[str, str, str]] = []
    for i, (tag, node) in enumerate(zip(tags, shapes)):
        rest = {k: v for k, v in node.items() if k not in ("properties", "required")}
        rest["properties"] = {k: v for k, v in node["properties"].items() if k != tag_key}
        rest["required"] = [r for r in node.get("required") or [] if r != tag_key]
        an = _Analyzer(schema)
        row = Group("", ()) if not rest["properties"] else \
            an.group(rest, "", "", True, True, f"{where}/items/{key}/{i}", ("#",))
        notes += an.notes
        variants.append(Variant(tag, Layout("rows", row, tuple(an.slots), "", node, tuple(an.notes)), node))
    slots = tuple(s for v in variants for s in v.layout.slots)
    return Layout(kind, Group("", ()), slots, wrapper, items, tuple(notes), tuple(variants), tag_key)


class UnionCodec:
    """Row encoder and decoder for a tagged-union layout (same interface as DelimitedCodec)."""

    def __init__(self, layout: Layout, delimiter: str = "|") -> None:
        self.layout = layout
        self.sep = delimiter
        self.ws = " " if delimiter == "\t" else " \t"
        self.header = ""
        self.flat_keys = None
        self.tag_key = layout.tag_key
        self.codecs = {v.tag: DelimitedCodec(v.layout, delimiter) for v in layout.variants}
        self.tags = {v.tag: self._tag_text(v.tag) for v in layout.variants}

    def _tag_text(self, tag: str) -> str:
        raw_ok = tag and tag == tag.strip(" \t") and tag[0] not in '"[{' and self.sep not in tag \
            and "\n" not in tag and "\r" not in tag and not tag.startswith(("```", "~~~"))
        return tag if raw_ok else json.dumps(tag, ensure_ascii=False)

    def _tag(self, field: str) -> str:
        t = field.strip(self.ws)
        if t[:1] == '"':
            try:
                value = json.loads(t)
            except json.JSONDecodeError:
                return t
            return value if isinstance(value, str) else t
        return t

    def is_row(self, line: str) -> bool:
        """Whether ``line`` can be a record: it has a separator or is a known tag alone (prose before
        or after the records has neither; a record with an unknown tag is reported, not skipped)."""
        return self.sep in line or self._tag(line) in self.codecs

    def decode_row(self, line: str) -> dict[str, Any]:
        """One line to an object: the tag picks the shape, the rest are that shape's fields."""
        parts = split_fields(line, self.sep, self.ws)
        tag = self._tag(parts[0])
        codec = self.codecs.get(tag)
        if codec is None:
            known = ", ".join(self.codecs)
            raise RowError(f"unknown {self.tag_key} {tag!r}; expected one of {known}", field=self.tag_key)
        return {self.tag_key: tag, **codec.decode_row(self.sep.join(parts[1:]))}

    def encode_row(self, value: Any) -> str:
        """One object to a line; raises InputError when its tag matches no shape."""
        if not isinstance(value, dict):
            raise InputError(f"expected an object, got {type(value).__name__}")
        tag = value.get(self.tag_key, ABSENT)
        codec = self.codecs.get(tag) if isinstance(tag, str) else None
        if codec is None:
            raise InputError(f"{self.tag_key} {tag!r} matches no member of the union")
        body = codec.encode_row({k: v for k, v in value.items() if k != self.tag_key})
        return self.tags[tag] + (self.sep + body if codec.layout.slots else "")
