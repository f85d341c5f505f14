"""Metadata sidecars in the Bedrock Knowledge Bases format.

``report.pdf.metadata.json`` next to ``report.pdf`` holds::

    {"metadataAttributes": {"year": 2024, "team": "ops", "public": true, "tags": ["a", "b"]}}

Values are strings, numbers, booleans or lists of strings. The typed form of
Bedrock Knowledge Bases is accepted too::

    {"metadataAttributes": {"team": {"value": {"type": "STRING", "stringValue": "ops"},
                                     "includeForEmbedding": true}}}
"""

from __future__ import annotations

import json
import math
from typing import Any

from sluice.domain.errors import MetadataError
from sluice.domain.models import Metadata, MetadataValue

SIDECAR_SUFFIX = ".metadata.json"
DEFAULT_MAX_SIDECAR_BYTES = 10 * 1024
_TYPED_FIELDS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "STRING": ("stringValue", str),
    "NUMBER": ("numberValue", (int, float)),
    "BOOLEAN": ("booleanValue", bool),
    "STRING_LIST": ("stringListValue", list),
}
_SHAPE_HINT = 'write it as {"metadataAttributes": {"name": value}}'


def sidecar_key(source: str) -> str:
    """The sidecar of ``source``: ``docs/a.pdf`` -> ``docs/a.pdf.metadata.json``."""
    return source + SIDECAR_SUFFIX


def is_sidecar(source: str) -> bool:
    return source.lower().endswith(SIDECAR_SUFFIX)


def source_of_sidecar(sidecar: str) -> str:
    """The document a sidecar describes: ``docs/a.pdf.metadata.json`` -> ``docs/a.pdf``."""
    return sidecar[: -len(SIDECAR_SUFFIX)] if is_sidecar(sidecar) else sidecar


def parse_sidecar(data: bytes, max_bytes: int = DEFAULT_MAX_SIDECAR_BYTES) -> Metadata:
    """The attributes of a sidecar; ``MetadataError`` says what to fix."""
    if len(data) > max_bytes:
        raise MetadataError(
            f"the metadata sidecar is {len(data)} bytes, over the {max_bytes}-byte limit; "
            "keep only the attributes you filter on",
        )
    body = _load(data)
    if not isinstance(body, dict) or not isinstance(body.get("metadataAttributes"), dict):
        raise MetadataError(f"the metadata sidecar has no metadataAttributes object; {_SHAPE_HINT}")
    return {_key(key): _value(key, value) for key, value in body["metadataAttributes"].items()}


def _load(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise MetadataError("the metadata sidecar is not UTF-8 text; save it as UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise MetadataError(
            f"the metadata sidecar is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            f"fix it and {_SHAPE_HINT}",
        ) from exc


def _reject_constant(name: str) -> Any:
    raise MetadataError(f"the metadata sidecar contains {name}, which is not a number; use a finite number")


def _key(key: str) -> str:
    if not key.strip():
        raise MetadataError("the metadata sidecar has an attribute with an empty name; give every attribute a name")
    return key


def _value(key: str, value: Any) -> MetadataValue:
    if isinstance(value, dict):
        value = _typed_value(key, value)
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise MetadataError(
        f"the metadata attribute {key!r} has an unsupported value ({json.dumps(value)[:80]}); "
        "use a string, a number, true/false, or a list of strings",
    )


def _typed_value(key: str, value: dict[str, Any]) -> Any:
    typed = value.get("value")
    kind = str(typed.get("type", "")).upper() if isinstance(typed, dict) else ""
    if not isinstance(typed, dict) or kind not in _TYPED_FIELDS or _TYPED_FIELDS[kind][0] not in typed:
        raise MetadataError(
            f"the metadata attribute {key!r} is an object; use a plain value, or the typed form "
            '{"value": {"type": "STRING", "stringValue": "..."}}',
        )
    field, expected = _TYPED_FIELDS[kind]
    result = typed[field]
    if not isinstance(result, expected) or (kind == "NUMBER" and isinstance(result, bool)):
        raise MetadataError(
            f"the metadata attribute {key!r} is typed {kind} but {field} holds {json.dumps(result)[:80]}; "
            "make the value match its type",
        )
    return result
