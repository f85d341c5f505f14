"""Importing a Lambda handler module the way Lambda does, afresh for each test."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[1]


def import_handler(path: str) -> ModuleType:
    """A fresh import of ``functions/.../app.py`` (by path from the repository root), so its module-level
    container reads the environment the test has just set."""
    name = f"{Path(path).parent.name}_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
