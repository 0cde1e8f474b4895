"""`promptslim count`: per-file tokens, exactness, cost per 1,000 calls, and clean exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import promptslim
from promptslim.cli import main

EXAMPLE = "promptslim/examples/support_agent.prompt"


def test_count_json(tmp_path, capsys) -> None:
    p = tmp_path / "a.txt"
    p.write_text("Hello, world!")
    assert main(["count", str(p), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    row = data["files"][0]
    assert row["tokens"] == 4 and row["exact"] is True and row["encoding"] == "o200k_base"
    expected = float(promptslim.estimate_cost(4, 0, "gpt-4o").per_calls(1000))
    assert row["cost_per_1k_calls_usd"] == expected


def test_count_table_and_exit_codes(tmp_path, capsys) -> None:
    empty = tmp_path / "e.txt"
    empty.write_text("")
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00abc")
    assert main(["count", str(empty), str(binary)]) == 0
    captured = capsys.readouterr()
    assert " 0 " in captured.out and "binary" in captured.err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\xfe")
    assert main(["count", str(bad)]) == 2
    assert "byte offset 2" in capsys.readouterr().err


def test_unknown_model_exit_2_with_suggestion(tmp_path, capsys) -> None:
    p = tmp_path / "a.txt"
    p.write_text("x")
    assert main(["count", str(p), "--model", "gpt-4oo"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys) -> None:
    assert main([]) == 2
    assert main(["count"]) == 2
    assert main(["--version"]) == 0
    assert promptslim.__version__ in capsys.readouterr().out


def test_console_script_runs_on_bundled_example() -> None:
    out = subprocess.run([sys.executable, "-m", "promptslim", "count", EXAMPLE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert str(promptslim.count_tokens(open(EXAMPLE, encoding="utf-8").read())) in out.stdout


def test_large_file_is_counted_in_pieces(tmp_path) -> None:
    text = ("The cache hit rate rose to 93% on 2026-11-02.\n" * 40_000)
    p = tmp_path / "big.txt"
    p.write_text(text)
    out = subprocess.run([sys.executable, "-m", "promptslim", "count", str(p), "--json"],
                         capture_output=True, text=True)
    assert json.loads(out.stdout)["files"][0]["tokens"] == promptslim.count_tokens(text)
