"""The text pipeline shared by the local and AWS backends.

bytes --``parser_for(source).parse``--> ParsedDocument --``clean_document``-->
ParsedDocument --``StructuredChunker.chunk``--> list[Chunk]

Parsers return raw blocks; ``clean_document`` normalises them (NFKC,
de-hyphenation for PDFs, whitespace); the chunker's character offsets point
into ``full_text(document)`` of the document it is given, so clean first.
"""

from sluice.adapters.text.chunker import StructuredChunker, full_text
from sluice.adapters.text.cleaning import clean_document, clean_text
from sluice.adapters.text.parsers import SUPPORTED_EXTENSIONS, is_supported, parser_for
from sluice.adapters.text.sidecar import is_sidecar, parse_sidecar, sidecar_key, source_of_sidecar

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "StructuredChunker",
    "clean_document",
    "clean_text",
    "full_text",
    "is_sidecar",
    "is_supported",
    "parse_sidecar",
    "parser_for",
    "sidecar_key",
    "source_of_sidecar",
]
