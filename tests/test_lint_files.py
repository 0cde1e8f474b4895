"""Reading prompt files: chat-message JSON/YAML segments mapped back to the file, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from promptslim.cli import main
from promptslim.lint import LintConfig, lint_paths
from promptslim.lint.engine import apply_edits
from promptslim.lint.files import DocumentError, SkipFile, load_document

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F600), max_size=40)


def _edits_apply_in_file(doc_text: str, seg, a: int, b: int, rep: str) -> str | None:  # type: ignore[no-untyped-def]
    e = seg.raw_edit(a, b, rep, doc_text)
    return None if e is None else doc_text[:e.start] + e.content + doc_text[e.end:]


@settings(max_examples=150, deadline=None)
@given(content=TEXT, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]), data=st.data())
def test_json_segment_maps_every_character_back_to_the_file(content: str, ascii_only: bool,
                                                            indent: int | None, data: st.DataObject) -> None:
    raw = json.dumps({"messages": [{"role": "system", "content": content}]}, ensure_ascii=ascii_only, indent=indent)
    doc = load_document("x.json", text=raw, kind="json")
    (seg,) = doc.segments
    assert seg.text == content
    i = data.draw(st.integers(0, len(content)))
    j = data.draw(st.integers(i, len(content)))
    # the file slice between mapped offsets decodes to exactly the segment slice
    assert json.loads('"' + raw[seg.to_raw(i):seg.to_raw(j)] + '"') == content[i:j]
    # an edit made through the segment keeps the file valid and changes exactly that slice
    rep = data.draw(TEXT)
    new = _edits_apply_in_file(raw, seg, i, j, rep)
    assert new is not None
    assert json.loads(new)["messages"][0]["content"] == content[:i] + rep + content[j:]


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(alphabet="abc XYZ.,", min_size=1, max_size=8), min_size=1, max_size=6),
       style=st.sampled_from(["|", "plain", "'", '"']), data=st.data())
def test_yaml_fixes_are_verbatim_or_refused(words: list[str], style: str, data: st.DataObject) -> None:
    content = " ".join(words).strip() or "x"
    if style == "|":
        body = "    content: |\n      " + content + "\n"
    elif style == "plain":
        body = "    content: " + json.dumps(content)[1:-1] + "\n"
    elif style == "'":
        body = "    content: '" + content.replace("'", "''") + "'\n"
    else:
        body = "    content: " + json.dumps(content) + "\n"
    raw = "messages:\n  - role: system\n" + body
    try:
        expected = yaml.safe_load(raw)["messages"][0]["content"]
    except yaml.YAMLError:
        return
    if not isinstance(expected, str):
        return
    doc = load_document("x.yaml", text=raw, kind="yaml")
    (seg,) = doc.segments
    assert seg.text == expected
    i = data.draw(st.integers(0, len(expected)))
    j = data.draw(st.integers(i, len(expected)))
    rep = data.draw(st.text(alphabet="abc ", max_size=5))
    new = _edits_apply_in_file(raw, seg, i, j, rep)
    if new is not None:  # refused is fine; applied must be exact
        assert yaml.safe_load(new)["messages"][0]["content"] == apply_edits(expected, [(i, j, rep)])


def test_content_parts_and_roles() -> None:
    raw = json.dumps({"messages": [
        {"role": "system", "content": [{"type": "text", "text": "Part one."}, {"type": "image_url"},
                                       {"type": "text", "text": "Part two."}]},
        {"role": "user", "content": None}]})
    doc = load_document("x.json", text=raw, kind="json")
    assert [(s.text, s.role, s.location) for s in doc.segments] == [
        ("Part one.", "system", "messages[0].content[0].text"), ("Part two.", "system", "messages[0].content[2].text")]


def test_bare_list_and_yaml_tools() -> None:
    doc = load_document("x.json", text='[{"role": "user", "content": "hi"}]', kind="json")
    assert doc.kind == "messages" and doc.segments[0].text == "hi"
    ydoc = load_document("x.yaml", text="tools:\n  - name: b\n  - name: a\nmessages:\n  - {role: user, content: hi}\n",
                         kind="yaml")
    assert len(ydoc.tool_positions) == 2 and ydoc.tools == [{"name": "b"}, {"name": "a"}]


@pytest.mark.parametrize("text, kind", [('{"name": "pkg"}', "json"), ("a: 1\n", "yaml"), ("[1, 2]", "json")])
def test_json_yaml_without_messages_are_skipped(text: str, kind: str) -> None:
    with pytest.raises(SkipFile, match="not a chat-messages"):
        load_document(f"x.{kind}", text=text, kind=kind)


@pytest.mark.parametrize("text, kind, line, col", [
    ('{"messages": [\n  {"role": "user",, "content": "x"}]}', "json", 2, 19),
    ("messages:\n  - role: [user\n", "yaml", 3, 1),
])
def test_malformed_files_report_line_and_column(text: str, kind: str, line: int, col: int) -> None:
    with pytest.raises(DocumentError) as exc:
        load_document(f"x.{kind}", text=text, kind=kind)
    assert (exc.value.error.line, exc.value.error.col) == (line, col)
    assert f"malformed {kind.upper()}" in exc.value.error.message


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    (tmp_path / "good.prompt").write_text("Due to the fact that it rains, answer in one sentence.\n", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.md").write_bytes("line one\ncaf\xe9\n".encode("latin-1"))
    (tmp_path / "bad.json").write_text('{"messages": [}', encoding="utf-8")
    (tmp_path / "bad.yml").write_text("messages: [\n", encoding="utf-8")
    (tmp_path / "config.json").write_text('{"a": 1}', encoding="utf-8")
    return tmp_path


def test_bad_files_get_error_lines_and_others_are_linted(bad_tree: Path) -> None:
    run = lint_paths([bad_tree], LintConfig(root=bad_tree, select=("PS2", "PS3", "PS4")))
    errors = {Path(e.path).name: e for e in run.errors}
    assert set(errors) == {"bin.txt", "latin1.md", "bad.json", "bad.yml"}
    assert (errors["latin1.md"].line, errors["latin1.md"].col) == (2, 4)
    assert "UTF-8" in errors["latin1.md"].message and "binary" in errors["bin.txt"].message
    assert errors["bad.json"].line == 1 and errors["bad.yml"].line is not None
    assert [Path(r.path).name for r in run.reports if r.error is None] == ["good.prompt"]  # config.json skipped
    assert run.exit_code() == 2


def test_cli_error_lines_name_file_and_position(bad_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", "--isolated", "--no-cache", "--select", "PS3,PS4", str(bad_tree)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{bad_tree / 'latin1.md'}:2:4: error: invalid UTF-8" in out
    assert f"{bad_tree / 'bad.json'}:1:" in out and "malformed JSON" in out
    assert f"{bad_tree / 'bin.txt'}: error: binary file" in out


def test_unreadable_file_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "locked.prompt"
    p.write_text("x", encoding="utf-8")
    p.chmod(0)
    try:
        if p.stat().st_mode and _can_read(p):
            pytest.skip("running as a user who can read mode-000 files (root)")
        assert main(["lint", "--isolated", "--no-cache", str(p)]) == 2
        assert "cannot read" in capsys.readouterr().out
    finally:
        p.chmod(0o644)


def _can_read(p: Path) -> bool:
    try:
        p.read_bytes()
        return True
    except OSError:
        return False


def test_crlf_file_is_linted_with_lf_positions(tmp_path: Path) -> None:
    p = tmp_path / "w.prompt"
    p.write_bytes(b"First line.\r\nToday is 2026-11-22.\r\n" + b"Static text about refunds and plans. " * 40)
    doc = load_document(p)
    assert doc.crlf_normalized and "\r" not in doc.text and doc.line_starts[1] == len("First line.\n")


def test_dangling_symlink_in_a_folder_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gone.prompt").symlink_to(tmp_path / "missing-target.prompt")
    (tmp_path / "ok.prompt").write_text("Answer in one sentence.\n", encoding="utf-8")
    assert main(["lint", "--isolated", "--no-cache", "--select", "PS4", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert f"{tmp_path / 'gone.prompt'}: error: cannot read" in out
