"""The package version: one place, read by pyproject (setuptools dynamic version) and the CLI."""

__version__ = "0.1.0"
