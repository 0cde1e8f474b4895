"""Safe file input and atomic output shared by every command that reads or rewrites prompt files.

Reading reports invalid UTF-8 with its byte offset and detects binary files; writing goes through a
temporary file and ``os.replace`` so a crash never leaves a half-written prompt, and keeps the mode.
"""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = ["DEFAULT_MAX_BYTES", "TextFile", "read_text", "iter_text_chunks", "atomic_write_text", "is_binary"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_SNIFF = 8192


class BinaryFileError(InputError):
    """The file looks binary (a NUL byte in its first 8 KiB)."""


@dataclass(frozen=True, slots=True)
class TextFile:
    """A decoded text file and how to write it back the same way (line endings, BOM)."""

    path: Path
    text: str
    newline: str
    bom: bool


def is_binary(head: bytes) -> bool:
    """True if ``head`` (the first bytes of a file) contains a NUL byte, git's heuristic."""
    return b"\x00" in head[:_SNIFF]


def _decode_error(path: os.PathLike[str] | str, exc: UnicodeDecodeError, base: int) -> InputError:
    offset = base + exc.start
    return InputError(f"{path}: invalid UTF-8 at byte offset {offset} ({exc.reason}); re-save the file as UTF-8")


def read_text(path: str | os.PathLike[str], max_bytes: int | None = DEFAULT_MAX_BYTES) -> TextFile:
    """Read a UTF-8 text file; clear errors for binary data, bad UTF-8 and files over ``max_bytes``."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise InputError(f"{p}: {size:,} bytes is over the {max_bytes:,}-byte limit; raise the limit to process it")
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from exc
    if is_binary(data):
        raise BinaryFileError(f"{p}: binary file (NUL byte found), skipped")
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(p, exc, 3 if bom else 0) from None
    newline = "\r\n" if "\r\n" in text else "\n"
    return TextFile(p, text, newline, bom)


def iter_text_chunks(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Decode a file of any size incrementally, yielding text pieces; bad UTF-8 raises with its offset."""
    p = Path(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    first = True
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from exc
    with fh:
        while True:
            block = fh.read(max(chunk_bytes, _SNIFF) if first else chunk_bytes)
            if first:
                if is_binary(block):
                    raise BinaryFileError(f"{p}: binary file (NUL byte found), skipped")
                if block.startswith(codecs.BOM_UTF8):
                    block = block[3:]
                    offset = 3
                first = False
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                pending = len(decoder.getstate()[0])
                raise _decode_error(p, exc, offset - pending) from None
            offset += len(block)
            if text:
                yield text
            if not block:
                return


def atomic_write_text(path: str | os.PathLike[str], text: str, newline: str = "\n", bom: bool = False) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder, then rename; keeps the file mode."""
    p = Path(path)
    data = text.replace("\r\n", "\n")
    if newline != "\n":
        data = data.replace("\n", newline)
    raw = (codecs.BOM_UTF8 if bom else b"") + data.encode("utf-8")
    mode = None
    if p.exists():
        mode = stat.S_IMODE(p.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
