"""Structure-aware, token-bounded chunking with sentence overlap.

The *full text* of a document is its blocks joined by a blank line
(``"\\n\\n".join(block.text for block in document.blocks)``, see ``full_text``);
every chunk is an exact slice of it: ``chunk.text == full[chunk.char_start:chunk.char_end]``.
Clean the document (``clean_document``) before chunking so offsets point into
the cleaned text.

How the text is cut, coarsest first: top-level sections are never mixed;
whole blocks (paragraphs, lists, tables) are packed while they fit; a block
too long on its own is split at sentence (and line) boundaries; a sentence too
long on its own at word boundaries; a word too long on its own at characters.
Pieces are costed once each with the given counter and summed; each chunk is
then counted once more as a whole, so no chunk ever exceeds ``max_tokens`` even
for a tokenizer whose counts are not exactly additive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sluice.domain.models import Block, Chunk, ParsedDocument

BLOCK_SEPARATOR = "\n\n"
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_WORD = re.compile(r"\S+")


def full_text(document: ParsedDocument) -> str:
    """The text chunk offsets refer to: the blocks joined by a blank line."""
    return BLOCK_SEPARATOR.join(block.text for block in document.blocks)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        _add_trimmed(spans, text, position, match.end())
        position = match.end()
    _add_trimmed(spans, text, position, end)
    return spans


def _add_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


@dataclass(frozen=True)
class _Unit:
    """A piece of the full text that is never cut further when packing."""

    start: int
    end: int
    tokens: int
    block: int
    whole_block: bool


def _sections(blocks: list[Block]) -> Iterator[list[int]]:
    """Runs of block indices that share a top-level section.

    The top level is the shallowest heading depth at which the document has
    more than one section, so a single H1 title over many H2s splits at H2.
    """
    depth = 1
    while depth < 16:
        prefixes = {b.heading_path[:depth] for b in blocks if len(b.heading_path) >= depth}
        deeper = any(len(b.heading_path) > depth for b in blocks)
        if len(prefixes) > 1 or not deeper:
            break
        depth += 1
    run: list[int] = []
    for index, block in enumerate(blocks):
        if run and blocks[run[-1]].heading_path[:depth] != block.heading_path[:depth]:
            yield run
            run = []
        run.append(index)
    if run:
        yield run


class StructuredChunker:
    """Splits a parsed document into chunks of at most ``max_tokens`` tokens.

    ``count_tokens`` is the embedder's own counter (special tokens included);
    ``overlap_tokens`` of whole trailing sentences are repeated at the start of
    the next chunk of the same section (capped at half of ``max_tokens``).
    Chunks with exactly the same text as an earlier one are skipped; ordinals
    run 0..n-1. Deterministic.
    """

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int = 0) -> None:
        self._count_raw = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
        self._overhead = count_tokens("")
        self._budget = max_tokens - self._overhead
        if self._budget < 1:
            raise ValueError(
                f"max_tokens={max_tokens} leaves no room for text: the counter gives {self._overhead} tokens "
                "for empty text (is padding switched on in the tokenizer?)"
            )

    def chunk(self, document: ParsedDocument) -> list[Chunk]:
        return _Run(self, document).chunks()


class _Run:
    """The state of chunking one document: its full text, block offsets and a count cache."""

    def __init__(self, chunker: StructuredChunker, document: ParsedDocument) -> None:
        self.c = chunker
        self.blocks = document.blocks
        self.text = full_text(document)
        self.starts: list[int] = []
        offset = 0
        for block in self.blocks:
            self.starts.append(offset)
            offset += len(block.text) + len(BLOCK_SEPARATOR)
        self.cache: dict[str, int] = {}

    def count(self, start: int, end: int) -> int:
        piece = self.text[start:end]
        if piece not in self.cache:
            self.cache[piece] = self.c._count_raw(piece)
        return self.cache[piece]

    def cost(self, start: int, end: int) -> int:
        return max(self.count(start, end) - self.c._overhead, 0)

    def chunks(self) -> list[Chunk]:
        result: list[Chunk] = []
        seen: set[str] = set()
        for section in _sections(self.blocks):
            units = [unit for index in section for unit in self.units(index)]
            for members, carried, tokens in self.pack(units):
                chunk = self.make_chunk(members, carried, tokens, len(result))
                if chunk.text not in seen:
                    seen.add(chunk.text)
                    result.append(chunk)
        return result

    # -- cutting ------------------------------------------------------------

    def units(self, index: int) -> list[_Unit]:
        spans: list[tuple[int, int]] = []
        _add_trimmed(spans, self.text, self.starts[index], self.starts[index] + len(self.blocks[index].text))
        if not spans:
            return []
        start, end = spans[0]
        tokens = self.cost(start, end)
        if tokens <= self.c._budget:
            return [_Unit(start, end, tokens, index, True)]
        return [unit for s, e in sentence_spans(self.text, start, end) for unit in self.sentence_units(s, e, index)]

    def sentence_units(self, start: int, end: int, index: int) -> list[_Unit]:
        tokens = self.cost(start, end)
        if tokens <= self.c._budget:
            return [_Unit(start, end, tokens, index, False)]
        words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(self.text[start:end])]
        return self.windows(words, index)

    def windows(self, spans: list[tuple[int, int]], index: int) -> list[_Unit]:
        """Greedy runs of ``spans`` that fit, each found by binary search (O(log n) counts)."""
        units: list[_Unit] = []
        i = 0
        while i < len(spans):
            if not self.fits(spans[i][0], spans[i][1]):
                first, last = spans[i]
                units.extend(self.windows([(k, k + 1) for k in range(first, last)], index))
                i += 1
                continue
            lo, hi = i, len(spans) - 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if self.fits(spans[i][0], spans[mid][1]) else (lo, mid - 1)
            units.append(_Unit(spans[i][0], spans[lo][1], self.cost(spans[i][0], spans[lo][1]), index, False))
            i = lo + 1
        return units

    def fits(self, start: int, end: int) -> bool:
        return self.cost(start, end) <= self.c._budget or end - start <= 1

    # -- packing ------------------------------------------------------------

    def pack(self, units: list[_Unit]) -> Iterator[tuple[list[_Unit], int, int]]:
        """Yield (members, how many of them are carried overlap, real token count)."""
        i, carry = 0, list[_Unit]()
        while i < len(units):
            total, j = sum(u.tokens for u in carry), i
            while j < len(units) and total + units[j].tokens <= self.c._budget:
                total += units[j].tokens
                j += 1
            if j == i and carry:  # the overlap leaves no room for the next piece: drop it
                carry = []
                continue
            if i < j - 1 < len(units) - 1 and self.blocks[units[j - 1].block].kind == "heading":
                j -= 1  # a heading opens the next chunk rather than closing this one
            members, carried, tokens = self.verified(carry, units, i, max(j, i + 1))
            yield members, carried, tokens
            i += len(members) - carried
            carry = self.overlap(members) if i < len(units) else []

    def verified(self, carry: list[_Unit], units: list[_Unit], i: int, j: int) -> tuple[list[_Unit], int, int]:
        """Drop the overlap, then trailing pieces, until the real count is within the limit."""
        while True:
            members = carry + units[i:j]
            tokens = self.count(members[0].start, members[-1].end)
            if tokens <= self.c.max_tokens or len(members) == 1:
                return members, len(carry), tokens
            if carry:
                carry = []
            else:
                j -= 1

    def overlap(self, members: list[_Unit]) -> list[_Unit]:
        """Trailing sentences of a chunk worth at most ``overlap_tokens``, never the whole chunk."""
        carry: list[_Unit] = []
        total = 0
        for unit in reversed(members):
            spans = sentence_spans(self.text, unit.start, unit.end) if unit.whole_block else [(unit.start, unit.end)]
            for start, end in reversed(spans):
                if start <= members[0].start:
                    return carry
                tokens = unit.tokens if (start, end) == (unit.start, unit.end) else self.cost(start, end)
                if total + tokens > self.c.overlap_tokens:
                    return carry
                carry.insert(0, _Unit(start, end, tokens, unit.block, False))
                total += tokens
        return carry

    # -- output -------------------------------------------------------------

    def make_chunk(self, members: list[_Unit], carried: int, tokens: int, ordinal: int) -> Chunk:
        start, end = members[0].start, members[-1].end
        first_new = members[min(carried, len(members) - 1)]
        pages = [p for p in (self.blocks[u.block].page for u in members) if p is not None]
        return Chunk(
            text=self.text[start:end],
            ordinal=ordinal,
            heading_path=self.blocks[first_new.block].heading_path,
            page_start=min(pages) if pages else None,
            page_end=max(pages) if pages else None,
            char_start=start,
            char_end=end,
            token_count=tokens,
        )
