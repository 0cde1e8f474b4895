"""Compact output schemas: ask for structured answers in fewer output tokens, parse them back to
validated JSON.

Output tokens cost 2-8x input tokens, so the answer format is often the biggest lever on a bill.
:func:`compact_schema` renders a JSON Schema (or pydantic model class) as a TypeScript-like listing
plus exact answer rules for one format (``delimited``, ``toon`` or ``json-min``; ``auto`` measures
them), and the returned :class:`CompactSchema` parses answers back, validated with ``jsonschema``.

>>> cs = compact_schema({"type": "array", "items": {"type": "object", "properties": {
...     "aspect": {"type": "string"}, "score": {"type": "number"}}, "required": ["aspect", "score"]}})
>>> cs.format, cs.encode([{"aspect": "price", "score": 0.5}])
('delimited', 'price|0.5')
>>> cs.parse("Sure!\\n```\\nprice|0.5\\nspeed|1.0\\n```")
[{'aspect': 'price', 'score': 0.5}, {'aspect': 'speed', 'score': 1.0}]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InputError, ParseError, PromptslimError
from .result import Change, Result, Savings
from .schema_formats import JsonMinFormat, ToonFormat, extract_answer, same_value
from .schema_gen import generate_instance, representative_instances
from .schema_layout import Layout, Unsupported, analyze_layout
from .schema_norm import SCHEMA_DATA, deref, load_schema
from .schema_render import TypeRenderer, render_type
from .schema_rows import DelimitedFormat
from .schema_union import analyze_union
from .tokens import Tokenizer, get_tokenizer

__all__ = ["compact_schema", "CompactSchema", "OutputSavings", "FORMATS"]

FORMATS = ("auto", "delimited", "toon", "json-min")
_PREFERENCE = ("json-min", "toon", "delimited")  # tie-break: the format models know best first
_TEXT: dict[str, str] = SCHEMA_DATA["instructions"]
_DELIM_NAMES: dict[str, str] = SCHEMA_DATA["delimiters"]


@dataclass(frozen=True, slots=True)
class OutputSavings:
    """Tokens of one instance in the compact format against pretty (indent=2) and minified JSON."""

    format: str
    vs_pretty: Savings
    vs_minified: Savings

    def __str__(self) -> str:
        return (f"{self.format}: {self.vs_pretty.after} tokens; {self.vs_pretty.percent:.1f}% fewer than pretty "
                f"JSON ({self.vs_pretty.before}), {self.vs_minified.percent:.1f}% fewer than minified "
                f"({self.vs_minified.before})")


class CompactSchema:
    """A schema ready for prompts: ``instructions`` to paste, ``parse`` for answers, ``encode`` for
    few-shot examples, ``max_tokens`` for the request and ``savings`` for reports.

    ``format`` is the format actually used; ``changes`` say why (auto's measurements, fallbacks,
    normalized type names, keywords the listing skipped).
    """

    def __init__(self, schema: dict[str, Any], fmt: str, codec: Any, instructions: str, type_listing: str,
                 changes: tuple[Change, ...], tokenizer: Tokenizer, measured: Mapping[str, int],
                 layout: Layout | None) -> None:
        self.schema = schema
        self.format = fmt
        self.instructions = instructions
        self.type_listing = type_listing
        self.changes = changes
        self.tokenizer = tokenizer
        self.measured = dict(measured)
        self._codec = codec
        self._layout = layout
        self._validator: Any = None

    def __repr__(self) -> str:
        return f"CompactSchema(format={self.format!r}, instructions={self.tokenizer.count(self.instructions)} tokens)"

    # -- answers -----------------------------------------------------------------------------
    def parse(self, text: str, *, validate: bool = True) -> Any:
        """The model's answer as plain JSON data, validated against the schema.

        Tolerates a code fence and prose around the answer; raises :class:`ParseError` naming the
        line, row (1-based record number) and field of the first problem.
        """
        body, first_line = extract_answer(text)
        data = self._codec.decode(body, first_line)
        if validate:
            self._check(data, body, first_line, ParseError)
        return data

    def encode(self, data: Any, *, validate: bool = True) -> str:
        """``data`` in this format (for few-shot examples and tests); never lossy: the text is decoded
        again and must give back ``data`` exactly, else an error is raised."""
        if validate:
            self._check(data, None, 1, InputError)
        text = self._codec.encode(data)
        body, first_line = extract_answer(text)
        if not same_value(self._codec.decode(body, first_line), data):
            raise PromptslimError(f"{self.format} round trip would change this value (please report it)")
        return text

    def _check(self, data: Any, body: str | None, first_line: int, exc_type: type[Exception]) -> None:
        from jsonschema import exceptions
        from referencing.exceptions import Unresolvable

        if self._validator is None:
            from jsonschema import validators

            cls = validators.validator_for(self.schema, default=validators.Draft202012Validator)
            self._validator = cls(self.schema)
        try:
            error = exceptions.best_match(self._validator.iter_errors(data))
        except Unresolvable as exc:
            raise InputError(f"schema has a $ref that cannot be resolved offline: {exc}") from None
        if error is None:
            return
        path = list(error.absolute_path)
        row = None
        rest = path
        if path and isinstance(path[0], int):
            row, rest = path[0] + 1, path[1:]
        elif self._layout is not None and self._layout.kind == "wrapped" and len(path) > 1 \
                and isinstance(path[1], int):
            row, rest = path[1] + 1, path[2:]
        field = _dotted(rest) or None
        if exc_type is ParseError:
            line = None
            if isinstance(self._codec, DelimitedFormat) and body is not None:
                if row is not None:
                    found = self._codec.line_of_row(body, row)
                    line = found + first_line - 1 if found else None
                elif self._layout is not None and self._layout.kind == "record":
                    line = self._codec.line_of_row(body, 1)
                    line = line + first_line - 1 if line else None
            raise ParseError(f"does not match the schema: {error.message}", line=line, field=field, row=row)
        where = f" at {_dotted(path) or 'the top level'}"
        raise InputError(f"data does not match the schema{where}: {error.message}")

    # -- sizing ------------------------------------------------------------------------------
    def max_tokens(self, n_items: int | None = None, *, string_tokens: int = 4, margin: float = 0.25) -> int:
        """An output-length estimate for ``max_tokens``: a generated answer with every field filled,
        ``n_items`` records in the top-level list (inner lists up to 3), strings of about
        ``string_tokens`` tokens, plus ``margin`` (a share) and a few tokens for a code fence."""
        if n_items is not None and n_items < 0:
            raise InputError(f"n_items must be >= 0, got {n_items}")
        sample = generate_instance(self.schema, 0, full=True, n_items=n_items, string_words=string_tokens)
        try:
            text = self._codec.encode(sample)
        except PromptslimError:  # a generated sample the format cannot hold: size it as JSON
            text = JsonMinFormat().encode(sample)
        return math.ceil(self.tokenizer.count(text) * (1.0 + margin)) + 8

    def savings(self, data: Any) -> OutputSavings:
        """Tokens of ``data`` in this format against pretty JSON (indent=2) and minified JSON."""
        compact = self.tokenizer.count(self.encode(data))
        pretty = self.tokenizer.count(json.dumps(data, indent=2, ensure_ascii=False))
        minified = self.tokenizer.count(JsonMinFormat().encode(data))
        name = self.tokenizer.name
        return OutputSavings(self.format, Savings(pretty, compact, name), Savings(minified, compact, name))

    @property
    def result(self) -> Result[str]:
        """The instructions as a :class:`Result`: tokens against ``json.dumps(schema)``, and changes."""
        before = self.tokenizer.count(json.dumps(self.schema))
        after = self.tokenizer.count(self.instructions)
        return Result(self.instructions, Savings(before, after, self.tokenizer.name, self.tokenizer.exact),
                      self.changes)


def _dotted(path: list[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def compact_schema(schema: Any, format: str = "auto", *, delimiter: str = "|",
                   tokenizer: Tokenizer | str | None = None, descriptions: bool = True,
                   check_schema: bool = True) -> CompactSchema:
    """Build a :class:`CompactSchema` for ``schema`` (JSON Schema dict, JSON text or pydantic class).

    ``format`` is ``auto`` (cheapest supported format, measured in tokens on generated instances),
    ``delimited``, ``toon`` or ``json-min``. A format that cannot hold the schema losslessly falls
    back to ``json-min`` with a Change saying why. ``delimiter`` is ``|`` or a tab (delimited only).
    ``check_schema=False`` skips validating ``schema`` against its meta-schema (and importing
    jsonschema, ~70 ms): for callers that only want the instructions' size, such as the linter.
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if delimiter not in _DELIM_NAMES:
        raise InputError(f"delimiter must be '|' or a tab, not {delimiter!r}")
    tok = tokenizer if isinstance(tokenizer, Tokenizer) else get_tokenizer(tokenizer)
    norm, changes_in = load_schema(schema, check=check_schema)
    listing, render_changes = render_type(norm, descriptions=descriptions)
    changes: list[Change] = [*changes_in, *render_changes]

    layout: Layout | None = None
    codecs: dict[str, Any] = {"json-min": JsonMinFormat(), "toon": ToonFormat()}
    try:
        try:
            layout = analyze_layout(norm)
        except Unsupported as exc:
            try:
                layout = analyze_union(norm)  # a list of tagged items (tool calls, events)
            except Unsupported:
                raise exc from None
        codecs["delimited"] = DelimitedFormat(layout, delimiter)
    except Unsupported as exc:
        if format in ("delimited", "auto"):
            changes.append(Change("fallback", "delimited-unsupported", exc.where, before="delimited",
                                  after="json-min" if format == "delimited" else "",
                                  reason=f"delimited cannot hold this schema: {exc.reason}"))
    measured: dict[str, int] = {}
    if format == "auto":
        fmt, measured = _choose(norm, codecs, tok, changes)
    elif format in codecs:
        fmt = format
    else:
        fmt = "json-min"
    if fmt == "delimited" and layout is not None:
        changes.extend(Change("layout", "json-field", where, before=field, reason=f"delimited holds this field "
                              f"as one JSON value: {why}") for where, why, field in layout.notes)
    codec = codecs[fmt]
    instructions = _instructions(norm, fmt, listing, layout, delimiter, descriptions)
    return CompactSchema(norm, fmt, codec, instructions, listing, tuple(changes), tok, measured,
                         layout if fmt == "delimited" else None)


