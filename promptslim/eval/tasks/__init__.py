"""Built-in eval suites. Importing this package registers them; one module per task area."""

from __future__ import annotations

from . import builtin as builtin  # noqa: F401  (project eval_sets suites)
from . import cache as cache  # noqa: F401  (prompt-cache trace simulation)
from . import history as history  # noqa: F401  (conversation history suites)
from . import rag as rag  # noqa: F401  (RAG context selection: SQuAD, HotpotQA, NQ)
from . import lint as lint  # noqa: F401  (promptslim lint on real prompt corpora)
from . import schemas as schemas  # noqa: F401  (compact output schemas: BFCL, SchemaStore)
from . import prompts as prompts  # noqa: F401  (system-prompt compression: fabric, awesome, BBH)
