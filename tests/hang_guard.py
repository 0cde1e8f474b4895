"""Hang guards shared by test modules (not collected: no ``test_`` prefix). Imported by name,
not through ``conftest``: ``benchmarks/`` has a ``conftest`` module too, and either may be the one
imported under that name."""

from __future__ import annotations


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