def _choose(schema: dict[str, Any], codecs: dict[str, Any], tok: Tokenizer,
            changes: list[Change]) -> tuple[str, dict[str, int]]:
    samples = representative_instances(schema)
    measured: dict[str, int] = {}
    for name in _PREFERENCE:
        codec = codecs.get(name)
        if codec is None:
            continue
        try:
            texts = [codec.encode(s) for s in samples]
            if not all(same_value(codec.decode(*extract_answer(t)), s) for t, s in zip(texts, samples)):
                raise PromptslimError("round trip changed a sample")
        except (PromptslimError, InputError) as exc:
            changes.append(Change("fallback", f"{name}-unsupported", "#", before=name,
                                  reason=f"{name} could not hold a representative instance: {exc}"))
            continue
        measured[name] = sum(tok.count_many(texts))
    if not measured:  # no format held the generated samples (they may not be valid): plain JSON
        changes.append(Change("format", "auto", "#", after="json-min", reason="no format could be measured"))
        return "json-min", measured
    best = min(measured, key=lambda n: (measured[n], _PREFERENCE.index(n)))
    detail = ", ".join(f"{n} {t}" for n, t in sorted(measured.items(), key=lambda kv: kv[1]))
    changes.append(Change("format", "auto", "#", after=best,
                          reason=f"tokens on {len(samples)} generated instances: {detail}"))
    return best, measured


