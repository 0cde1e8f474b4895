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

