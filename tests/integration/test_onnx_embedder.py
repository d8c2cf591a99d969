"""The bundled all-MiniLM-L6-v2 on ONNX Runtime against sentence-transformers, with the real model: the same
token ids and vectors (cosine >= 0.9999) on English and Chinese texts, no torch in a process that embeds through
``build_embedder``, and the fall-back to sentence-transformers (one INFO line) when the export is unusable."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import OnnxEmbedder, SentenceTransformerEmbedder, build_embedder, bundled_model_path
from knowledge.onnx_embedder import CHECK_SENTENCES, MIN_COSINE, OnnxEncoder, export_dir

pytestmark = pytest.mark.integration

#: not the sentences the export checks itself on
SENTENCES = [
    "Can I return opened skincare?",
    "How many points do I earn per dollar as a silver member?",
    "When can I cancel an order?",
    "Our waterproof hiking boots come with a two-year warranty covering the soles and seams.",
    "Do you sell my personal data?",
    "I need a kettle for pour-over coffee",
    "请问可以开发票吗？",
    "这件冲锋衣防水吗？适合冬天穿吗？",
    "订单 SX-20391 的物流信息在哪里查看",
    "满三百元包邮，偏远地区除外。",
    "Tabs\tand\nnewlines,   many   spaces",
    "emoji 🙂 and symbols ©®™",
    " ".join(["Returns are accepted within 30 days if the item is unused and in its original packaging."] * 25),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def onnx(cache: Path) -> OnnxEmbedder:
    found = build_embedder("bundled", cache_dir=cache, query_cache_size=0)
    assert isinstance(found, OnnxEmbedder), "the export failed: see the INFO log line"
    return found


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(query_cache_size=0)


def test_vectors_match_sentence_transformers(onnx: OnnxEmbedder, reference: SentenceTransformerEmbedder) -> None:
    texts = SENTENCES + list(CHECK_SENTENCES)
    ours = np.asarray(onnx.embed_documents(texts))
    theirs = np.asarray(reference.embed_documents(texts))
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= MIN_COSINE, dict(zip(texts, cosines.round(6).tolist(), strict=True))
    # one text at a time (a query) equals the same text inside a padded batch
    single = np.asarray([onnx.embed_query(t) for t in SENTENCES[:4]])
    assert np.sum(single * ours[:4], axis=1).min() >= MIN_COSINE
    # and a vector is not just close to any vector: different sentences stay apart
    assert float(ours[0] @ ours[6]) < 0.9


def onnx_encoder_of(embedder: OnnxEmbedder) -> OnnxEncoder:
    assert isinstance(embedder.encoder, OnnxEncoder)
    return embedder.encoder


def test_token_ids_and_truncation_match(onnx: OnnxEmbedder, reference: SentenceTransformerEmbedder) -> None:
    transformer = reference._model[0]
    batch = transformer.preprocess(SENTENCES)
    expected = [[t for t, m in zip(ids, mask, strict=True) if m]
                for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist(), strict=True)]
    ours = onnx_encoder_of(onnx).token_ids(SENTENCES)
    assert ours == expected
    assert len(ours[-1]) == onnx.max_seq_length == reference._model.max_seq_length == 256


def test_the_export_is_cached_and_checked(onnx: OnnxEmbedder, cache: Path) -> None:
    folder = export_dir(bundled_model_path(), cache)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["min_cosine"] >= MIN_COSINE and meta["max_seq_length"] == 256 and meta["dimensions"] == 384
    again = build_embedder("bundled", cache_dir=cache)  # no second export: the cached one
    assert isinstance(again, OnnxEmbedder) and again.name == SentenceTransformerEmbedder.name


def test_a_process_embedding_through_build_embedder_loads_no_torch(onnx: OnnxEmbedder, cache: Path) -> None:
    code = (
        "import sys, json\n"
        "from knowledge.embeddings import build_embedder\n"
        f"e = build_embedder('bundled', cache_dir={str(cache)!r})\n"
        "v = e.embed_query('How much is express shipping?')\n"
        "print(json.dumps([type(e).__name__, len(v), sorted(m for m in ('torch', 'transformers', "
        "'sentence_transformers') if m in sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    kind, size, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert (kind, size, heavy) == ("OnnxEmbedder", 384, [])


def test_an_unusable_export_falls_back_to_sentence_transformers(
    onnx: OnnxEmbedder, cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = export_dir(bundled_model_path(), tmp_path)
    broken.mkdir(parents=True)
    good = export_dir(bundled_model_path(), cache)
    (broken / "meta.json").write_text((good / "meta.json").read_text())
    (broken / "model.onnx").write_bytes(b"not an onnx graph")
    with caplog.at_level(logging.INFO, logger="knowledge.onnx_embedder"):
        embedder = build_embedder("bundled", cache_dir=tmp_path)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    lines = [r for r in caplog.records if r.name == "knowledge.onnx_embedder"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and "sentence-transformers" in lines[0].getMessage()
    assert len(embedder.embed_query("Where is my order?")) == 384


def test_prepare_exports_once_into_the_default_cache_as_the_install_runs_it(tmp_path: Path) -> None:
    """scripts/install.sh runs ``python -m knowledge.onnx_embedder prepare`` while llama.cpp compiles; a start
    then finds the export in XDG_CACHE_HOME and does not export again."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "knowledge.onnx_embedder", "prepare"]
    first = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    folder = export_dir(bundled_model_path(), tmp_path / "concierge")
    assert (folder / "meta.json").is_file() and (folder / "model.onnx").is_file()
    assert "exporting the embedding model" in first.stderr
    assert first.stdout.startswith("the embedding model is ready for ONNX Runtime")
    again = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    assert "exporting" not in again.stderr and again.stdout.startswith("the embedding model is ready")
    code = ("import logging; logging.basicConfig(level=logging.INFO); "
            "from knowledge.embeddings import build_embedder; print(type(build_embedder('bundled')).__name__)")
    started = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert started.stdout.strip() == "OnnxEmbedder" and "exporting" not in started.stderr
