"""Render kept chunks into the context string that goes into the prompt.

The same template and separator are used by :func:`select_chunks` to count the budget, so the
budget is exactly the tokens of ``format_context(result.value, template, separator)``.

Template fields: ``{text}``, ``{title}``, ``{id}``, ``{n}`` (1-based position in the context),
``{index}`` (position in the input list), ``{score}`` and ``{metadata[key]}``. A template line whose
fields all render empty is left out, so the default ``"{title}\\n{text}"`` renders just the text
for a chunk without a title.

>>> format_context(["alpha", {"text": "beta", "title": "B"}])
'alpha\\n\\nB\\nbeta'
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ..errors import InputError
from ..tokens import Tokenizer
from ._chunks import Chunk, ChunkInput, read_chunk

__all__ = ["format_context", "render_chunk", "DEFAULT_TEMPLATE", "DEFAULT_SEPARATOR", "check_template",
           "context_tokens"]

DEFAULT_TEMPLATE = "{title}\n{text}"
DEFAULT_SEPARATOR = "\n\n"
_FIELDS = frozenset({"text", "title", "id", "n", "index", "score", "metadata"})
_formatter = string.Formatter()

# A parsed line: literal pieces and fields as (literal, field_name or None, spec, conversion)
_Line = tuple[tuple[str, str | None, str, str | None], ...]


@lru_cache(maxsize=64)
def _parse(template: str) -> tuple[_Line, ...]:
    lines = []
    for raw in template.split("\n"):
        try:
            parts = tuple((lit, name, spec or "", conv) for lit, name, spec, conv in _formatter.parse(raw))
        except ValueError as exc:
            raise InputError(f"bad context template {template!r}: {exc}") from None
        for _, name, _, _ in parts:
            if name is None:
                continue
            root = name.split("[", 1)[0].split(".", 1)[0]
            if root not in _FIELDS:
                raise InputError(
                    f"unknown field {{{name}}} in context template {template!r}; "
                    f"use {', '.join('{' + f + '}' for f in sorted(_FIELDS))}"
                )
        lines.append(parts)
    return tuple(lines)


def check_template(template: str) -> None:
    """Raise :class:`InputError` unless ``template`` is valid and contains ``{text}``."""
    if not isinstance(template, str):
        raise InputError(f"template must be a string, got {type(template).__name__}")
    lines = _parse(template)
    if not any(name == "text" for line in lines for _, name, _, _ in line):
        raise InputError(f"context template {template!r} has no {{text}} field")


def render_chunk(chunk: Chunk, template: str = DEFAULT_TEMPLATE, n: int = 1) -> str:
    """One chunk rendered with ``template`` (``n`` is its 1-based position in the context)."""
    values: dict[str, Any] = {
        "text": chunk.text,
        "title": chunk.title or "",
        "id": chunk.id or "",
        "n": n,
        "index": chunk.index,
        "score": chunk.score,
        "metadata": chunk.metadata,
    }
    out_lines = []
    for line in _parse(template):
        pieces = []
        has_field = False
        all_empty = True
        for lit, name, spec, conv in line:
            pieces.append(lit)
            if name is None:
                continue
            has_field = True
            if name in values and not spec and conv is None:  # the common case, without Formatter
                obj = values[name]
                rendered = obj if isinstance(obj, str) else format(obj)
            else:
                try:
                    obj, _ = _formatter.get_field(name, (), values)
                except (KeyError, IndexError, AttributeError) as exc:
                    raise InputError(
                        f"chunks[{chunk.index}]: template field {{{name}}} is missing ({exc!r})"
                    ) from None
                rendered = _formatter.format_field(_formatter.convert_field(obj, conv), spec)
            if rendered:
                all_empty = False
            pieces.append(rendered)
        if has_field and all_empty:
            continue
        out_lines.append("".join(pieces))
    return "\n".join(out_lines)


def format_context(
    chunks: Sequence[Chunk | ChunkInput],
    template: str = DEFAULT_TEMPLATE,
    separator: str = DEFAULT_SEPARATOR,
) -> str:
    """The context string: each chunk rendered with ``template``, joined with ``separator``.

    Accepts the :class:`Chunk` records from :func:`select_chunks` (in their order) or raw chunks
    (strings, dicts, documents) to render an untrimmed context.
    """
    check_template(template)
    if not isinstance(separator, str):
        raise InputError(f"separator must be a string, got {type(separator).__name__}")
    parts = []
    for i, obj in enumerate(chunks):
        chunk = obj if isinstance(obj, Chunk) else read_chunk(obj, i)
        parts.append(render_chunk(chunk, template, i + 1))
    return separator.join(parts)


# Encodings whose pre-token pattern splits "...<newline>" + "<text>" exactly where the text starts when
# it starts with neither whitespace nor "/": every piece that can hold a newline ("\s*[\r\n]+",
# punctuation + "[\r\n/]*", whitespace runs) stops before such a character, no alternative looks
# behind, and the newline-ending whitespace alternative comes before the lookahead one. Byte-pair
# merges never cross pieces, so counts add up there. (r50k/p50k try "\s+(?!\S)" first: not additive.)
_ADDITIVE_ENCODINGS = frozenset({"o200k_base", "cl100k_base"})


def _additive(parts: Sequence[str], separator: str, tok: Tokenizer) -> bool:
    """True when ``count(separator.join(parts))`` is provably the sum of the per-part counts."""
    if tok.name not in _ADDITIVE_ENCODINGS or tok.factor != 1.0:
        return False
    if not separator or separator[-1] not in "\r\n":
        return False
    return all(p and not p[0].isspace() and p[0] != "/" for p in parts[1:])


def context_tokens(parts: Sequence[str], separator: str, tok: Tokenizer, costs: bool = True
                   ) -> tuple[int, list[int]]:
    """Exact tokens of ``separator.join(parts)`` and each part's cost (its tokens with the separator
    that follows it; the last part alone).

    Each part is counted once; the total is their sum when the tokenizer's pre-token pattern proves
    it exact (see ``_ADDITIVE_ENCODINGS``), otherwise the joined text is counted as well. Without
    ``costs`` (not needed), a non-additive context is counted once and the list is empty.
    """
    count = tok.count
    additive = _additive(parts, separator, tok)
    if not costs and not additive:
        return count(separator.join(parts)), []
    last = len(parts) - 1
    each = [count(p + separator) if i < last else count(p) for i, p in enumerate(parts)]
    return (sum(each) if additive else count(separator.join(parts))), each