def _instructions(schema: dict[str, Any], fmt: str, listing: str, layout: Layout | None, delimiter: str,
                  descriptions: bool) -> str:
    name = TypeRenderer(schema).root_name()
    if fmt == "json-min":
        return _TEXT["json_min"].format(name=name, type=listing)
    if fmt == "toon":
        text = _TEXT["toon"].format(name=name, type=listing)
        head = _toon_table_head(schema)
        return f"{text}\n{_TEXT['toon_table'].format(head=head)}" if head else text
    assert layout is not None
    return _delimited_instructions(schema, layout, delimiter, descriptions)


def _toon_table_head(schema: dict[str, Any]) -> str:
    """``items[N]{a,b}`` when the answer is (or wraps) a list of objects, for the TOON hint."""
    node, _ = deref(schema, schema)
    key = ""
    if isinstance(node, Mapping) and node.get("type") == "object":
        props = node.get("properties") or {}
        if len(props) != 1:
            return ""
        key, node = next(iter(props.items()))
        node, _ = deref(schema, node)
    if not isinstance(node, Mapping) or node.get("type") != "array":
        return ""
    items, _ = deref(schema, node.get("items"))
    if not isinstance(items, Mapping) or not isinstance(items.get("properties"), Mapping):
        return ""
    for sub in items["properties"].values():  # TOON tables hold scalar fields only
        sub, _ = deref(schema, sub)
        t = sub.get("type") if isinstance(sub, Mapping) else None
        if not isinstance(sub, Mapping) or t in ("object", "array") or "properties" in sub or "items" in sub:
            return ""
    fields = ",".join(items["properties"])
    return f"{key}[N]{{{fields}}}"


