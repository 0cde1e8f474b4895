"""Evals that put each transform's token savings next to what it costs in answer quality."""

from __future__ import annotations

from .core import (
    Case as Case,
    DataMissingError as DataMissingError,
    MethodOutput as MethodOutput,
    Suite as Suite,
    get_suite as get_suite,
    list_suites as list_suites,
    register_suite as register_suite,
    shared_data_dir as shared_data_dir,
)

__all__ = ["Case", "DataMissingError", "MethodOutput", "Suite", "get_suite", "list_suites", "register_suite",
           "shared_data_dir"]
