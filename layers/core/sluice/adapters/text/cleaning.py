"""Text clean-up between parsing and chunking.

Unicode is normalised (NFKC: ligatures, full-width forms), control and
zero-width characters are dropped, words hyphenated across PDF line breaks are
joined again, and whitespace inside a paragraph collapses to single spaces.
Code keeps its lines and indentation; tables keep one row per line.
"""

from __future__ import annotations

import re
import unicodedata

from sluice.domain.errors import EmptyDocumentError
from sluice.domain.models import Block, ParsedDocument

_INVISIBLE = dict.fromkeys(
    [c for c in range(0x20) if chr(c) not in "\t\n"] + [0x7F, 0xAD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
)
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\n[ \t]*(?=[a-z])")
_SPACES = re.compile(r"[^\S\n]+")
_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str, kind: str = "paragraph", *, join_hyphenation: bool = False) -> str:
    """Clean one block of text; ``kind`` is the block kind (code and table keep their lines)."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_INVISIBLE)
    if kind == "code":
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    if join_hyphenation:
        text = _HYPHEN_BREAK.sub(r"\1", text)
    if kind == "table":
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        return "\n".join(line for line in lines if line)
    return _WHITESPACE.sub(" ", text).strip()


def clean_document(document: ParsedDocument) -> ParsedDocument:
    """The document with every block cleaned and blocks left empty dropped.

    Hyphenation is joined only for PDFs, where line breaks come from layout
    rather than from the author.
    """
    join = document.media_type == "application/pdf"
    blocks = []
    for block in document.blocks:
        text = clean_text(block.text, block.kind, join_hyphenation=join)
        if text.strip():
            path = tuple(clean_text(h) for h in block.heading_path)
            blocks.append(Block(text=text, heading_path=path, page=block.page, kind=block.kind))
    if not blocks:
        raise EmptyDocumentError("the file has no readable text once cleaned; check its content and upload it again")
    title = clean_text(document.title)
    return ParsedDocument(title=title, blocks=blocks, media_type=document.media_type, page_count=document.page_count)
