"""Metadata sidecars: good ones become filterable attributes, bad ones say what to fix."""

from __future__ import annotations

import json

import pytest

from sluice.adapters.text import is_sidecar, parse_sidecar, sidecar_key, source_of_sidecar
from sluice.domain.errors import MetadataError


def sidecar(attributes: object) -> bytes:
    return json.dumps({"metadataAttributes": attributes}).encode()


def test_plain_values_of_every_supported_type() -> None:
    data = sidecar({"team": "ops", "year": 2024, "score": 4.5, "public": True, "tags": ["a", "b"]})
    assert parse_sidecar(data, 10_240) == {
        "team": "ops",
        "year": 2024,
        "score": 4.5,
        "public": True,
        "tags": ["a", "b"],
    }


def test_typed_bedrock_form_is_accepted() -> None:
    data = sidecar(
        {
            "team": {"value": {"type": "STRING", "stringValue": "ops"}, "includeForEmbedding": True},
            "year": {"value": {"type": "NUMBER", "numberValue": 2024}},
            "public": {"value": {"type": "BOOLEAN", "booleanValue": False}},
            "tags": {"value": {"type": "STRING_LIST", "stringListValue": ["x"]}},
        }
    )
    assert parse_sidecar(data, 10_240) == {"team": "ops", "year": 2024, "public": False, "tags": ["x"]}


def test_utf8_bom_is_fine() -> None:
    assert parse_sidecar(b"\xef\xbb\xbf" + sidecar({"a": "b"}), 10_240) == {"a": "b"}


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b'{"metadataAttributes": {"a": "b",}}', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"attributes": {"a": "b"}}', "no metadataAttributes object"),
        (b'["a", "b"]', "no metadataAttributes object"),
        (sidecar({"a": None}), "use a string, a number, true/false, or a list of strings"),
        (sidecar({"a": [1, 2]}), "unsupported value"),
        (sidecar({"a": {"nested": 1}}), "typed form"),
        (sidecar({"a": {"value": {"type": "NUMBER", "numberValue": "7"}}}), "typed NUMBER"),
        (b'{"metadataAttributes": {"a": NaN}}', "finite number"),
        (sidecar({"": "b"}), "empty name"),
    ],
)
def test_malformed_sidecars_explain_the_fix(data: bytes, hint: str) -> None:
    with pytest.raises(MetadataError, match=hint) as caught:
        parse_sidecar(data, 10_240)
    assert caught.value.code == "invalid_metadata"


def test_oversized_sidecar_is_refused_with_the_limit() -> None:
    data = sidecar({f"key{i}": "x" * 100 for i in range(200)})
    with pytest.raises(MetadataError, match="over the 10240-byte limit"):
        parse_sidecar(data, 10_240)


def test_sidecar_names() -> None:
    assert sidecar_key("docs/a.pdf") == "docs/a.pdf.metadata.json"
    assert is_sidecar("docs/a.pdf.metadata.json")
    assert not is_sidecar("docs/a.json")
    assert source_of_sidecar("docs/a.pdf.metadata.json") == "docs/a.pdf"
