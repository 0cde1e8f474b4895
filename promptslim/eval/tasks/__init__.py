"""Built-in eval suites. Importing this package registers them; one module per task area."""

from __future__ import annotations

from . import (
    builtin as builtin,  # project eval_sets suites
    cache as cache,  # prompt-cache trace simulation
    history as history,  # conversation history suites
    lint as lint,  # promptslim lint on real prompt corpora
    prompts as prompts,  # system-prompt compression: fabric, awesome, BBH
    rag as rag,  # RAG context selection: SQuAD, HotpotQA, NQ
    schemas as schemas,  # compact output schemas: BFCL, SchemaStore
)
