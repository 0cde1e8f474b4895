"""Chat-message files (``{"messages": [...]}`` or a bare list, as JSON or YAML) as lintable segments.

JSON is parsed with the standard library's own scanner, its string hook wrapped so every string
value remembers where its literal sits in the file; YAML is composed with PyYAML, whose nodes carry
marks. Either way each message content becomes a :class:`Segment` whose characters map back to file
offsets, so findings land on the right line and fixes edit the file in place.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import PromptslimError
from .document import Segment

__all__ = ["NotMessagesError", "MalformedError", "json_segments", "yaml_segments"]


class NotMessagesError(PromptslimError):
    """The file parsed, but it does not hold chat messages; directory walks skip such files."""


class MalformedError(PromptslimError):
    """The file is not valid JSON/YAML; carries a 1-based line and column."""

    def __init__(self, message: str, line: int | None, col: int | None) -> None:
        self.line, self.col = line, col
        super().__init__(message)


class _PosStr(str):
    """A string value that knows the file offsets of its literal's contents (inside the quotes)."""

    raw_start: int
    raw_end: int


def _json_loads_with_positions(text: str) -> Any:
    decoder = json.JSONDecoder()
    plain = decoder.parse_string  # type: ignore[attr-defined]  # set by JSONDecoder.__init__

    def parse_string(s: str, end: int, strict: bool = True) -> tuple[str, int]:
        value, new_end = plain(s, end, strict)
        ps = _PosStr(value)
        ps.raw_start, ps.raw_end = end, new_end - 1
        return ps, new_end

    decoder.parse_string = parse_string  # type: ignore[attr-defined]
    # the pure-Python scanner looks parse_string up on the decoder, so string values get positions
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


def _json_offsets(raw: str, start: int, end: int) -> tuple[int, ...]:
    """File offset of each decoded character of the JSON string literal ``raw[start:end]``, plus the end."""
    offs: list[int] = []
    i = start
    while i < end:
        offs.append(i)
        if raw[i] != "\\":
            i += 1
            continue
        if raw[i + 1] != "u":
            i += 2
            continue
        code = int(raw[i + 2:i + 6], 16)
        i += 6
        # A surrogate pair is two escapes but one Python character.
        if 0xD800 <= code < 0xDC00 and raw.startswith("\\u", i) and 0xDC00 <= int(raw[i + 2:i + 6], 16) < 0xE000:
            i += 6
    offs.append(end)
    return tuple(offs)


def _json_encode(content: str) -> str:
    return json.dumps(content, ensure_ascii=False)[1:-1]


def _split_root(data: Any, what: str) -> tuple[Sequence[Any], Any]:
    if isinstance(data, Mapping) and isinstance(data.get("messages"), list):
        return data["messages"], data.get("tools")
    if isinstance(data, list) and data and all(isinstance(m, Mapping) and "role" in m for m in data):
        return data, None
    raise NotMessagesError(f"not a chat-messages {what} file (expected {{\"messages\": [...]}} or a list of "
                           "{role, content} objects)")


def json_segments(text: str) -> tuple[list[Segment], Sequence[Any], Any, tuple[int, ...]]:
    """Segments, plain messages, tools and each tool name's file offset, of a JSON chat-messages file."""
    try:
        data = _json_loads_with_positions(text)
    except json.JSONDecodeError as exc:
        raise MalformedError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise MalformedError("malformed JSON: nested too deeply", None, None) from None
    messages, tools = _split_root(data, "JSON")
    segments: list[Segment] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise NotMessagesError(f"messages[{i}] is {type(msg).__name__}, expected an object with 'role'")
        role = str(msg.get("role", ""))
        content = msg.get("content")
        parts: list[tuple[Any, str]] = []
        if isinstance(content, str):
            parts.append((content, f"messages[{i}].content"))
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    parts.append((part["text"], f"messages[{i}].content[{j}].text"))
        for value, loc in parts:
            if isinstance(value, _PosStr):
                segments.append(Segment(str(value), value.raw_start, _json_offsets(text, value.raw_start, value.raw_end),
                                        role, loc, encode=_json_encode))
    return segments, _plain(messages), _plain(tools), _json_tool_positions(tools)


def _json_tool_positions(tools: Any) -> tuple[int, ...]:
    """File offset of each tool's name literal (the opening quote); -1 where a tool has no name."""
    if not isinstance(tools, list):
        return ()
    out = []
    for tool in tools:
        name = _tool_name(tool)
        out.append(name.raw_start - 1 if isinstance(name, _PosStr) else -1)
    return tuple(out)


