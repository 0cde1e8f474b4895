"""Optional end-to-end answer quality through any OpenAI-compatible endpoint.

Configured only by environment variables, so no key ever lands in a config file:
``PROMPTSLIM_EVAL_BASE_URL`` (e.g. ``http://localhost:8000/v1``), ``PROMPTSLIM_EVAL_MODEL`` and
optionally ``PROMPTSLIM_EVAL_API_KEY``. Without them nothing is called and reports say so.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass

__all__ = ["LLMConfig", "llm_config", "answer_question"]

PROMPT = ("Answer the question using only the context. Reply with the shortest possible answer "
          "(a few words), no explanation.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:")


@dataclass(frozen=True, slots=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 60.0


def llm_config() -> LLMConfig | None:
    """The configured endpoint, or None when the environment does not name one."""
    base = os.environ.get("PROMPTSLIM_EVAL_BASE_URL", "").strip()
    model = os.environ.get("PROMPTSLIM_EVAL_MODEL", "").strip()
    if not base or not model:
        return None
    return LLMConfig(base.rstrip("/"), model, os.environ.get("PROMPTSLIM_EVAL_API_KEY", ""))


def answer_question(cfg: LLMConfig, context: str, question: str) -> str:
    """One deterministic (temperature 0) chat completion answering ``question`` from ``context``."""
    body = json.dumps({
        "model": cfg.model,
        "temperature": 0,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": PROMPT.format(context=context, question=question)}],
    }).encode()
    req = urllib.request.Request(f"{cfg.base_url}/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {})})
    with urllib.request.urlopen(req, timeout=cfg.timeout) as resp:  # noqa: S310 - user-configured endpoint
        data = json.load(resp)
    return str(data["choices"][0]["message"]["content"] or "").strip()
