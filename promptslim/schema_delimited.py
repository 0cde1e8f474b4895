"""The ``delimited`` format: positional, header-free records, one per line (``pos|0.87|quality,delivery``).

Grammar of one line (delimiter ``|`` or tab; spaces around fields are ignored):

* a field is empty (the value is absent), a JSON string ``"..."`` (always text), a JSON array
  ``[...]`` (list slots) or any JSON value (fields held whole as JSON), or raw text up to the next
  delimiter;
* raw text is read by the slot's types in order null, boolean, number, text: ``null``, ``true``,
  ``12``, ``1.0`` and ``abc`` come back as ``None``, ``True``, ``12``, ``1.0`` and ``"abc"``;
* a list slot holds comma-separated raw items, ``[]`` for an empty list, or JSON for anything else.

The encoder writes raw text only when reading it back gives the same value, type for type; otherwise
it quotes in JSON. So ``decode(encode(x)) == x`` holds by construction for every valid instance.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from .errors import InputError, ParseError
from .schema_layout import Group, Layout, Slot

__all__ = ["DelimitedCodec", "ABSENT", "split_fields", "RowError"]

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DECODER = json.JSONDecoder()
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class _FieldError(ValueError):
    pass


class RowError(ParseError):
    """A row-level error before its line and row are known; ``message`` is the bare text."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.message = message


def _raw_scalar(text: str, kinds: frozenset[str]) -> Any:
    """Read an unquoted token by ``kinds`` (null, boolean, number, then string)."""
    if text == "null" and "null" in kinds:
        return None
    if "boolean" in kinds and (text == "true" or text == "false"):
        return text == "true"
    if ("number" in kinds or "integer" in kinds) and _NUMBER.fullmatch(text):
        return float(text) if ("." in text or "e" in text or "E" in text) else int(text)
    if "string" in kinds:
        return text
    if "number" in kinds or "integer" in kinds:  # lenient: +5, 1., .5 from a model
        try:
            value = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            pass
        else:
            if value == value and value not in (float("inf"), float("-inf")):
                return value
    raise _FieldError(f"expected {'|'.join(sorted(kinds))}, got {text!r}")


def _quoted(text: str, kinds: frozenset[str]) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        if "string" in kinds:
            return text  # a stray quote inside raw text
        raise _FieldError(f"bad quoted text {text!r}") from None
    if not isinstance(value, str):
        raise _FieldError(f"bad quoted text {text!r}")
    if "string" in kinds:
        return value
    return _raw_scalar(value, kinds)  # a model quoted a number or boolean


def _whole(part: str, ws: str) -> bool:
    """False when ``part`` starts a JSON string, array or object that does not end in it (so the
    separator that ended it was inside the JSON)."""
    q = part.strip(ws)
    if not q or q[0] not in '"[{':
        return True
    if q[0] == '"':
        return _JSON_STRING.fullmatch(q) is not None
    try:
        json.loads(q)
    except ValueError:
        return False
    return True


def split_fields(line: str, sep: str, ws: str, expect: int | None = None) -> list[str]:
    """Split ``line`` at ``sep``, keeping JSON strings, arrays and objects that contain ``sep`` whole.

    ``expect`` (the field count) lets a line that splits into more pieces skip the quick check.
    """
    parts = line.split(sep)
    if '"' not in line or ((expect is None or len(parts) == expect) and all(_whole(p, ws) for p in parts)):
        return parts
    quoted = _quoted_field(sep, ws)
    out: list[str] = []
    i, n = 0, len(line)
    while True:
        q = line.find('"', i)
        if q < 0:  # no quote left: the rest splits plainly
            out.extend(line[i:].split(sep))
            return out
        r = line.rfind(sep, i, q)
        if r >= 0:  # whole fields before the one holding the quote
            out.extend(line[i:r].split(sep))
            i = r + 1
        m = quoted.match(line, i)
        if m is not None:
            out.append(m.group(1))
            if m.group(2) is None:  # end of line
                return out
            i = m.end()
            continue
        j = i
        while j < n and line[j] in ws:
            j += 1
        if j < n and line[j] in "[{":
            try:
                end = _DECODER.raw_decode(line, j)[1]
            except ValueError:
                end = -1
            k = end
            while 0 < k < n and line[k] in ws:
                k += 1
            if end > 0 and k == n:
                out.append(line[j:end])
                return out
            if end > 0 and line[k] == sep:
                out.append(line[j:end])
                i = k + 1
                continue
        k = line.find(sep, i)
        if k < 0:
            out.append(line[i:])
            return out
        out.append(line[i:k])
        i = k + 1