def _tool_name(tool: Any) -> Any:
    if not isinstance(tool, Mapping):
        return None
    fn = tool.get("function")
    if isinstance(fn, Mapping) and "name" in fn:
        return fn["name"]
    return tool.get("name")


def _plain(value: Any) -> Any:
    """Drop the position-carrying str subclass so data compares and serialises normally."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --- YAML -------------------------------------------------------------------------------------

def _yaml_offsets(value: str, raw: str, base: int) -> tuple[int, ...] | None:
    """Align a scalar's value with its raw text greedily; None if characters cannot be matched."""
    offs: list[int] = []
    j = 0
    for ch in value:
        k = raw.find(ch, j)
        if k < 0:
            return None
        offs.append(base + k)
        j = k + 1
    offs.append(base + j)
    return tuple(offs)


def _yaml_encoder(style: str | None) -> Any:
    def encode(content: str) -> str | None:
        if "\n" in content:
            return None
        if style == '"' and ('"' in content or "\\" in content):
            return None
        if style == "'" and "'" in content:
            return None
        if style is None and (": " in content or " #" in content or content.startswith(("-", "?", ":", "#"))):
            return None
        return content
    return encode


def yaml_segments(text: str) -> tuple[list[Segment], Sequence[Any], Any, tuple[int, ...]]:
    """Segments, plain messages, tools and each tool's file offset, of a YAML chat-messages file."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        raise MalformedError(f"malformed YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise MalformedError(f"malformed YAML: {exc}", None, None) from None
    messages, tools = _split_root(data, "YAML")
    seq = node
    tool_positions: tuple[int, ...] = ()
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == "messages":
                seq = v
            elif k.value == "tools" and isinstance(v, yaml.SequenceNode):
                tool_positions = tuple(t.start_mark.index for t in v.value)
    segments: list[Segment] = []
    for i, mnode in enumerate(getattr(seq, "value", [])):
        if not isinstance(mnode, yaml.MappingNode):
            raise NotMessagesError(f"messages[{i}] is not a mapping with 'role'")
        fields = {k.value: v for k, v in mnode.value}
        role_node = fields.get("role")
        role = role_node.value if isinstance(role_node, yaml.ScalarNode) else None
        content = fields.get("content")
        scalars: list[tuple[Any, str]] = []
        if isinstance(content, yaml.ScalarNode) and content.tag.endswith(":str"):
            scalars.append((content, f"messages[{i}].content"))
        elif isinstance(content, yaml.SequenceNode):
            for j, part in enumerate(content.value):
                if isinstance(part, yaml.MappingNode):
                    for k, v in part.value:
                        if k.value == "text" and isinstance(v, yaml.ScalarNode):
                            scalars.append((v, f"messages[{i}].content[{j}].text"))
        for snode, loc in scalars:
            value = messages[i]["content"] if loc.endswith(".content") else _part_text(messages[i], loc)
            if not isinstance(value, str):
                continue
            s, e = snode.start_mark.index, snode.end_mark.index
            offs = _yaml_offsets(value, text[s:e], s)
            if offs is None:  # cannot map characters: point every finding at the scalar's start
                offs = tuple([s] * (len(value) + 1))
            segments.append(Segment(value, s, offs, role, loc, encode=_yaml_encoder(snode.style),
                                    verbatim_only=True, verify=_yaml_verifier(i, loc)))
    return segments, messages, tools, tool_positions


def _yaml_verifier(index: int, loc: str) -> Any:
    """A check that an edited YAML file still parses and holds exactly the expected text at ``loc``."""
    def verify(new_text: str, expected: str) -> bool:
        import yaml

        try:
            data = yaml.load(new_text, Loader=yaml.SafeLoader)
            messages, _ = _split_root(data, "YAML")
            msg = messages[index]
            value = msg["content"] if loc.endswith(".content") else _part_text(msg, loc)
        except (yaml.YAMLError, NotMessagesError, LookupError, TypeError, ValueError):
            return False
        return bool(value == expected)
    return verify


def _part_text(message: Mapping[str, Any], loc: str) -> Any:
    j = int(loc.rsplit("[", 1)[1].split("]", 1)[0])
    part = message["content"][j]
    return part.get("text") if isinstance(part, Mapping) else None
