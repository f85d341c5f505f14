"""Parsers: what a user sees when a file goes in — its text, headings, pages, or a clear reason it cannot."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pikepdf
import pytest
from fpdf import FPDF

from sluice.adapters.text import SUPPORTED_EXTENSIONS, clean_document, parser_for
from sluice.domain.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedDocumentError,
)
from sluice.domain.models import ParsedDocument

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"
PAGE_FACTS = [
    "The upper gate of Lock One is made of green oak.",
    "The second lock is fed by a culvert under the towpath.",
    "The third lock has a rise of four metres and a side pond.",
    "The fourth lock was rebuilt in nineteen eleven.",
]


class _HeaderFooterPdf(FPDF):
    def header(self) -> None:
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, "Millbrook Canal Handbook")
        self.ln(12)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 10, f"Page {self.page_no()}")


def make_pdf(pages: list[str], title: str = "") -> bytes:
    pdf = _HeaderFooterPdf()
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def parse(source: str, data: bytes) -> ParsedDocument:
    return parser_for(source).parse(data, source)


def all_text(document: ParsedDocument) -> str:
    return "\n".join(block.text for block in document.blocks)


# -- PDF -----------------------------------------------------------------------


def test_pdf_blocks_carry_the_page_their_text_is_on() -> None:
    document = parse("handbook.pdf", make_pdf(PAGE_FACTS, title="Canal Handbook"))
    assert document.page_count == 4
    assert document.title == "Canal Handbook"
    for number, fact in enumerate(PAGE_FACTS, start=1):
        pages = {b.page for b in document.blocks if fact.split()[1] in b.text and "lock" in b.text.lower()}
        assert pages == {number}


def test_pdf_drops_running_headers_and_page_numbers() -> None:
    text = all_text(parse("handbook.pdf", make_pdf(PAGE_FACTS)))
    assert "Millbrook Canal Handbook" not in text
    assert "Page 3" not in text
    assert "rebuilt in nineteen eleven" in text


def test_pdf_without_metadata_title_uses_first_line() -> None:
    pages = ["Lock Keeping Basics\n\nSome body text follows here.", "More text.", "Even more text."]
    assert parse("handbook.pdf", make_pdf(pages)).title == "Lock Keeping Basics"


def test_pdf_whose_pages_are_all_alike_keeps_its_text() -> None:
    document = parse("same.pdf", make_pdf(["Lock Keeping Basics\n\nSome body text follows here."] * 3))
    assert "Some body text follows here." in all_text(document)


def test_password_protected_pdf_says_to_remove_the_password() -> None:
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_pdf(PAGE_FACTS))) as pdf:
        pdf.save(buffer, encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))
    with pytest.raises(EncryptedDocumentError, match="password-protected; remove the password"):
        parse("secret.pdf", buffer.getvalue())


def test_truncated_pdf_is_reported_as_damaged_with_advice() -> None:
    data = make_pdf(PAGE_FACTS)
    with pytest.raises(CorruptDocumentError, match="save or print it to a new PDF"):
        parse("broken.pdf", data[: len(data) // 2])


def test_image_only_pdf_asks_for_ocr() -> None:
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    with pytest.raises(EmptyDocumentError, match=r"no text layer.*ocrmypdf"):
        parse("scan.pdf", bytes(pdf.output()))


def test_pdf_hyphenated_line_breaks_are_joined_after_cleaning() -> None:
    long_line = "The whole pattern of locks along the canal is described in this retriev-"
    document = parse("h.pdf", make_pdf([f"{long_line}\nal guide for boaters and keepers alike."]))
    assert "retrieval guide" in all_text(clean_document(document))


# -- empty, binary, unsupported ---------------------------------------------


@pytest.mark.parametrize("extension", SUPPORTED_EXTENSIONS)
def test_zero_byte_file_of_any_type_is_reported_empty(extension: str) -> None:
    with pytest.raises(EmptyDocumentError, match="empty"):
        parse(f"blank{extension}", b"")


@pytest.mark.parametrize("extension", [".txt", ".md", ".html", ".csv", ".json"])
def test_whitespace_only_file_is_reported_empty(extension: str) -> None:
    with pytest.raises(EmptyDocumentError, match="the file is empty"):
        parse(f"blank{extension}", b"  \n\n\t \r\n")


def test_binary_bytes_named_txt_are_refused_as_binary() -> None:
    data = bytes(range(256)) * 8
    with pytest.raises(UnsupportedDocumentError, match="the file is binary, not text"):
        parse("photo.txt", data)


def test_unsupported_extension_lists_what_works() -> None:
    with pytest.raises(UnsupportedDocumentError) as caught:
        parser_for("slides.pptx")
    assert ".pptx" in caught.value.reason
    assert all(ext in caught.value.reason for ext in (".pdf", ".docx", ".md", ".csv"))


def test_sidecar_is_not_parsed_as_a_document() -> None:
    with pytest.raises(UnsupportedDocumentError, match="metadata sidecar"):
        parser_for("report.pdf.metadata.json")


def test_extension_match_ignores_case() -> None:
    assert parser_for("docs/REPORT.PDF").media_type == "application/pdf"


# -- DOCX ----------------------------------------------------------------------


def make_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Gate Care"
    document.add_heading("Gates", level=1)
    document.add_paragraph("Gates hold back water.")
    document.add_heading("Radial gates", level=2)
    document.add_paragraph("A radial gate pivots on arms.")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Task", "When"), ("Grease", "Monthly")], strict=True):
        row.cells[0].text, row.cells[1].text = values
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_build_heading_paths_and_tables_become_rows() -> None:
    document = parse("gates.docx", make_docx())
    assert document.title == "Gate Care"
    body = next(b for b in document.blocks if b.text.startswith("A radial gate"))
    assert body.heading_path == ("Gates", "Radial gates")
    table = next(b for b in document.blocks if b.kind == "table")
    assert table.text.splitlines() == ["Task | When", "Grease | Monthly"]


def test_docx_that_is_not_a_zip_is_reported_damaged() -> None:
    with pytest.raises(CorruptDocumentError, match=r"save it again as \.docx"):
        parse("gates.docx", b"PK\x03\x04 this is not really a word file")


# -- HTML, Markdown, text ----------------------------------------------------


def test_html_keeps_the_article_and_drops_navigation_and_scripts() -> None:
    page = b"""<html><head><title>Weirs</title><script>var x = 'tracking';</script></head><body>
    <nav><a href="/">Home</a> | <a href="/about">About us</a></nav>
    <h1>Weirs</h1><p>A weir holds water upstream.</p>
    <h2>Types</h2><ul><li>Broad-crested</li><li>Sharp-crested</li></ul>
    <footer>Copyright notice</footer></body></html>"""
    document = parse("weirs.html", page)
    text = all_text(document)
    assert document.title == "Weirs"
    assert "A weir holds water upstream." in text
    assert not any(word in text for word in ("Home", "About us", "tracking", "Copyright"))
    item = next(b for b in document.blocks if b.text == "Sharp-crested")
    assert item.heading_path == ("Weirs", "Types")
    assert item.kind == "list"


def test_markdown_front_matter_title_headings_and_whole_code_blocks() -> None:
    source = b"---\ntitle: 'River Words'\ndraft: true\n---\n# Glossary\n\n## Weir\n\nA low wall.\n\n"
    source += b"```python\nlevel = 3\n\nprint(level)\n```\n\nPound\n-----\n\nA level stretch.\n"
    document = parse("words.md", source)
    assert document.title == "River Words"
    assert "draft" not in all_text(document)
    code = next(b for b in document.blocks if b.kind == "code")
    assert code.text == "level = 3\n\nprint(level)"
    assert code.heading_path == ("Glossary", "Weir")
    pound = next(b for b in document.blocks if b.text == "A level stretch.")
    assert pound.heading_path == ("Glossary", "Pound")


@pytest.mark.parametrize(
    "data",
    [
        "Café au lait\n\nNaïve résumé".encode("utf-16"),
        "Café au lait\n\nNaïve résumé".encode("utf-8-sig"),
        "Café au lait\n\nNaïve résumé".encode("cp1252"),
    ],
)
def test_text_files_in_common_encodings_read_correctly(data: bytes) -> None:
    document = parse("notes.txt", data)
    assert [b.text for b in document.blocks] == ["Café au lait", "Naïve résumé"]


# -- CSV and JSON ------------------------------------------------------------


def test_csv_rows_read_as_header_value_pairs() -> None:
    document = parse("prices.csv", b"name,price,notes\nLock key,3,\nWindlass,12,steel\n")
    assert document.blocks[0].text.splitlines() == [
        "name: Lock key; price: 3",
        "name: Windlass; price: 12; notes: steel",
    ]


def test_csv_with_semicolons_is_understood() -> None:
    document = parse("prices.csv", b"name;price\nLock key;3\nWindlass;12\n")
    assert "name: Windlass; price: 12" in all_text(document)


def test_json_records_read_as_key_paths() -> None:
    data = b'{"shop": "Towpath Stores", "items": [{"name": "Rope", "price": 3, "size": {"m": 10}}]}'
    document = parse("shop.json", data)
    assert "shop: Towpath Stores" in all_text(document)
    item = next(b for b in document.blocks if "Rope" in b.text)
    assert item.text == "name: Rope; price: 3; size.m: 10"
    assert item.heading_path == ("items",)


def test_json_lines_and_invalid_json() -> None:
    document = parse("log.jsonl", b'{"lock": 1, "open": true}\n\n{"lock": 2, "open": false}\n')
    assert all_text(document).splitlines() == ["lock: 1; open: true", "lock: 2; open: false"]
    with pytest.raises(CorruptDocumentError, match="not valid JSON"):
        parse("bad.json", b'{"lock": 1,,}')


# -- the sample corpus -----------------------------------------------------


def test_every_sample_corpus_file_parses() -> None:
    files = [p for p in CORPUS.iterdir() if not p.name.endswith(".metadata.json")]
    assert {p.suffix for p in files} >= {".pdf", ".docx", ".html", ".md", ".txt", ".csv", ".json"}
    for path in files:
        assert clean_document(parse(path.name, path.read_bytes())).blocks, path.name


def test_sample_pdf_answer_is_on_page_three() -> None:
    document = clean_document(parse("guide.pdf", (CORPUS / "how-canal-locks-work.pdf").read_bytes()))
    assert {b.page for b in document.blocks if "90,000 litres" in b.text} == {3}
