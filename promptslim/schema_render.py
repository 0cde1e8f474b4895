"""Render a JSON Schema as a compact TypeScript-like type listing for prompts.

A model reads ``name?: string // the user's name`` as well as the JSON Schema fragment it replaces,
for a third of the tokens. Everything that constrains the answer (enums, bounds, patterns, formats,
defaults, descriptions) is kept; keywords the renderer cannot express compactly are written as
compact JSON, and annotation-only keywords it skips are reported as :class:`Change` records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .result import Change
from .schema_norm import SCHEMA_DATA, deref, iter_subschemas, resolve_ref

__all__ = ["render_type", "TypeRenderer"]

_CFG = SCHEMA_DATA["render"]
_SILENT = frozenset(_CFG["silent_keywords"])
_MAX_EX = int(_CFG["max_example_chars"])
_MAX_DEPTH = 64
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_HANDLED = frozenset({
    "type", "properties", "required", "items", "prefixItems", "enum", "const", "anyOf", "oneOf", "allOf",
    "$ref", "additionalProperties", "patternProperties", "description", "title", "default", "examples",
    "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "deprecated", "nullable", "not", "if", "then", "else", "dependencies",
    "dependentRequired", "dependentSchemas", "contains", "minContains", "maxContains", "propertyNames",
    "example",
})
_AS_JSON = ("not", "if", "then", "else", "dependencies", "dependentRequired", "dependentSchemas",
            "contains", "propertyNames", "minContains", "maxContains")


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class TypeRenderer:
    """Renders one root schema; named types are emitted for recursive or repeated ``$ref`` targets."""

    def __init__(self, root: Mapping[str, Any], *, descriptions: bool = True, indent: str = "  ") -> None:
        self.root = root
        self.descriptions = descriptions
        self.indent = indent
        self.changes: list[Change] = []
        self._skipped: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        self.used: set[str] = set()  # refs rendered by name: their definitions must be listed
        self._depth = 0
        self._plan_names()

    # -- named types -------------------------------------------------------------------------
    def _plan_names(self) -> None:
        uses: dict[str, int] = {}
        recursive: set[str] = set()

        def walk(node: Any, path: str, stack: tuple[str, ...]) -> None:
            if not isinstance(node, Mapping):
                return
            ref = node.get("$ref")
            if isinstance(ref, str):
                uses[ref] = uses.get(ref, 0) + 1
                if ref in stack:
                    recursive.add(ref)
                elif uses[ref] == 1:
                    target = resolve_ref(self.root, ref)
                    if isinstance(target, Mapping):
                        walk(target, ref, (*stack, ref))
            for sub_path, sub in iter_subschemas(node, path):
                if sub_path[len(path):].startswith(("/$defs/", "/definitions/")):
                    continue
                walk(sub, sub_path, stack)

        walk(self.root, "#", ("#",))
        taken = {"string", "number", "integer", "boolean", "null", "any", "object"}
        for ref in sorted(uses):
            if ref in recursive or uses[ref] > 1:
                base = ref.rstrip("/").rsplit("/", 1)[-1] if ref != "#" else self.root_name()
                base = re.sub(r"[^A-Za-z0-9_$.-]", "_", base) or "T"
                name, n = base, 2
                while name in taken:
                    name, n = f"{base}{n}", n + 1
                taken.add(name)
                self.names[ref] = name

    def root_name(self) -> str:
        title = self.root.get("title") if isinstance(self.root, Mapping) else None
        if isinstance(title, str) and _IDENT.match(title.replace(" ", "")):
            return title.replace(" ", "")
        return "Answer"

    def definitions(self, skip_root: bool = True) -> list[str]:
        """``type Name = ...`` lines for every named type used so far (and the ones they use), in
        name order; the root's own definition is left to the caller when ``skip_root``."""
        done: dict[str, str] = {}
        while True:
            todo = sorted(r for r in self.used if r not in done and not (skip_root and r == "#"))
            if not todo:
                break
            for ref in todo:
                target = self.root if ref == "#" else resolve_ref(self.root, ref)
                done[ref] = f"type {self.names[ref]} = {self.expr(target, 0, ref)}"
        return [done[r] for r in sorted(done, key=lambda r: self.names[r])]

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: Any, level: int, path: str) -> str:
        """The type expression of ``node`` (multi-line for objects), annotations included."""
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                self._skip("(nesting deeper than the listing renders)", path)
                return "any"
            return self._expr(node, level, path)
        finally:
            self._depth -= 1

    def _expr(self, node: Any, level: int, path: str) -> str:
        if node is True or node == {}:
            return "any"
        if node is False:
            return "never"
        if not isinstance(node, Mapping):
            return "any"
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in self.names:
                rest = {k: v for k, v in node.items() if k not in ("$ref", "description", "title", "default")}
                base = self.names[ref]
                self.used.add(ref)
                return f"{base} & {self.expr(rest, level, path)}" if self._shape_keys(rest) else base
            target = resolve_ref(self.root, ref)  # one step: a chain may pass through a named type
            if isinstance(target, Mapping) and target is not node:
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                return self.expr({**target, **siblings} if siblings else target, level, ref)
            self._skip("$ref (unresolved)", path)
            return f"any /* $ref {ref} */"
        self._note_skipped(node, path)
        base = self._base(node, level, path)
        notes = self._annotations(node)
        return f"{base} ({', '.join(notes)})" if notes else base

    @staticmethod
    def _shape_keys(node: Mapping[str, Any]) -> bool:
        return any(k in node for k in ("type", "properties", "items", "enum", "const", "anyOf", "oneOf", "allOf"))

    def _base(self, node: Mapping[str, Any], level: int, path: str) -> str:
        if "const" in node:
            return _j(node["const"])
        if isinstance(node.get("enum"), list):
            return "|".join(_j(v) for v in node["enum"])
        parts: list[str] = []
        for key in ("anyOf", "oneOf"):
            subs = node.get(key)
            if isinstance(subs, list):
                shaped = [s for s in subs if not isinstance(s, Mapping) or self._shape_keys(s) or "$ref" in s]
                if len(shaped) == len(subs):
                    alts = [self._paren(self.expr(s, level, f"{path}/{key}/{i}")) for i, s in enumerate(subs)]
                    parts.append("|".join(dict.fromkeys(alts)))
        all_of = node.get("allOf")
        if isinstance(all_of, list):
            merged = self._merge_all_of(node, all_of)
            if merged is not None:
                return self._base(merged, level, path)
            parts.extend(self._paren(self.expr(s, level, f"{path}/allOf/{i}")) for i, s in enumerate(all_of))
        own = self._own_type(node, level, path)
        if own is not None:
            parts.insert(0, own)
        if not parts:
            return "any"
        return parts[0] if len(parts) == 1 else " & ".join(self._paren(p) for p in parts)

    def _merge_all_of(self, node: Mapping[str, Any], subs: list[Any]) -> dict[str, Any] | None:
        """allOf of object schemas (after $ref) merged into one object, or None if not that simple."""
        props: dict[str, Any] = dict(node.get("properties") or {})
        required = list(node.get("required") or [])
        for sub in subs:
            if isinstance(sub, Mapping) and sub.get("$ref") in self.names:
                return None  # keep the named type: inlining it could recurse
            sub, _ = deref(self.root, sub)
            if not isinstance(sub, Mapping) or "$ref" in sub:
                return None
            if set(sub) - {"type", "properties", "required", "description", "title", "additionalProperties"}:
                return None
            if sub.get("type", "object") != "object":
                return None
            props.update(sub.get("properties") or {})
            required += [r for r in sub.get("required") or [] if r not in required]
        merged = {k: v for k, v in node.items() if k != "allOf"}
        merged.update(type="object", properties=props, required=required)
        return merged

    @staticmethod
    def _paren(text: str) -> str:
        return f"({text})" if ("|" in text or "&" in text) and not text.startswith("{") else text

    def _own_type(self, node: Mapping[str, Any], level: int, path: str) -> str | None:
        types = node.get("type")
        tlist = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
        if not tlist:
            if "properties" in node or "additionalProperties" in node or "patternProperties" in node:
                tlist = ["object"]
            elif "items" in node or "prefixItems" in node:
                tlist = ["array"]
            else:
                return None
        if node.get("nullable") is True and "null" not in tlist:
            tlist.append("null")
        out = []
        for t in tlist:
            if t == "object":
                out.append(self._object(node, level, path))
            elif t == "array":
                out.append(self._array(node, level, path))
            else:
                out.append(str(t))
        return "|".join(out)

    def _object(self, node: Mapping[str, Any], level: int, path: str) -> str:
        props = node.get("properties") or {}
        required = set(node.get("required") or [])
        extra = node.get("additionalProperties")
        patterns = node.get("patternProperties") or {}
        if not props and not patterns:
            if isinstance(extra, Mapping) and extra:
                return f"Record<string, {self.expr(extra, level, f'{path}/additionalProperties')}>"
            if not required:
                return "object"
        pad = self.indent * (level + 1)
        lines = ["{"]
        for name, sub in props.items():
            lines.append(pad + self.field_line(name, sub, name in required, level + 1, f"{path}/properties/{name}"))
        for name in sorted(required - set(props)):
            lines.append(pad + f"{self.key(name)}: any")
        for pattern, sub in patterns.items():
            lines.append(pad + f"[key: /{pattern}/]: {self.expr(sub, level + 1, f'{path}/patternProperties')}")
        if isinstance(extra, Mapping) and extra:
            lines.append(pad + f"[key: string]: {self.expr(extra, level + 1, f'{path}/additionalProperties')}")
        elif extra is True and props:
            lines.append(pad + "[key: string]: any")
        lines.append(self.indent * level + "}")
        return "\n".join(lines)

    def _array(self, node: Mapping[str, Any], level: int, path: str) -> str:
        prefix = node.get("prefixItems")
        items = node.get("items")
        if isinstance(items, list):
            prefix, items = items, node.get("additionalItems")
        if isinstance(prefix, list):
            parts = [self.expr(s, level, f"{path}/prefixItems/{i}") for i, s in enumerate(prefix)]
            if items is not None and items is not False:
                parts.append("..." + self._paren(self.expr(items, level, f"{path}/items")) + "[]")
            return "[" + ", ".join(parts) + "]"
        if items is None or items is True:
            return "any[]"
        return self._paren(self.expr(items, level, f"{path}/items")) + "[]"

    def key(self, name: str) -> str:
        """A property name as written in the listing (quoted when not an identifier)."""
        return name if _IDENT.match(name) else _j(name)

    def field_line(self, name: str, node: Any, required: bool, level: int, path: str) -> str:
        """``name?: type = default // description`` for one property."""
        head = f"{self.key(name)}{'' if required else '?'}: {self.expr(node, level, path)}"
        return head + self.tail(node, path, name)

    def tail(self, node: Any, path: str, name: str | None = None) -> str:
        """`` = default // description`` for a node (empty when it has neither). A title that only
        repeats the property ``name`` (pydantic writes ``"title": "City"`` for ``city``) is left out."""
        if not isinstance(node, Mapping):
            return ""
        out = ""
        if "default" in node:
            text = _j(node["default"])
            if len(text) <= _MAX_EX:
                out += f" = {text}"
            else:
                self.changes.append(Change("render", "default-dropped", path, before=text[:80],
                                           reason=f"default longer than {_MAX_EX} characters left out"))
        desc = node.get("description") or node.get("markdownDescription") or node.get("title")
        if name is not None and desc == node.get("title") and isinstance(desc, str) \
                and _plain(desc) == _plain(name.rsplit(".", 1)[-1]):
            desc = None
        if self.descriptions and isinstance(desc, str) and desc.strip():
            out += " // " + _one_line(desc)
        return out

    def _annotations(self, node: Mapping[str, Any]) -> list[str]:
        notes: list[str] = []
        if "format" in node:
            notes.append(str(node["format"]))
        if "pattern" in node:
            notes.append(f"/{node['pattern']}/")
        lo, hi = node.get("minLength"), node.get("maxLength")
        if lo is not None or hi is not None:
            notes.append(_range(lo, hi, "chars"))
        lo, hi = node.get("minItems"), node.get("maxItems")
        if lo is not None or hi is not None:
            notes.append(_range(lo, hi, "items"))
        lo, hi = node.get("minProperties"), node.get("maxProperties")
        if lo is not None or hi is not None:
            notes.append(_range(lo, hi, "keys"))
        for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
            value = node.get(key)
            if isinstance(value, bool):  # draft-04 boolean form modifies minimum/maximum
                continue
            if value is not None:
                if key == "minimum" and node.get("exclusiveMinimum") is True:
                    op = ">"
                if key == "maximum" and node.get("exclusiveMaximum") is True:
                    op = "<"
                notes.append(f"{op}{_j(value)}")
        if "multipleOf" in node:
            notes.append(f"multiple of {_j(node['multipleOf'])}")
        if node.get("uniqueItems") is True:
            notes.append("unique")
        if node.get("deprecated") is True:
            notes.append("deprecated")
        for key in _AS_JSON:
            if key in node:
                notes.append(f"{key} {_j(node[key])}")
        examples = node.get("examples")
        example = examples[0] if isinstance(examples, list) and examples else node.get("example")
        if example is not None:
            text = _j(example)
            if len(text) <= _MAX_EX:
                notes.append(f"e.g. {text}")
        return notes

    def _note_skipped(self, node: Mapping[str, Any], path: str) -> None:
        for key in node:
            if key not in _HANDLED and key not in _SILENT:
                self._skip(key, path)

    def _skip(self, key: str, path: str) -> None:
        self._skipped.setdefault(key, []).append(path)

    def skipped_changes(self) -> list[Change]:
        """One Change per annotation keyword the listing left out (with the first place it occurs)."""
        return [Change("render", "keyword-skipped", where[0], before=key,
                       reason=f"annotation keyword not rendered ({len(where)} place(s)); validation still applies")
                for key, where in sorted(self._skipped.items())]


def _plain(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text).lower()


def _range(lo: Any, hi: Any, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"{lo} {unit}" if lo == hi else f"{lo}-{hi} {unit}"
    return f">={lo} {unit}" if lo is not None else f"<={hi} {unit}"


def render_type(schema: Mapping[str, Any], *, descriptions: bool = True) -> tuple[str, tuple[Change, ...]]:
    """The TypeScript-like listing of ``schema`` (named types first) and the render changes."""
    r = TypeRenderer(schema, descriptions=descriptions)
    body = r.expr(schema, 0, "#")
    root_tail = r.tail(schema, "#") if isinstance(schema, Mapping) and "description" in schema else ""
    lines = r.definitions()
    if "#" in r.names:
        lines.append(f"type {r.names['#']} = {body}{root_tail}")
    else:
        lines.append(body + root_tail)
    return "\n".join(lines), (*r.changes, *r.skipped_changes())
