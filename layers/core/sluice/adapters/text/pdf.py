"""PDF files through PDFium: text per page, without running headers and footers."""

from __future__ import annotations

import math
import re
from collections import Counter

import pypdfium2 as pdfium

from sluice.adapters.text.decoding import first_line_title, require_content, title_from_source
from sluice.domain.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from sluice.domain.models import Block, ParsedDocument

EDGE_LINES = 2
"""How many lines at the top and at the bottom of a page may be a header or footer."""
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?#+(?:\s*(?:of|/)\s*#+)?\W*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\"')\]]$")


def _normalise(line: str) -> str:
    """Compare lines ignoring case, spacing and digits, so 'Page 3' matches 'Page 4'."""
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def _edge_keys(lines: list[str]) -> set[str]:
    filled = [line for line in lines if line.strip()]
    return {_normalise(line) for line in filled[:EDGE_LINES] + filled[-EDGE_LINES:]}


def _trim(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def repeated_edge_lines(pages: list[list[str]]) -> set[str]:
    """Normalised lines found at the top or bottom of most pages (at least 3 pages needed)."""
    with_text = [lines for lines in pages if lines]
    if len(with_text) < 3:
        return set()
    counts = Counter(key for lines in with_text for key in _edge_keys(lines))
    needed = max(2, math.ceil(0.6 * len(with_text)))
    return {key for key, n in counts.items() if n >= needed}


def strip_edges(lines: list[str], repeated: set[str]) -> list[str]:
    """Drop header/footer lines and bare page numbers from the edges of one page."""
    lines = _trim(lines)
    for _ in range(EDGE_LINES):
        if lines and _is_boilerplate(lines[0], repeated):
            lines = _trim(lines[1:])
        if lines and _is_boilerplate(lines[-1], repeated):
            lines = _trim(lines[:-1])
    return lines


def _is_boilerplate(line: str, repeated: set[str]) -> bool:
    key = _normalise(line)
    return key in repeated or bool(_PAGE_NUMBER.match(key))


def paragraphs(lines: list[str]) -> list[str]:
    """Group the lines of a page into paragraphs.

    PDFs seldom mark paragraphs, so a paragraph ends at a blank line, or at a
    line that ends a sentence while being clearly shorter than its neighbours;
    a short line that starts a paragraph without ending a sentence (a heading)
    stands alone.
    """
    widths = sorted(len(line) for line in lines if line.strip())
    full = widths[len(widths) * 3 // 4] if widths else 0
    result: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            _close(current, result)
            continue
        short = len(line.strip()) < 0.8 * full
        ends_sentence = bool(_SENTENCE_END.search(line.rstrip()))
        if not current and short and not ends_sentence:  # a heading-like line stands alone
            result.append(line.rstrip())
            continue
        current.append(line.rstrip())
        if ends_sentence and short:
            _close(current, result)
    _close(current, result)
    return result


def _close(current: list[str], result: list[str]) -> None:
    if current:
        result.append("\n".join(current))
        current.clear()


class PdfParser:
    """``.pdf`` files with a text layer; blocks carry 1-based page numbers."""

    media_type = "application/pdf"

    def parse(self, data: bytes, source: str) -> ParsedDocument:
        require_content(data, source)
        document = _open(data)
        try:
            metadata_title = (document.get_metadata_value("Title") or "").strip()
            pages = [_page_lines(document, index) for index in range(len(document))]
        except pdfium.PdfiumError as exc:
            raise _corrupt() from exc
        finally:
            document.close()
        blocks = _blocks(pages, repeated_edge_lines(pages)) or _blocks(pages, set())
        if not blocks:
            raise EmptyDocumentError(
                "the PDF has no text layer (its pages look like scanned images); "
                "run OCR on it (e.g. `ocrmypdf input.pdf output.pdf`) and upload again",
            )
        title = metadata_title or first_line_title(blocks[0].text) or title_from_source(source)
        return ParsedDocument(title=title, blocks=blocks, media_type=self.media_type, page_count=len(pages))


def _blocks(pages: list[list[str]], repeated: set[str]) -> list[Block]:
    return [
        Block(text=text, page=number, kind="paragraph")
        for number, lines in enumerate(pages, start=1)
        for text in paragraphs(strip_edges(lines, repeated))
    ]


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise EncryptedDocumentError(
                "the PDF is password-protected; remove the password and upload it again",
            ) from exc
        raise _corrupt() from exc


def _corrupt() -> CorruptDocumentError:
    return CorruptDocumentError(
        "the PDF could not be read (it is damaged or incomplete); open it in a PDF viewer, "
        "save or print it to a new PDF, and upload that",
    )


def _page_lines(document: pdfium.PdfDocument, index: int) -> list[str]:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    # PDFium marks a hyphen that ended a line with U+FFFE (or U+0002) and drops the
    # line break; put both back so cleaning can decide whether to join the word.
    text = text.replace("\ufffe", "-\n").replace("\x02", "-\n")
    return _trim([line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")])
