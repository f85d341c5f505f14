"""Cleaning: the text people search is the text they would read."""

from __future__ import annotations

import pytest

from sluice.adapters.text import clean_document, clean_text
from sluice.domain.errors import EmptyDocumentError
from sluice.domain.models import Block, ParsedDocument


def test_ligatures_and_full_width_forms_are_normalised() -> None:
    assert clean_text("ﬁsh ﬂow ＡＢＣ") == "fish flow ABC"


def test_control_and_zero_width_characters_are_dropped() -> None:
    assert clean_text("lo\x00ck\u200b gate\x07 soft\u00adhyphen") == "lock gate softhyphen"


def test_whitespace_inside_a_paragraph_collapses() -> None:
    assert clean_text("  a canal\n  lock\t\tchamber  ") == "a canal lock chamber"


def test_pdf_hyphenation_is_joined_but_real_hyphens_stay() -> None:
    text = "retriev-\nal of well-known gates and Anglo-\nSaxon weirs"
    assert clean_text(text, join_hyphenation=True) == "retrieval of well-known gates and Anglo- Saxon weirs"


def test_code_keeps_its_indentation_and_tables_their_rows() -> None:
    assert clean_text("def f():\n    return 1  \n", "code") == "def f():\n    return 1"
    assert clean_text("a  |  b\n\n c | d ", "table") == "a | b\nc | d"


def test_clean_document_joins_hyphens_only_for_pdfs() -> None:
    block = Block(text="retriev-\nal", page=1)
    pdf = clean_document(ParsedDocument(title="t", blocks=[block], media_type="application/pdf"))
    text = clean_document(ParsedDocument(title="t", blocks=[block], media_type="text/plain"))
    assert pdf.blocks[0].text == "retrieval"
    assert text.blocks[0].text == "retriev- al"
    assert pdf.blocks[0].page == 1


def test_document_with_only_invisible_text_is_empty() -> None:
    document = ParsedDocument(title="t", blocks=[Block(text="\u200b\x00 ")], media_type="text/plain")
    with pytest.raises(EmptyDocumentError):
        clean_document(document)
