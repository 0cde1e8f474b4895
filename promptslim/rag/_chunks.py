"""The kept-chunk record and the adapters that read retrieved chunks of any common shape.

Retrievers hand back plain strings, dicts (``text`` or ``page_content``), LangChain ``Document``
objects (``.page_content``, ``.metadata``, ``.id``) or LlamaIndex ``NodeWithScore`` objects
(``.node.text``/``.get_content()``, ``.node.node_id``, ``.score``). We duck-type all of them, so
neither framework is imported, and carry ids, titles and metadata through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["Chunk", "ChunkInput", "read_chunk", "read_chunks"]

_TEXT_KEYS = ("text", "page_content", "content")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk as it goes into the prompt.

    ``text`` is the text that is sent (the whole chunk, or its kept sentences when trimmed);
    ``sentences`` are those kept sentences, each verbatim at ``spans`` (character ranges) of the
    original chunk text; ``index`` is the chunk's position in the input list and ``source`` the
    object the caller passed in. ``score`` is the ranker's relevance score (higher is better; its
    scale depends on the ranker) and ``rank`` its 0-based place in relevance order.
    """

    text: str
    id: str | None = None
    title: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    score: float = 0.0
    sentences: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    index: int = 0
    rank: int = 0
    trimmed: bool = False
    source: Any = None

    @property
    def original_text(self) -> str:
        """The full text the chunk had on input (before any sentence trimming)."""
        return read_chunk(self.source, self.index).text if self.source is not None else self.text


ChunkInput = Any  # str | Mapping | Document-like | NodeWithScore-like | Chunk


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _title_from(metadata: Mapping[str, Any]) -> str | None:
    for key in ("title", "Title"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _no_text(index: int, obj: Any) -> InputError:
    return InputError(
        f"chunks[{index}]: no text ({type(obj).__name__}); expected a string, a dict with 'text' or "
        "'page_content', or an object with .text, .page_content or .node"
    )


def read_chunk(obj: ChunkInput, index: int) -> Chunk:
    """A :class:`Chunk` for one input item (full text, no score yet); errors name ``chunks[index]``."""
    if isinstance(obj, str):
        return Chunk(text=obj, index=index, source=obj)
    if isinstance(obj, Chunk):
        src = obj.source if obj.source is not None else obj
        return Chunk(text=obj.text, id=obj.id, title=obj.title, metadata=obj.metadata, index=index, source=src)
    if isinstance(obj, Mapping):
        text = next((obj[k] for k in _TEXT_KEYS if isinstance(obj.get(k), str)), None)
        if text is None:
            raise _no_text(index, obj)
        raw_meta = obj.get("metadata")
        metadata: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
        title = _str_or_none(obj.get("title")) or _title_from(metadata)
        ident = _str_or_none(obj.get("id", obj.get("doc_id", metadata.get("id"))))
        return Chunk(text=text, id=ident, title=title, metadata=metadata, index=index, source=obj)
    node = getattr(obj, "node", None)
    if node is not None and not isinstance(obj, str):  # LlamaIndex NodeWithScore
        inner = read_chunk(node, index)
        return Chunk(text=inner.text, id=inner.id, title=inner.title, metadata=inner.metadata, index=index,
                     source=obj)
    text = None
    for attr in ("page_content", "text"):
        value = getattr(obj, attr, None)
        if isinstance(value, str):
            text = value
            break
    if text is None and callable(getattr(obj, "get_content", None)):
        value = obj.get_content()
        text = value if isinstance(value, str) else None
    if text is None:
        raise _no_text(index, obj)
    raw_meta = getattr(obj, "metadata", None)
    metadata = raw_meta if isinstance(raw_meta, Mapping) else {}
    ident = None
    for attr in ("id", "node_id", "id_", "doc_id"):
        value = getattr(obj, attr, None)
        if value is not None and not callable(value):
            ident = _str_or_none(value)
            break
    title = _str_or_none(getattr(obj, "title", None)) or _title_from(metadata)
    return Chunk(text=text, id=ident, title=title, metadata=metadata, index=index, source=obj)


def read_chunks(chunks: Sequence[ChunkInput]) -> list[Chunk]:
    """Read every input item; a bare string or mapping passed instead of a list is an error."""
    if isinstance(chunks, (str, bytes, Mapping)):
        raise InputError(f"chunks must be a list of chunks, got a single {type(chunks).__name__}")
    return [read_chunk(obj, i) for i, obj in enumerate(chunks)]