def _delimited_instructions(schema: dict[str, Any], layout: Layout, delimiter: str, descriptions: bool) -> str:
    renderer = TypeRenderer(schema, descriptions=descriptions)
    delim_name = _DELIM_NAMES[delimiter]
    key = "delimited_record" if layout.kind == "record" else "delimited_rows"
    lines = [_TEXT[key].format(delim_name=delim_name)]
    about: list[str] = []
    wrapper = (schema.get("properties") or {}).get(layout.wrapper) if layout.wrapper else None
    for node in (schema, deref(schema, wrapper)[0] if wrapper else None, layout.row_node):
        desc = node.get("description") if isinstance(node, Mapping) else None
        if descriptions and isinstance(desc, str) and desc.strip() and " ".join(desc.split()) not in about:
            about.append(" ".join(desc.split()))
    lines += [f"// {a}" for a in about]
    if layout.variants:
        lines[0] = _TEXT["delimited_union"].format(delim_name=delim_name, tag=layout.tag_key)
        for v in layout.variants:
            desc = v.node.get("description") if descriptions else None
            lines.append(f"{layout.tag_key} {v.tag}:" + (f" // {' '.join(desc.split())}" if isinstance(desc, str)
                                                          and desc.strip() else ""))
            lines += ["  " + _field_line(renderer, slot) for slot in v.layout.slots]
    else:
        lines += [_field_line(renderer, slot) for slot in layout.slots]
    lines += renderer.definitions(skip_root=False)  # named types the field lines refer to
    slots = layout.slots
    rules = []
    if any(not s.required for s in slots):
        rules.append(_TEXT["rule_absent"])
    if any(("null" in s.kinds or s.nullable) and not s.json for s in slots):
        rules.append(_TEXT["rule_null"])
    if any(s.array for s in slots):
        rules.append(_TEXT["rule_list"].format(delim_char=delim_name))
    if any(s.json for s in slots):
        rules.append(_TEXT["rule_json"])
    if any("string" in s.kinds for s in slots):
        mixed = any("string" in s.kinds and (len(s.kinds) > 1 or s.json) for s in slots)
        rules.append(_TEXT["rule_quote"].format(delim_char=delim_name,
                                                ambiguous=_TEXT["rule_quote_ambiguous"] if mixed else ""))
    if any("." in s.name for s in slots):
        rules.append(_TEXT["rule_nested"])
    if rules:
        lines.append(" ".join(rules))
    return "\n".join(lines)


def _field_line(renderer: TypeRenderer, slot: Any) -> str:
    """``name?: type = default // description`` for one positional field."""
    opt = "" if slot.required else "?"
    return (f"{slot.name}{opt}: {renderer.expr(slot.node, 0, slot.pointer)}"
            f"{renderer.tail(slot.node, slot.pointer, slot.key or None)}")
