"""Shared fixtures: the shared evaluation data folder, skipped locally when absent, required under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Shared, noisy machines: no per-example deadline (a timing threshold would make tests flaky).
settings.register_profile("promptslim", deadline=None)
settings.load_profile("promptslim")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$PROMPTSLIM_SHARED_DATA`` or ``../shared/data`` beside the repo."""
    env = os.environ.get("PROMPTSLIM_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; skip when absent, but fail when CI=true so CI cannot go green by skipping."""
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder {path} is missing under CI=true")
        pytest.skip(f"shared data folder {path} not found (set PROMPTSLIM_SHARED_DATA)")
    return path


def compress_finishes(cases: list[str], level: str = "balanced", timeout: float = 120) -> None:
    """Hang guard: compress every case in a fresh interpreter under a generous timeout (a
    backtracking regex or quadratic loop shows up as a timeout, not as a speed threshold)."""
    import json
    import subprocess
    import sys

    script = ("import json, sys\nfrom promptslim import compress_prompt\n"
              "for text in json.load(sys.stdin):\n"
              f"    compress_prompt(text, level={level!r}, max_chars=None)\n"
              "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