@functools.cache
def _quoted_field(sep: str, ws: str) -> re.Pattern[str]:
    """A JSON string field: blanks, the string (group 1), blanks, then the separator (group 2) or the end."""
    blank = f"[{re.escape(ws)}]*"
    return re.compile(f"{blank}({_JSON_STRING.pattern}){blank}(?:({re.escape(sep)})|$)")


class DelimitedCodec:
    """Encoder and decoder for one layout and delimiter."""

    def __init__(self, layout: Layout, delimiter: str = "|") -> None:
        if delimiter not in ("|", "\t"):
            raise InputError(f"delimited format supports '|' or tab, not {delimiter!r}")
        self.layout = layout
        self.sep = delimiter
        self.ws = " " if delimiter == "\t" else " \t"
        self.header = delimiter.join(s.name for s in layout.slots)
        self.decoders: list[Callable[[str], Any]] = [self._slot_decoder(s) for s in layout.slots]
        self._n = len(layout.slots)
        flat = isinstance(layout.row, Group) and all(isinstance(c, Slot) for c in layout.row.children)
        self.flat_keys = [s.key for s in layout.slots] if flat else None

    def is_row(self, line: str) -> bool:
        """Whether ``line`` can be a record (prose lines before and after the records cannot)."""
        return self.sep in line if self._n > 1 else True

    # -- decoding ----------------------------------------------------------------------------
    def _slot_decoder(self, slot: Slot) -> Callable[[str], Any]:
        kinds, ws = slot.kinds, self.ws
        if slot.json:
            def dec_json(tok: str) -> Any:
                t = tok.strip(ws)
                if not t:
                    return ABSENT
                if t[0] in '"[{':
                    try:
                        return json.loads(t)
                    except json.JSONDecodeError:
                        raise _FieldError(f"bad JSON {t[:40]!r}") from None
                return _raw_scalar(t, kinds)
            return dec_json
        if slot.array:
            return lambda tok: self._decode_array(tok.strip(ws), slot)
        empty: Any = "" if slot.empty_ok and "string" in kinds else ABSENT
        if kinds == frozenset({"string"}):
            def dec_str(tok: str) -> Any:
                t = tok.strip(ws)
                if not t:
                    return empty
                return _quoted(t, kinds) if t[0] == '"' else t
            return dec_str

        def dec(tok: str) -> Any:
            t = tok.strip(ws)
            if not t:
                return empty
            return _quoted(t, kinds) if t[0] == '"' else _raw_scalar(t, kinds)
        return dec

    def _decode_array(self, t: str, slot: Slot) -> Any:
        if not t:
            return [] if slot.empty_ok else ABSENT
        if t == "null" and slot.nullable:
            return None
        if t[0] == "[":
            try:
                value = json.loads(t)
            except json.JSONDecodeError:
                t = t[1:-1] if t.endswith("]") else t[1:]  # lenient: [a, b] written without quotes
                if not t.strip():
                    return []
            else:
                if not isinstance(value, list):
                    raise _FieldError(f"expected a list, got {t!r}")
                return value
        items = split_fields(t, ",", " \t") if '"' in t else t.split(",")
        out = []
        for item in items:
            s = item.strip(" \t")
            if s and s[0] == '"':
                out.append(_quoted(s, slot.kinds))
            elif not s and "string" in slot.kinds:
                out.append("")
            else:
                out.append(_raw_scalar(s, slot.kinds))
        return out

    def decode_row(self, line: str) -> Any:
        """One line to a row value (dict or scalar); raises ParseError with the field name."""
        fields = line.split(self.sep) if '"' not in line else split_fields(line, self.sep, self.ws)
        n = self._n
        if len(fields) != n:
            if len(fields) > n and not any(f.strip(self.ws) for f in fields[n:]):
                fields = fields[:n]  # a trailing delimiter
            elif len(fields) < n and all(not s.required for s in self.layout.slots[len(fields):]):
                fields = fields + [""] * (n - len(fields))
            else:
                raise RowError(f"expected {n} fields ({self.header}), found {len(fields)}")
        values = []
        decoders = self.decoders
        for i in range(n):
            try:
                values.append(decoders[i](fields[i]))
            except _FieldError as exc:
                raise RowError(str(exc), field=self.layout.slots[i].name) from None
        keys = self.flat_keys
        if keys is not None:
            return {k: v for k, v in zip(keys, values) if v is not ABSENT}
        row = self.layout.row
        if isinstance(row, Slot):
            if values[0] is ABSENT:
                raise RowError("empty value", field=row.name)
            return values[0]
        return self._build(row, values, 0)[0]

    def _build(self, group: Group, values: list[Any], i: int) -> tuple[dict[str, Any], int, bool]:
        """The group's object, the next slot index, and whether any slot under it had a value.

        A child object is kept when something under it had a value or it is required (its parent is
        then known to be present); an optional object without values is absent.
        """
        obj: dict[str, Any] = {}
        present = False
        for child in group.children:
            if isinstance(child, Slot):
                value, i = values[i], i + 1
                if value is not ABSENT:
                    obj[child.key] = value
                    present = True
            else:
                sub, i, sub_present = self._build(child, values, i)
                present = present or sub_present
                if sub_present or child.required:
                    obj[child.key] = sub
        return obj, i, present

    # -- encoding ----------------------------------------------------------------------------
    def encode_row(self, value: Any) -> str:
        """One row value to a line; raises InputError for keys the layout has no slot for."""
        row = self.layout.row
        if isinstance(row, Slot):
            return self._encode_slot(row, value, 0)
        if not isinstance(value, dict):
            raise InputError(f"expected an object, got {type(value).__name__}")
        tokens: list[str] = []
        self._flatten(row, value, tokens)
        return self.sep.join(tokens)

    def _flatten(self, group: Group, obj: Any, tokens: list[str]) -> None:
        if obj is not ABSENT:
            if not isinstance(obj, dict):
                raise InputError(f"field {group.name!r}: expected an object, got {type(obj).__name__}")
            known = {c.key for c in group.children}
            extra = [k for k in obj if k not in known]
            if extra:
                where = f" in {group.name!r}" if group.name else ""
                raise InputError(f"key {extra[0]!r}{where} is not declared in the schema's properties; "
                                 "the delimited format holds declared fields only")
        for child in group.children:
            value = ABSENT if obj is ABSENT else obj.get(child.key, ABSENT)
            if isinstance(child, Slot):
                tokens.append(self._encode_slot(child, value, len(tokens)))
            else:
                self._flatten(child, value, tokens)

    def _encode_slot(self, slot: Slot, value: Any, index: int) -> str:
        if value is ABSENT:
            return ""
        dec = self.decoders[index]
        if slot.json and isinstance(value, (list, dict)):
            return _json_text(value, slot)
        if slot.array and isinstance(value, list):
            bare = ",".join(self._raw_item(v, slot) or "\x00" for v in value) if value else "[]"
            if "\x00" not in bare and self.sep not in bare and "\n" not in bare and "\r" not in bare:
                if _same(self._try(dec, bare), value):
                    return bare
            return _json_text(value, slot)
        raw = self._raw_item(value, slot, in_list=False)
        if raw is not None and self.sep not in raw and _same(self._try(dec, raw), value):
            return raw
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        raise InputError(f"field {slot.name!r}: value {value!r} does not fit types {sorted(slot.kinds)}")

    def _raw_item(self, value: Any, slot: Slot, in_list: bool = True) -> str | None:
        if value is None:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise InputError(f"field {slot.name!r}: {value!r} is not a JSON number")
            return repr(value)
        if isinstance(value, str):
            if (not value and in_list) or "\n" in value or "\r" in value:
                return None
            if value and (value[0] in '"[{' or value[0] in " \t" or value[-1] in " \t"):
                return None
            if value.startswith(("```", "~~~")):  # would read as a code fence at the start of a line
                return None
            if in_list and ("," in value or self.sep in value):
                return None
            return value
        return None

    @staticmethod
    def _try(dec: Callable[[str], Any], text: str) -> Any:
        try:
            return dec(text)
        except (_FieldError, ParseError):
            return ABSENT


def _json_text(value: Any, slot: Slot) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"field {slot.name!r}: not JSON data ({exc})") from None


def _same(a: Any, b: Any) -> bool:
    """Type-strict equality (1 != 1.0 != True) over JSON values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)
