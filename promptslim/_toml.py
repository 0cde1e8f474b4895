"""TOML loading for package data and config files (tomllib on 3.11+, tomli before)."""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["load_package_toml", "loads", "TOMLDecodeError"]

TOMLDecodeError = tomllib.TOMLDecodeError
loads = tomllib.loads


@cache
def load_package_toml(relpath: str) -> dict[str, Any]:
    """Read a TOML file shipped inside the promptslim package (``"data/models.toml"``), cached."""
    ref = resources.files("promptslim").joinpath(relpath)
    return tomllib.loads(ref.read_text(encoding="utf-8"))
