"""Which parser reads which file: chosen by the file's extension."""

from __future__ import annotations

import posixpath

from sluice.adapters.text.decoding import source_name
from sluice.adapters.text.docx import DocxParser
from sluice.adapters.text.html import HtmlParser
from sluice.adapters.text.markdown import MarkdownParser
from sluice.adapters.text.pdf import PdfParser
from sluice.adapters.text.plaintext import PlainTextParser
from sluice.adapters.text.sidecar import is_sidecar
from sluice.adapters.text.tabular import CsvParser, JsonParser
from sluice.domain.errors import UnsupportedDocumentError
from sluice.ports import Parser

_PARSERS: dict[str, Parser] = {
    ".pdf": PdfParser(),
    ".docx": DocxParser(),
    ".html": HtmlParser(),
    ".htm": HtmlParser(),
    ".md": MarkdownParser(),
    ".markdown": MarkdownParser(),
    ".txt": PlainTextParser(),
    ".text": PlainTextParser(),
    ".csv": CsvParser(),
    ".json": JsonParser(),
    ".jsonl": JsonParser(lines=True),
}

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
    parser = _PARSERS.get(extension(source))
    if parser is None:
        found = extension(source) or "no extension"
        raise UnsupportedDocumentError(
            f"Sluice cannot read this type of file ({found}); convert it to one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)} and upload it again",
        )
    return parser
