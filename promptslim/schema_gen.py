"""Deterministic representative instances of a JSON Schema, for measuring formats in tokens.

``auto`` format selection and ``max_tokens`` estimates encode a few generated instances and count
their tokens; evals generate SchemaStore instances the same way. Same schema and seed, same instance.
Instances aim to be valid (bounds, enums, formats, required keys are honoured) but constructs like
``pattern``, ``not`` or ``if``/``then`` are not solved: callers validate when validity matters.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from .schema_norm import SCHEMA_DATA, deref

__all__ = ["generate_instance", "representative_instances"]

_GEN = SCHEMA_DATA["generate"]
_WORDS: list[str] = list(_GEN["words"])
_FORMATS: dict[str, str] = dict(_GEN["formats"])


class _Generator:
    def __init__(self, root: Mapping[str, Any], seed: int, full: bool, n_items: int, string_words: int,
                 max_depth: int, full_depth: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.full = full
        self.n_items = n_items
        self.string_words = string_words
        self.max_depth = max_depth
        self.full_depth = full_depth
        self.budget = int(_GEN["max_values"])  # wide schemas: past this many values, required fields only

    def value(self, node: Any, depth: int, refs: tuple[str, ...] = ("#",)) -> Any:
        self.budget -= 1
        if node is True or node is None:
            return self.words()
        if node is False or not isinstance(node, Mapping):
            return None
        node, followed = deref(self.root, node)
        if not isinstance(node, Mapping):
            return self.words()
        recursion = bool(set(followed) & set(refs))
        refs = (*refs, *followed)
        if "const" in node:
            return node["const"]
        if isinstance(node.get("enum"), list) and node["enum"]:
            return self.rng.choice(node["enum"])
        all_of = node.get("allOf")
        if isinstance(all_of, list) and all_of:
            node = self.merge(node, all_of)
        for key in ("oneOf", "anyOf"):
            subs = node.get(key)
            if isinstance(subs, list) and subs:
                rest = {k: v for k, v in node.items() if k not in (key, "$ref")}
                pick = subs[0] if recursion or depth >= self.max_depth else self.rng.choice(subs)
                pick, more = deref(self.root, pick)
                if isinstance(pick, Mapping):
                    merged = {**rest, **pick}
                    if "properties" in rest and "properties" in pick:
                        merged["properties"] = {**rest["properties"], **pick["properties"]}
                        merged["required"] = list(dict.fromkeys([*rest.get("required", []),
                                                                 *pick.get("required", [])]))
                    return self.value(merged, depth, (*refs, *more))
        t = node.get("type")
        types = [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)] if isinstance(t, list) else []
        if not types:
            if "properties" in node or "additionalProperties" in node or "required" in node:
                types = ["object"]
            elif "items" in node or "prefixItems" in node:
                types = ["array"]
            else:
                types = ["string"]
        non_null = [x for x in types if x != "null"] or ["null"]
        kind = non_null[0] if len(non_null) == 1 else self.rng.choice(non_null)
        shallow = recursion or depth >= self.max_depth or self.budget <= 0
        return getattr(self, "_" + kind, self._string)(node, depth, refs, shallow)

    def merge(self, node: Mapping[str, Any], subs: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for sub in subs:
            sub, _ = deref(self.root, sub)
            if not isinstance(sub, Mapping):
                continue
            for k, v in sub.items():
                if k == "properties" and isinstance(v, Mapping):
                    merged["properties"] = {**merged.get("properties", {}), **v}
                elif k == "required" and isinstance(v, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *v]))
                elif k not in merged:
                    merged[k] = v
        return merged

    def words(self, lo: int = 0, hi: int | None = None) -> str:
        n = max(1, self.string_words)
        text = " ".join(self.rng.choice(_WORDS) for _ in range(n))
        if hi is not None and len(text) > hi:
            text = text[:hi].rstrip() or text[:hi]
        while len(text) < lo:
            text += self.rng.choice("abcdefghij")
        return text

    def _string(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> str:
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        examples = node.get("examples")
        if isinstance(examples, list) and examples and isinstance(examples[0], str):
            return examples[0]
        return self.words(int(node.get("minLength") or 0), node.get("maxLength"))

    def _number(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> Any:
        lo, hi = self._bounds(node)
        step = node.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            k = max(int(lo // step) + 1, 1) if lo is not None else self.rng.randint(1, 20)
            value = k * step
            return value if hi is None or value <= hi else lo if lo is not None else 0
        low = lo if lo is not None else (0.0 if hi is None or hi >= 0 else hi - 100.0)
        high = min(hi, low + 100.0) if hi is not None else low + 100.0
        return round(self.rng.uniform(low, high) if high > low else low, 2) + 0.0

    def _integer(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> int:
        lo, hi = self._bounds(node)
        low = int(lo) if lo is not None else (0 if hi is None or hi >= 0 else int(hi) - 100)
        if lo is not None and low < lo:
            low += 1
        high = min(int(hi), low + 100) if hi is not None else low + 100
        if hi is not None and high > hi:
            high -= 1
        step = node.get("multipleOf")
        if isinstance(step, int) and step > 0:
            return max(low // step + 1, 0) * step
        return self.rng.randint(low, max(low, high))

    def _bounds(self, node: Mapping[str, Any]) -> tuple[float | None, float | None]:
        lo = node.get("minimum")
        hi = node.get("maximum")
        xlo, xhi = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
        if isinstance(xlo, (int, float)) and not isinstance(xlo, bool):
            lo = xlo + (1 if isinstance(xlo, int) else 0.01)
        elif xlo is True and lo is not None:
            lo = lo + (1 if isinstance(lo, int) else 0.01)
        if isinstance(xhi, (int, float)) and not isinstance(xhi, bool):
            hi = xhi - (1 if isinstance(xhi, int) else 0.01)
        elif xhi is True and hi is not None:
            hi = hi - (1 if isinstance(hi, int) else 0.01)
        return lo, hi

    def _boolean(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> bool:
        return self.rng.random() < 0.5

    def _null(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> None:
        return None

    def _array(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> list[Any]:
        lo = int(node.get("minItems") or 0)
        hi = node.get("maxItems")
        n = lo if shallow else max(lo, self.n_items if depth == 0 else min(self.n_items, 3))
        if hi is not None:
            n = min(n, int(hi))
        prefix = node.get("prefixItems")
        items = node.get("items")
        if isinstance(items, list):
            prefix, items = items, node.get("additionalItems")
        out: list[Any] = []
        if isinstance(prefix, list):
            out = [self.value(s, depth + 1, refs) for s in prefix]
            if items is False or items is None:
                return out
        unique = node.get("uniqueItems") is True
        tries = 0
        while len(out) < n and tries < n * 4:
            tries += 1
            v = self.value(items if items is not None else {"type": "string"}, depth + 1, refs)
            if unique and v in out:
                continue
            out.append(v)
        return out

    def _object(self, node: Mapping[str, Any], depth: int, refs: tuple[str, ...], shallow: bool) -> dict[str, Any]:
        props = node.get("properties") or {}
        required = [r for r in node.get("required") or [] if isinstance(r, str)]
        full = self.full and not shallow and depth < self.full_depth and self.budget > 0
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if full or name in required:
                out[name] = self.value(sub, depth + 1, refs)
        for name in required:
            if name not in out:
                out[name] = self.words()
        extra = node.get("additionalProperties")
        if not props and isinstance(extra, Mapping) and extra and full:
            for i in range(2):
                out[f"{self.rng.choice(_WORDS)}_{i + 1}"] = self.value(extra, depth + 1, refs)
        return out


def generate_instance(schema: Mapping[str, Any], seed: int = 0, *, full: bool = True, n_items: int | None = None,
                      string_words: int | None = None) -> Any:
    """One instance of ``schema``: all optional properties when ``full``, else required ones only;
    top-level arrays get ``n_items`` items; strings ``string_words`` words (deterministic per seed)."""
    gen = _Generator(schema, seed, full, int(n_items if n_items is not None else _GEN["default_items"]),
                     int(string_words if string_words is not None else _GEN["string_words"]),
                     int(_GEN["max_depth"]), int(_GEN["full_depth"]))
    return gen.value(schema, 0)


def representative_instances(schema: Mapping[str, Any], n_items: int = 5) -> list[Any]:
    """The instances ``auto`` measures: two with every field, one with required fields only."""
    return [generate_instance(schema, 0, full=True, n_items=n_items),
            generate_instance(schema, 1, full=True, n_items=n_items),
            generate_instance(schema, 2, full=False, n_items=n_items)]
