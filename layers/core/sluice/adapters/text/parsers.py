"""Which parser reads which file: chosen by the file's extension.

Parsers are imported on first use: the PDF, Word and HTML ones need pypdfium2,
python-docx (lxml) and selectolax, which only the ingest side carries (on AWS
they are the ParsersLayer of the ingest function), while the API checks an
upload's name with ``is_supported`` without any of them.
"""

from __future__ import annotations

import importlib
import posixpath
from functools import cache
from typing import Any

from sluice.adapters.text.decoding import source_name
from sluice.adapters.text.sidecar import is_sidecar
from sluice.domain.errors import UnsupportedDocumentError
from sluice.ports import Parser

_TEXT = "sluice.adapters.text."
_PARSERS: dict[str, tuple[str, str, tuple[tuple[str, Any], ...]]] = {
    ".pdf": ("pdf", "PdfParser", ()),
    ".docx": ("docx", "DocxParser", ()),
    ".html": ("html", "HtmlParser", ()),
    ".htm": ("html", "HtmlParser", ()),
    ".md": ("markdown", "MarkdownParser", ()),
    ".markdown": ("markdown", "MarkdownParser", ()),
    ".txt": ("plaintext", "PlainTextParser", ()),
    ".text": ("plaintext", "PlainTextParser", ()),
    ".csv": ("tabular", "CsvParser", ()),
    ".json": ("tabular", "JsonParser", ()),
    ".jsonl": ("tabular", "JsonParser", (("lines", True),)),
}
"""Extension -> (module under sluice.adapters.text, class, constructor keywords)."""

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_PARSERS)


def extension(source: str) -> str:
    """The lower-case extension with its dot, '' when there is none."""
    return posixpath.splitext(source_name(source))[1].lower()


def is_supported(source: str) -> bool:
    """True for a document Sluice can parse (sidecars are metadata, not documents)."""
    return extension(source) in _PARSERS and not is_sidecar(source)


def parser_for(source: str) -> Parser:
    """The parser for ``source``; ``UnsupportedDocumentError`` names the extensions that work."""
    if is_sidecar(source):
        raise UnsupportedDocumentError(
            f"{source_name(source)} is a metadata sidecar, not a document; "
            "it is read together with the document it is named after",
        )
    ext = extension(source)
    if ext not in _PARSERS:
        found = ext or "no extension"
        raise UnsupportedDocumentError(
            f"Sluice cannot read this type of file ({found}); convert it to one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)} and upload it again",
        )
    return _parser(ext)


@cache
def _parser(ext: str) -> Parser:
    module, name, options = _PARSERS[ext]
    parser: Parser = getattr(importlib.import_module(_TEXT + module), name)(**dict(options))
    return parser
