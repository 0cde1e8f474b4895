"""Suites on the project's own ``eval_sets/`` (filled in by the eval harness work)."""
