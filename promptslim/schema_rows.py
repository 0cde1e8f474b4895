"""Whole delimited answers: lines to rows (or one record), with prose, header and fence tolerance.

Flat records are decoded a column at a time, the fast path behind ``parse`` on many rows: rows are split, transposed, and each column is decoded in bulk: numbers, booleans and nulls through
one ``json.loads`` of the whole column, quoted texts through one ``json.loads`` of all of them.
Anything unusual (a wrong field count, a value of a type the column does not allow, a malformed
token) returns None, and the row-by-row decoder runs instead and reports the line, row and field.
Both paths give the same values: the fast one is only taken when it provably agrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import repeat
from typing import Any

from .errors import InputError, ParseError
from .schema_delimited import ABSENT, DelimitedCodec, RowError, split_fields
from .schema_layout import Layout, Slot

__all__ = ["decode_flat_rows", "DelimitedFormat"]

_PY_TYPES = {"null": (type(None),), "boolean": (bool,), "integer": (int, float), "number": (int, float)}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_array(tokens: list[str]) -> list[Any] | None:
    """``json.loads`` of the tokens as one array; None unless it yields exactly one value per token."""
    try:
        values = json.loads("[" + ",".join(tokens) + "]", parse_constant=_no_constants)
    except ValueError:
        return None
    return values if len(values) == len(tokens) else None


def _strings(slot: Slot, s: list[str], col: tuple[str, ...], dec: Callable[[str], Any], quotes: bool) -> list[Any]:
    """A text column (``null`` allowed when the slot allows it): raw texts as they are, quoted ones
    through one ``json.loads``."""
    empty = "" if slot.empty_ok else ABSENT
    if "null" in slot.kinds:
        out = [None if t == "null" else t if t else empty for t in s]
    else:
        out = [t if t else empty for t in s]
    quoted = [i for i, t in enumerate(s) if t[:1] == '"'] if quotes else []
    if quoted:
        values = _json_array([s[i] for i in quoted])
        if values is None or not all(type(v) is str for v in values):
            for i in quoted:
                out[i] = dec(col[i])
        else:
            for i, v in zip(quoted, values):
                out[i] = v
    return out


def _string_lists(slot: Slot, s: list[str], col: tuple[str, ...], dec: Callable[[str], Any],
                  strip: bool) -> list[Any]:
    """A column of comma-separated text lists with no quoting or JSON in it."""
    empty: Any = [] if slot.empty_ok else ABSENT
    if strip:
        return [empty if not t else [] if t == "[]" else [x.strip(" \t") for x in t.split(",")] for t in s]
    return [empty if not t else [] if t == "[]" else t.split(",") for t in s]


_TEXT_KINDS = (frozenset({"string"}), frozenset({"string", "null"}))


def _column(slot: Slot, col: tuple[str, ...], dec: Callable[[str], Any], ws: str, strip: bool) -> list[Any]:
    kinds = slot.kinds
    if slot.json:
        return list(map(dec, col))
    s = [t.strip(ws) for t in col] if strip else list(col)
    if slot.array:
        joined = "\x00".join(s)
        if kinds == _TEXT_KINDS[0] and not slot.nullable and '"' not in joined \
                and joined.count("[") == joined.count("[]"):
            spaced = strip or any(p in joined for p in (", ", " ,", ",\t", "\t,"))
            return _string_lists(slot, s, col, dec, spaced)
        return list(map(dec, col))
    if kinds in _TEXT_KINDS:
        return _strings(slot, s, col, dec, strip)
    if "string" in kinds:
        return list(map(dec, col))
    nullable = "null" in kinds
    if not nullable:
        if "null" in s:  # an error the row decoder reports
            return list(map(dec, col))
        s = [t or "null" for t in s]  # absent values: read as null here, marked absent below
    elif not all(s):
        return list(map(dec, col))
    values = _json_array(s)
    allowed = {t for k in kinds for t in _PY_TYPES.get(k, ())}
    if nullable is False:
        allowed.add(type(None))
    if values is None or not set(map(type, values)) <= allowed:
        return list(map(dec, col))
    if not nullable:
        values = [ABSENT if v is None else v for v in values]
    return values


def _needs_strip(text: str, sep: str, ws: str) -> bool:
    """Whether any field of ``text`` (lines joined by newlines) may have surrounding blanks: a few
    substring scans instead of a strip per field."""
    framed = f"\n{text}\n"
    return any(f"{c}{sep}" in framed or f"{sep}{c}" in framed or f"\n{c}" in framed or f"{c}\n" in framed
               for c in ws)


def decode_flat_rows(codec: DelimitedCodec, lines: list[str]) -> list[dict[str, Any]] | None:
    """The rows of ``lines`` for a flat layout (no nested objects), or None to take the slow path."""
    keys = codec.flat_keys
    if keys is None:
        return None
    sep, ws, n = codec.sep, codec.ws, len(keys)
    if not lines:
        return []
    text = "\n".join(lines)
    quotes = '"' in text
    rows = [line.split(sep) if not quotes or '"' not in line else split_fields(line, sep, ws, n) for line in lines]
    if set(map(len, rows)) != {n}:
        return None
    strip = quotes or _needs_strip(text, sep, ws)
    try:
        cols = [_column(slot, col, dec, ws, strip)
                for slot, col, dec in zip(codec.layout.slots, zip(*rows), codec.decoders)]
    except ValueError:  # a field error: let the row decoder say where
        return None
    dicts = list(map(dict, map(zip, repeat(keys), zip(*cols))))
    for key, values in zip(keys, cols):
        if ABSENT in values:
            for d, v in zip(dicts, values):
                if v is ABSENT:
                    del d[key]
    return dicts


def _lines(text: str) -> list[tuple[int, str]]:
    """Non-blank ``(line_number, line)`` pairs, CR stripped; split on ``\\n`` only (never on U+2028)."""
    out = []
    for no, line in enumerate(text.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip(" \t"):
            out.append((no, line))
    return out


class DelimitedFormat:
    """Whole answers in the delimited format: rows, a wrapped list of rows, or a single record."""

    name = "delimited"

    def __init__(self, layout: Layout, delimiter: str = "|") -> None:
        from .schema_union import UnionCodec

        self.layout = layout
        self.codec: Any = UnionCodec(layout, delimiter) if layout.variants else DelimitedCodec(layout, delimiter)

    def encode(self, data: Any) -> str:
        """The answer text for ``data`` (already validated against the schema)."""
        kind, codec = self.layout.kind, self.codec
        if kind == "record":
            return codec.encode_row(data)
        rows = data
        if kind == "wrapped":
            if not isinstance(data, dict) or set(data) != {self.layout.wrapper}:
                raise InputError(f"expected an object with the single key {self.layout.wrapper!r}")
            rows = data[self.layout.wrapper]
        if not isinstance(rows, list):
            raise InputError(f"expected a list of rows, got {type(rows).__name__}")
        return "\n".join(codec.encode_row(r) for r in rows)

    def decode(self, text: str, first_line: int = 1) -> Any:
        """Answer text back to data. ``first_line`` numbers the lines of ``text`` in error messages."""
        codec = self.codec
        sep = codec.sep
        if self.layout.kind != "record" and codec.flat_keys is not None:
            raw = text.split("\n")
            if "\r" in text:
                raw = [line[:-1] if line.endswith("\r") else line for line in raw]
            plain = ([line for line in raw if line] if len(self.layout.slots) > 1  # blank: wrong field count
                     else [line for line in raw if line.strip(" \t")])
            if len(self.layout.slots) > 1:
                while plain and sep not in plain[0]:
                    plain.pop(0)
                while plain and sep not in plain[-1]:
                    plain.pop()
                if plain and _norm(plain[0], sep) == _norm(codec.header, sep):
                    plain.pop(0)
            fast = decode_flat_rows(codec, plain)
            if fast is not None:
                return {self.layout.wrapper: fast} if self.layout.kind == "wrapped" else fast
        lines = self._trim(_lines(text))  # the row-by-row path, with line numbers for errors
        offset = first_line - 1
        if self.layout.kind == "record":
            if not lines:
                raise ParseError("no record line found", line=first_line)
            if len(lines) > 1:
                raise ParseError(f"expected one record line, found {len(lines)}", line=lines[1][0] + offset)
            return self._row(lines[0], 1, offset)
        rows = [self._row(item, i, offset) for i, item in enumerate(lines, 1)]
        return {self.layout.wrapper: rows} if self.layout.kind == "wrapped" else rows

    def _row(self, item: tuple[int, str], row: int, offset: int) -> Any:
        no, line = item
        try:
            return self.codec.decode_row(line)
        except RowError as exc:
            raise ParseError(exc.message, line=no + offset, row=row if self.layout.kind != "record" else None,
                             field=exc.field) from None

    def line_of_row(self, text: str, row: int) -> int | None:
        """The line number holding record ``row`` (1-based) after the same prose and header skipping."""
        lines = self._trim(_lines(text))
        return lines[row - 1][0] if 0 < row <= len(lines) else None

    def _trim(self, lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Drop prose lines before and after the records, and a header row the model added anyway."""
        codec = self.codec
        lo, hi = 0, len(lines)
        while lo < hi and not codec.is_row(lines[lo][1]):
            lo += 1
        while hi > lo and not codec.is_row(lines[hi - 1][1]):
            hi -= 1
        lines = lines[lo:hi]
        if lines and codec.header and len(self.layout.slots) > 1 \
                and _norm(lines[0][1], codec.sep) == _norm(codec.header, codec.sep):
            lines = lines[1:]
        return lines


def _norm(line: str, sep: str) -> str:
    return sep.join(p.strip() for p in line.split(sep))
