"""Plain text files: paragraphs are separated by blank lines."""

from __future__ import annotations

import re

from sluice.adapters.text.decoding import decode_text, empty_file_error, first_line_title, title_from_source
from sluice.domain.models import Block, ParsedDocument

_BLANK_LINES = re.compile(r"\n[ \t\f\v]*\n")


def split_paragraphs(text: str) -> list[str]:
    """Non-blank paragraphs of ``text``, split on blank lines, line breaks kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip("\n") for p in _BLANK_LINES.split(text) if p.strip()]


class PlainTextParser:
    """``.txt`` files in UTF-8, UTF-16 (with BOM) or cp1252."""

    media_type = "text/plain"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        text = decode_text(data, source)
        paragraphs = split_paragraphs(text)
        if not paragraphs:
            raise empty_file_error(source)
        title = first_line_title(paragraphs[0], limit=120) or title_from_source(source)
        blocks = [Block(text=p) for p in paragraphs]
        return ParsedDocument(title=title, blocks=blocks, media_type=self.media_type)
