"""OnnxEmbedder: a sentence-transformers model on ONNX Runtime, no torch needed.

Reads any model directory in the Hugging Face ONNX layout (``model.onnx`` or
``onnx/model.onnx`` next to ``tokenizer.json``), such as the one
``scripts/export_model.py`` writes. The model outputs token states; mean
pooling over the attention mask and L2 normalisation happen here, as
sentence-transformers does for MiniLM-style models.

onnxruntime and tokenizers are imported in ``__init__`` so that importing this
module stays cheap (the CLI and API import it before they know they need it).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sluice.domain.errors import BackendError, ConfigurationError

# Attention cost grows with the square of the length; no local model needs more.
MAX_TOKENS_CAP = 512
# Some tokenizer configs say "no limit" with a huge sentinel (1e30).
_UNSET_LENGTH = 1_000_000
_HINT = "run `make install` to export the default model, or set SLUICE_MODEL_DIR to a Hugging Face ONNX model folder"
_MODEL_FILES = {
    False: ("onnx/model.onnx", "model.onnx"),
    True: ("onnx/model_qint8.onnx", "onnx/model_quantized.onnx", "onnx/model_int8.onnx", "model_quantized.onnx"),
}


class OnnxEmbedder:
    """Embeds text with an ONNX encoder; every vector has unit length.

    ``max_tokens`` is the model's window: longer texts are truncated when
    embedded (``count_tokens`` never truncates, so a chunker can stay under it).
    ``tokens_used`` counts the tokens the model has seen, special tokens included.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        quantized: bool = False,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"embedding batch size must be at least 1, got {batch_size}")
        self.model_dir = Path(model_dir).expanduser()
        self.batch_size = batch_size
        self.tokens_used = 0
        self._lock = threading.Lock()
        self.model_path = _find_model_file(self.model_dir, quantized)
        configs = _read_configs(self.model_dir)
        self.model_id = _model_id(self.model_dir, configs)
        self.max_tokens = _max_tokens(configs)
        self._tokenizer, self._counter, self._pad_id = _load_tokenizers(self.model_dir, self.max_tokens)
        self._session = _load_session(self.model_path, threads)
        self._inputs = [node.name for node in self._session.get_inputs()]
        self._output = self._session.get_outputs()[0].name
        self.dimension = _dimension(self._session, configs) or len(self.embed_query("dimension probe"))
        self.tokens_used = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [np.asarray(encoding.ids, dtype=np.int64) for encoding in encodings]
        # Sorting by length keeps the padding in each batch small.
        order = np.argsort([len(row) for row in ids], kind="stable")
        vectors = np.empty((len(ids), 0), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            picked = order[start : start + self.batch_size]
            batch = self._embed_batch([ids[i] for i in picked])
            if vectors.shape[1] == 0:
                vectors = np.empty((len(ids), batch.shape[1]), dtype=np.float32)
            vectors[picked] = batch
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without special tokens and without truncation."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def _embed_batch(self, rows: list[np.ndarray]) -> np.ndarray:
        width = max(len(row) for row in rows)
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            attention_mask[i, : len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
        try:
            (states,) = self._session.run([self._output], {name: feed[name] for name in self._inputs})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(f"embedding model {self.model_id} failed: {exc}") from exc
        with self._lock:
            self.tokens_used += int(attention_mask.sum())
        return _pool(states, attention_mask)


def _pool(states: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then L2 normalisation (a no-op pooling for pooled outputs)."""
    if states.ndim == 3:
        mask = attention_mask[:, :, None].astype(states.dtype)
        states = (states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(states, axis=1, keepdims=True)
    unit: np.ndarray = (states / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def _find_model_file(model_dir: Path, quantized: bool) -> Path:
    if not model_dir.is_dir():
        raise ConfigurationError(f"embedding model folder {model_dir} does not exist; {_HINT}")
    if not (model_dir / "tokenizer.json").is_file():
        raise ConfigurationError(f"embedding model folder {model_dir} has no tokenizer.json; {_HINT}")
    for name in _MODEL_FILES[quantized]:
        if (model_dir / name).is_file():
            return model_dir / name
    kind = "quantized model (onnx/model_qint8.onnx)" if quantized else "model.onnx or onnx/model.onnx"
    raise ConfigurationError(f"embedding model folder {model_dir} has no {kind}; {_HINT}")


def _read_configs(model_dir: Path) -> dict[str, dict[str, Any]]:
    """The optional JSON configs of the folder; a missing one reads as empty."""
    names = ("config.json", "tokenizer_config.json", "sentence_bert_config.json", "sluice-export.json")
    configs: dict[str, dict[str, Any]] = {}
    for name in names:
        try:
            loaded = json.loads((model_dir / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            loaded = {}
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {model_dir / name}: {exc}; {_HINT}") from exc
        configs[name] = loaded if isinstance(loaded, dict) else {}
    return configs


def _model_id(model_dir: Path, configs: dict[str, dict[str, Any]]) -> str:
    exported = configs["sluice-export.json"].get("model_id")
    if isinstance(exported, str) and exported:
        return exported
    return model_dir.resolve().name.removesuffix("-onnx")


def _max_tokens(configs: dict[str, dict[str, Any]]) -> int:
    """The model's window, preferring what sentence-transformers uses for it.

    The tokenizer.json truncation is ignored on purpose: all-MiniLM-L6-v2 ships
    one that cuts at 128 although the model is used with 256.
    """
    window = configs["config.json"].get("max_position_embeddings")
    candidates = (
        configs["sentence_bert_config.json"].get("max_seq_length"),
        configs["tokenizer_config.json"].get("model_max_length"),
        window,
    )
    chosen = next((int(v) for v in candidates if isinstance(v, int | float) and 0 < v < _UNSET_LENGTH), MAX_TOKENS_CAP)
    if isinstance(window, int) and window > 0:
        chosen = min(chosen, window)
    return min(chosen, MAX_TOKENS_CAP)


def _load_tokenizers(model_dir: Path, max_tokens: int) -> tuple[Any, Any, int]:
    """Two tokenizers: one truncating to the window for the model, one counting freely."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ConfigurationError("the local embedder needs tokenizers: pip install 'sluice[local]'") from exc
    try:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises a bare Exception on a bad file
        raise ConfigurationError(f"cannot load {model_dir / 'tokenizer.json'}: {exc}; {_HINT}") from exc
    pad_id = _pad_id(tokenizer)
    tokenizer.no_padding()  # batches are padded in numpy, after sorting by length
    tokenizer.enable_truncation(max_length=max_tokens)
    counter.no_padding()
    counter.no_truncation()
    return tokenizer, counter, pad_id


def _pad_id(tokenizer: Any) -> int:
    configured = (tokenizer.padding or {}).get("pad_id")
    if isinstance(configured, int):
        return configured
    for token in ("[PAD]", "<pad>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return 0


def _load_session(model_path: Path, threads: int | None) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigurationError("the local embedder needs onnxruntime: pip install 'sluice[local]'") from exc
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or _available_cores()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only; warnings about unused initialisers are noise
    try:
        return ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ConfigurationError(f"cannot load embedding model {model_path}: {exc}; {_HINT}") from exc


def _available_cores() -> int:
    """Cores this process may use (a container's CPU set, not the host's), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _dimension(session: Any, configs: dict[str, dict[str, Any]]) -> int | None:
    shape = session.get_outputs()[0].shape
    if shape and isinstance(shape[-1], int):
        return int(shape[-1])
    hidden = configs["config.json"].get("hidden_size")
    return hidden if isinstance(hidden, int) else None
