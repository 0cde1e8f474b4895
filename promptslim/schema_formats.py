"""The ``toon`` and ``json-min`` answer formats, and pulling the answer out of a model's reply.

TOON (through the ``toon-format`` package) writes integral floats as integers (``1.0`` -> ``1``,
``-0.0`` -> ``0``) as its spec says; here they are written as ``1.0`` / ``-0.0`` instead, which every
TOON decoder reads back as floats, so the round trip stays type-exact. Every encode is checked by
decoding it again: a value that would not come back unchanged raises instead of being sent lossy.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ParseError, PromptslimError

__all__ = ["extract_answer", "JsonMinFormat", "ToonFormat", "same_value"]

_FENCE = re.compile(r"^(```+|~~~+)[^\n]*$", re.M)  # column 0 only: TOON rows are indented
_TOON_KEY = re.compile(r'^(?:"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*)?(?:\[[^\]]*\])?(?:\{.*\})?:(?:\s|$)')


def same_value(a: Any, b: Any) -> bool:
    """Type-strict equality over JSON values: ``1 != 1.0 != True``; dict key order ignored."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def extract_answer(text: str) -> tuple[str, int]:
    """The answer inside the first code fence of ``text`` (or all of it) and its first line number."""
    if not isinstance(text, str):
        raise ParseError(f"expected the model's answer as text, got {type(text).__name__}")
    m = _FENCE.search(text)
    if m is None:
        return text, 1
    start = m.end() + 1
    first_line = text.count("\n", 0, start) + 1
    fence = m.group(1)
    close = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M).search(text, start)
    body = text[start:close.start()] if close else text[start:]
    return body, first_line


class JsonMinFormat:
    """Minified JSON; decoding skips prose before the first ``{``/``[`` and after the value."""

    name = "json-min"

    def encode(self, data: Any) -> str:
        """``data`` as JSON without spaces (non-ASCII kept as is: fewer tokens)."""
        try:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PromptslimError(f"value is not JSON data: {exc}") from None

    def decode(self, text: str, first_line: int = 1) -> Any:
        """JSON text (possibly inside prose) back to data."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            error = exc
        dec = json.JSONDecoder()
        best: tuple[int, Any] | None = None
        first_error: json.JSONDecodeError | None = None
        for m in re.finditer(r"[\[{]", text):  # the longest JSON value inside the prose
            try:
                value, end = dec.raw_decode(text, m.start())
            except json.JSONDecodeError as exc:
                first_error = first_error or exc
                continue
            if best is None or end - m.start() > best[0]:
                best = (end - m.start(), value)
        if best is not None:
            return best[1]
        error = first_error or error
        raise ParseError(f"not valid JSON: {error.msg} (column {error.colno})", line=error.lineno + first_line - 1)


class ToonFormat:
    """TOON via ``toon-format``, type-exact for integral floats, checked on every encode."""

    name = "toon"

    def __init__(self, delimiter: str = ",") -> None:
        self.delimiter = delimiter

    def encode(self, data: Any) -> str:
        """``data`` as a TOON document; raises if the document would not decode to ``data``."""
        import toon_format

        marker = _free_marker(data)
        floats: list[float] = []
        prepared = _mark_floats(data, marker, floats)
        try:
            text = toon_format.dumps(prepared, delimiter=self.delimiter)
        except (TypeError, ValueError) as exc:
            raise PromptslimError(f"value cannot be written as TOON: {exc}") from None
        esc = f"\\u{ord(marker):04x}"
        for i, f in enumerate(floats):
            text = text.replace(f'"{esc}{i}{esc}"', repr(f), 1)
        back = toon_format.loads(text)
        if not same_value(back, data):
            raise PromptslimError("TOON round trip would change this value; use json-min for it")
        return text

    def decode(self, text: str, first_line: int = 1) -> Any:
        """A TOON document back to data; if it does not decode as a whole, leading and trailing
        prose lines are skipped and it is tried again."""
        import toon_format

        try:
            return toon_format.loads(text, strict=False)
        except toon_format.ToonDecodeError as exc:
            error, start = exc, 0
        lines = text.split("\n")
        lo, hi = 0, len(lines)
        while lo < hi and not _toon_line(lines[lo], first=True):
            lo += 1
        while hi > lo and not lines[hi - 1].startswith((" ", "\t")) and not _toon_line(lines[hi - 1]):
            hi -= 1
        if (lo, hi) != (0, len(lines)) and lo < hi:
            try:
                return toon_format.loads("\n".join(lines[lo:hi]), strict=False)
            except toon_format.ToonDecodeError as exc:
                error, start = exc, lo
        line = error.line + start + first_line - 1 if error.line is not None else None
        raise ParseError(f"not valid TOON: {error.msg}", line=line)


def _toon_line(line: str, first: bool = False) -> bool:
    s = line.rstrip()
    if not s:
        return False
    if s.startswith("- ") and not first:
        return True
    return bool(_TOON_KEY.match(s)) or (not first and line[:1] in (" ", "\t"))


def _free_marker(data: Any) -> str:
    """A control character that occurs in no string of ``data`` (keys included)."""
    seen: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            seen.update(c for c in v if c < "\x09")
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(data)
    for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08":
        if c not in seen:
            return c
    raise PromptslimError("strings use every marker character; use json-min for this value")


def _mark_floats(value: Any, marker: str, floats: list[float]) -> Any:
    if type(value) is float and (value.is_integer() or value == 0.0):
        floats.append(value)
        return f"{marker}{len(floats) - 1}{marker}"
    if isinstance(value, dict):
        return {k: _mark_floats(v, marker, floats) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_floats(v, marker, floats) for v in value]
    return value
