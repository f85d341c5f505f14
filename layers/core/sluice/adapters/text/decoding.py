"""Helpers every text parser shares: decoding bytes, refusing empty or binary files, titles."""

from __future__ import annotations

import codecs
import posixpath

from sluice.domain.errors import EmptyDocumentError, UnsupportedDocumentError

_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_MAX_CONTROL_RATIO = 0.02
_SAMPLE_CHARS = 65_536


def empty_file_error(source: str) -> EmptyDocumentError:
    return EmptyDocumentError(
        f"the file is empty ({source_name(source)} has no text); add content to it and upload it again",
    )


def require_content(data: bytes, source: str) -> None:
    """Raise ``EmptyDocumentError`` for 0-byte or whitespace-only files."""
    if not data.strip():
        raise empty_file_error(source)


def decode_text(data: bytes, source: str) -> str:
    """Decode the bytes of a text file, refusing empty and binary content.

    UTF-8 (with or without BOM) first; UTF-16 only with a BOM; cp1252 as the
    last resort, and only when the result still looks like text.
    """
    require_content(data, source)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_or_none(data, "utf-16")
    elif data.startswith(codecs.BOM_UTF8):
        text = _decode_or_none(data, "utf-8-sig")
    elif b"\x00" in data:
        raise binary_file_error(source)
    else:
        text = _decode_or_none(data, "utf-8") or _decode_or_none(data, "cp1252")
    if text is None or not looks_like_text(text):
        raise binary_file_error(source)
    if not text.strip():
        raise empty_file_error(source)
    return text


def looks_like_text(text: str) -> bool:
    """True when the sample has no NUL and few control characters."""
    sample = text[:_SAMPLE_CHARS]
    if "\x00" in sample:
        return False
    controls = sum(1 for ch in sample if ch < " " and ch not in _ALLOWED_CONTROLS)
    return controls <= _MAX_CONTROL_RATIO * max(len(sample), 1)


def binary_file_error(source: str) -> UnsupportedDocumentError:
    return UnsupportedDocumentError(
        f"the file is binary, not text ({source_name(source)} is named like a text file but holds binary data); "
        "check that it is the file you meant, or save it in a supported format and give it the matching extension",
    )


def source_name(source: str) -> str:
    return posixpath.basename(source.replace("\\", "/")) or source


def title_from_source(source: str) -> str:
    """A readable title from the file name: ``docs/river_locks.md`` -> ``river locks``."""
    stem = source_name(source).rsplit(".", 1)[0]
    return " ".join(stem.replace("_", " ").replace("-", " ").split()) or source


def first_line_title(text: str, limit: int = 200) -> str:
    """The first non-blank line, when short enough to be a title; else ''."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else ""
    return ""


def _decode_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None
