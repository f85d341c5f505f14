"""`scripts/build_lambda.sh` (sam build for arm64 / Python 3.12, no Docker) gives deployable, fast artifacts."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
SAM = ROOT / ".venv-tools" / "bin" / "sam"
PARSER_PACKAGES = ("pypdfium2", "docx", "lxml", "selectolax")

pytestmark = pytest.mark.slow


def _python312() -> str | None:
    env = {**os.environ, "PYENV_VERSION": "3.12.1"}
    try:
        out = subprocess.run(["python3.12", "-c", "import sys; print(sys.version_info[:2])"], env=env,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.fixture(scope="module")
def build() -> Path:
    if not SAM.exists():
        pytest.skip("sam is not installed; `make tools` installs it into .venv-tools/")
    if _python312() != "(3, 12)":
        pytest.skip("Python 3.12 is not available (pyenv 3.12.1); sam build for python3.12 needs it")
    shutil.rmtree(BUILD, ignore_errors=True)
    result = subprocess.run(["bash", "scripts/build_lambda.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return BUILD


def _zipped_mb(folder: Path) -> float:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return buffer.tell() / 1e6


def test_every_function_and_layer_is_built(build: Path) -> None:
    for name in ("IngestFunction", "QueryFunction", "CoreLayer", "ParsersLayer"):
        assert (build / name).is_dir(), f"{name} missing from the build"
    assert (build / "CoreLayer" / "python" / "sluice" / "services" / "ingest.py").is_file()
    assert (build / "QueryFunction" / "app.py").is_file() and (build / "IngestFunction" / "app.py").is_file()


def test_layers_carry_bytecode_compiled_by_python_312(build: Path) -> None:
    cached = list((build / "CoreLayer" / "python" / "sluice").rglob("*.cpython-312.pyc"))
    assert len(cached) > 30
    assert not list((build / "CoreLayer" / "python" / "sluice").rglob("*.cpython-311.pyc"))


def test_query_function_stays_small_and_free_of_parsers(build: Path) -> None:
    core = build / "CoreLayer" / "python"
    assert not [p for p in PARSER_PACKAGES if (core / p).exists()], "parsers belong to the ingest-only layer"
    assert not (core / "botocore").exists() and not (core / "boto3").exists()
    size = _zipped_mb(core) + _zipped_mb(build / "QueryFunction")
    assert size <= 10.0, f"query function with its layer is {size:.1f} MB zipped"
    parsers = build / "ParsersLayer" / "python"
    assert all((parsers / p).exists() for p in PARSER_PACKAGES)
