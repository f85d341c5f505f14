"""Regenerate the binary files of the sample corpus.

    .venv/bin/python examples/make_corpus_pdf.py

Writes examples/corpus/how-canal-locks-work.pdf (four pages, with a running
header and footer that the PDF parser drops) and examples/corpus/sluice-gates.docx.
"""

from __future__ import annotations

from pathlib import Path

import docx
from fpdf import FPDF

CORPUS = Path(__file__).resolve().parent / "corpus"

PDF_TITLE = "How Canal Locks Work"
PDF_PAGES = [
    (
        "1. What a lock is for",
        [
            "A canal cannot run downhill the way a river does, because the water would simply drain away. "
            "Instead a canal is built as a staircase of level stretches, called pounds, and a lock joins "
            "each pound to the next one up or down the hill.",
            "A lock is a watertight chamber with a gate at each end. By letting water in or out of the "
            "chamber, a boat inside it is raised or lowered from the level of one pound to the level of "
            "the next, without any pumps: gravity does all of the work.",
            "On the fictional Millbrook Canal used as the example in this guide, a flight of seven locks "
            "lifts boats 23 metres from the River Wend to the summit pound at Harlow Top.",
        ],
    ),
    (
        "2. Parts of a lock",
        [
            "The upper gates hold back the water of the higher pound; the lower gates hold back the water "
            "in the chamber. Mitre gates meet at an angle pointing upstream, so the pressure of the water "
            "presses them shut more tightly.",
            "Paddles are small sluices set in the gates or in culverts in the lock walls. They are raised "
            "with a windlass, a removable L-shaped handle that every boater carries.",
            "The balance beams are the long timber arms used to push the gates open. A lock keeper on the "
            "Millbrook Canal reckons a balance beam should never be pushed until the water levels on both "
            "sides of the gate are equal.",
        ],
    ),
    (
        "3. Working a lock, step by step",
        [
            "Going uphill: make sure the chamber is empty and the lower gates are open, bring the boat in, "
            "close the lower gates and their paddles, then raise the upper ground paddles slowly so that "
            "the boat rises gently.",
            "Going downhill: fill the chamber first, bring the boat in, close the upper gates and paddles, "
            "then draw the lower paddles. Keep the boat forward of the cill, the stone ledge under the "
            "upper gates, or the stern can catch on it as the water drops.",
            "A narrow lock on the Millbrook Canal holds about 90,000 litres of water and takes around "
            "eight minutes to fill.",
        ],
    ),
    (
        "4. Saving water",
        [
            "Every time a lock is used, a whole lockful of water passes from the higher pound to the lower "
            "one. Summit pounds are therefore fed by reservoirs and feeder streams.",
            "Side ponds beside a lock store part of the water from an emptying chamber and give it back "
            "on the next filling, saving up to forty per cent of the water.",
            "The Millbrook Canal is fed by Cold Ash Reservoir, which holds 1.2 million cubic metres when full.",
        ],
    ),
]


class _GuidePdf(FPDF):
    def header(self) -> None:
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, "Waterways Field Guide - How Canal Locks Work", align="C")
        self.ln(12)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def make_pdf(path: Path) -> None:
    pdf = _GuidePdf()
    pdf.set_title(PDF_TITLE)
    pdf.set_author("Sluice sample corpus")
    for heading, paragraphs in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, heading)
        pdf.ln(2)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(4)
    pdf.output(str(path))


DOCX_SECTIONS = [
    (
        "Vertical lift gates",
        "A vertical lift gate is a flat steel or timber leaf that slides up and down in grooves in the "
        "side walls. It is the simplest kind of sluice gate and the one most often found on mill races.",
    ),
    (
        "Radial gates",
        "A radial gate is a curved face held on arms that pivot about a horizontal axis. Because the water "
        "pressure acts through the pivot, a radial gate needs far less force to lift than a vertical gate "
        "of the same size. The Wend Weir on the fictional River Wend has three radial gates, each 12 metres wide.",
    ),
    (
        "Flap gates",
        "A flap gate is hinged at the top and opens only one way. It lets a drain empty into a river at "
        "low tide and closes by itself when the river rises, so flood water cannot flow back inland.",
    ),
]

MAINTENANCE = [
    ("Task", "How often", "Who"),
    ("Grease the lifting gear", "Monthly", "Lock keeper"),
    ("Clear debris from the gate sill", "After every flood", "Lock keeper"),
    ("Inspect seals and repaint steelwork", "Every 5 years", "Waterways engineer"),
]


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Sluice Gates: Types and Care"
    document.add_heading("Sluice Gates: Types and Care", level=1)
    document.add_paragraph(
        "A sluice is a channel whose flow is controlled by a gate. Sluice gates set the level of rivers "
        "and canals, feed mills and irrigation ditches, and let flood water through weirs."
    )
    document.add_heading("Kinds of gate", level=2)
    for heading, text in DOCX_SECTIONS:
        document.add_heading(heading, level=3)
        document.add_paragraph(text)
    document.add_heading("Maintenance schedule", level=2)
    table = document.add_table(rows=0, cols=3)
    for row in MAINTENANCE:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    document.save(str(path))


if __name__ == "__main__":
    make_pdf(CORPUS / "how-canal-locks-work.pdf")
    make_docx(CORPUS / "sluice-gates.docx")
