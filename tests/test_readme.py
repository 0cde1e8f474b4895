"""The README's quick start is what CI runs, and its examples are real."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    assert len(_quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_cmd = _quick_start_commands()[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci.splitlines()


def test_main_job_command_runs() -> None:
    main_cmd = _quick_start_commands()[0].split("&&", 1)[1].split()
    assert main_cmd[0] == "promptslim"
    out = subprocess.run([sys.executable, "-m", "promptslim", *main_cmd[1:]], capture_output=True, text=True,
                         cwd=REPO)
    assert out.returncode in (0, 1), out.stderr  # lint exits 1 when it has findings
    assert out.stdout.strip()
