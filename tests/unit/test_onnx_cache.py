"""The ONNX embedder's cache key, thread count and refusal without an export (no model needed: fake folders)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from knowledge.onnx_embedder import cpu_threads, export_dir, model_digest, onnx_encoder


def model_folder(root: Path, weights: bytes = b"weights") -> Path:
    folder = root / "pkg" / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    return folder


def test_the_key_follows_the_model_files_only(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    key = model_digest(folder)
    (folder / "README.md").write_text("a model card")
    (folder / ".gitattributes").write_text("*.bin lfs")
    assert model_digest(folder) == key
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert model_digest(folder) != key
    other = model_folder(tmp_path / "b", weights=b"other weights")
    assert model_digest(other) != model_digest(model_folder(tmp_path / "c"))


def test_the_export_folder_is_named_after_the_package_and_the_key(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    target = export_dir(folder, tmp_path / "cache")
    assert target.parent == tmp_path / "cache" / "onnx"
    assert target.name == f"pkg-{model_digest(folder)[:16]}"


def test_threads_follow_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpu_threads() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert cpu_threads() >= 1
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    assert cpu_threads() >= 1


def test_without_an_export_it_declines_with_one_info_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = model_folder(tmp_path)
    with caplog.at_level(logging.INFO, logger="knowledge.onnx_embedder"):
        assert onnx_encoder(str(folder), cache_dir=tmp_path / "cache", export=False) is None
    lines = [r for r in caplog.records if r.name == "knowledge.onnx_embedder"]
    assert [r.levelno for r in lines] == [logging.INFO]
    assert "no ONNX export" in lines[0].getMessage()


def test_a_failed_export_is_not_tried_again_at_every_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = model_folder(tmp_path)
    target = export_dir(folder, tmp_path / "cache")
    target.mkdir(parents=True)
    (target / "export-failed.txt").write_text("only Transformer, mean Pooling and Normalize are exported")
    with caplog.at_level(logging.INFO, logger="knowledge.onnx_embedder"):
        assert onnx_encoder(str(folder), cache_dir=tmp_path / "cache") is None  # export=True: still no export
    lines = [r.getMessage() for r in caplog.records if r.name == "knowledge.onnx_embedder"]
    assert len(lines) == 1 and "failed before" in lines[0] and "mean Pooling" in lines[0]
