"""Word documents (.docx): headings, paragraphs, lists and tables in reading order."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from sluice.adapters.text.decoding import require_content, title_from_source
from sluice.domain.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from sluice.domain.models import Block, ParsedDocument

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE = re.compile(r"^heading\s*(\d+)$", re.IGNORECASE)
_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def heading_level(paragraph: Paragraph) -> int | None:
    """1 for 'Heading 1' and so on; None for body text."""
    name = paragraph.style.name if paragraph.style is not None else ""
    match = _HEADING_STYLE.match(name or "")
    return int(match.group(1)) if match else None


def table_text(table: Table) -> str:
    """One line per row, cells joined by ' | ' (merged cells once)."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:
                cells.append(text)
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


class _Builder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.style_title = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.headings)

    def paragraph(self, paragraph: Paragraph) -> None:
        text = paragraph.text.strip()
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = heading_level(paragraph)
        if style.lower() == "title":
            self.style_title = self.style_title or text
            level = 1
        if level is not None:
            self.headings = [(lv, t) for lv, t in self.headings if lv < level] + [(level, text)]
            self.blocks.append(Block(text=text, heading_path=self.path, kind="heading"))
        else:
            kind = "list" if style.lower().startswith("list") else "paragraph"
            self.blocks.append(Block(text=text, heading_path=self.path, kind=kind))

    def table(self, table: Table) -> None:
        text = table_text(table)
        if text.strip():
            self.blocks.append(Block(text=text, heading_path=self.path, kind="table"))


class DocxParser:
    """``.docx`` files; 'Heading n' styles build ``heading_path``."""

    media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        require_content(data, source)
        document = _open(data)
        builder = _Builder()
        try:
            for element in document.element.body.iterchildren():
                _visit(builder, element, document)
        except (KeyError, ValueError, AttributeError) as exc:
            raise _corrupt() from exc
        if not builder.blocks:
            raise EmptyDocumentError("the Word document has no text; add content to it and upload it again")
        title = (document.core_properties.title or "").strip() or builder.style_title
        title = title or next((b.text for b in builder.blocks if b.kind == "heading"), "") or title_from_source(source)
        return ParsedDocument(title=title, blocks=builder.blocks, media_type=self.media_type)


def _visit(builder: _Builder, element: Any, document: Any) -> None:
    if element.tag == f"{_W_NS}p":
        builder.paragraph(Paragraph(element, document))
    elif element.tag == f"{_W_NS}tbl":
        builder.table(Table(element, document))
    elif element.tag == f"{_W_NS}sdt":  # content controls wrap ordinary paragraphs and tables
        content = element.find(f"{_W_NS}sdtContent")
        for child in content.iterchildren() if content is not None else ():
            _visit(builder, child, document)


def _open(data: bytes) -> Any:
    if data.startswith(_OLE_MAGIC):
        raise EncryptedDocumentError(
            "the file is a password-protected Word document or an old .doc file; "
            "remove the password, or open it in Word and save it as .docx, then upload it again",
        )
    try:
        return docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _corrupt() from exc
    except Exception as exc:  # python-docx also raises KeyError, ValueError and lxml errors on bad parts
        raise _corrupt() from exc


def _corrupt() -> CorruptDocumentError:
    return CorruptDocumentError(
        "the Word document could not be read (it is damaged or not really a .docx); "
        "open it in Word or LibreOffice, save it again as .docx, and upload that",
    )
