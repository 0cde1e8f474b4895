"""File input errors say what and where; atomic writes keep mode and line endings."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings, strategies as st

from promptslim._io import BinaryFileError, atomic_write_text, iter_text_chunks, read_text
from promptslim.errors import InputError


def test_invalid_utf8_names_offset(tmp_path) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(b"hello \xff world")
    with pytest.raises(InputError, match=r"bad.txt: invalid UTF-8 at byte offset 6"):
        read_text(p)
    with pytest.raises(InputError, match=r"byte offset 6"):
        list(iter_text_chunks(p))


def test_invalid_utf8_offset_across_chunks(tmp_path) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(b"a" * 9000 + "é".encode() + b"b" * 5 + b"\xc3(")
    with pytest.raises(InputError, match=r"byte offset 9007"):
        list(iter_text_chunks(p, chunk_bytes=4))


def test_binary_and_size_limit(tmp_path) -> None:
    b = tmp_path / "x.bin"
    b.write_bytes(b"\x00\x01\x02")
    with pytest.raises(BinaryFileError):
        read_text(b)
    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    with pytest.raises(InputError, match="limit"):
        read_text(big, max_bytes=10)


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\x00\ufeff", blacklist_categories=("Cs",)), max_size=300),
       st.sampled_from([1, 3, 7, 64]), st.booleans())
def test_chunked_decode_roundtrip(tmp_path_factory, text: str, size: int, bom: bool) -> None:
    p = tmp_path_factory.mktemp("c") / "t.txt"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    assert "".join(iter_text_chunks(p, chunk_bytes=size)) == text


def test_atomic_write_keeps_crlf_bom_and_mode(tmp_path) -> None:
    p = tmp_path / "p.txt"
    p.write_bytes(b"\xef\xbb\xbfa\r\nb\r\n")
    os.chmod(p, 0o640)
    f = read_text(p)
    assert f.newline == "\r\n" and f.bom and f.text == "a\r\nb\r\n"
    atomic_write_text(p, "c\nd\n", newline=f.newline, bom=f.bom)
    assert p.read_bytes() == b"\xef\xbb\xbfc\r\nd\r\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert [x.name for x in tmp_path.iterdir()] == ["p.txt"]
