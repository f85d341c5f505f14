"""What is embedded for a chunk: a short context line, then the chunk text.

The title and heading path help a passage that never names its subject
("It opens at dawn") land near questions about that subject. The context is
cut to a token budget that the chunker leaves free, so the embedded text never
exceeds the model's limit.
"""

from __future__ import annotations

from collections.abc import Callable

from sluice.domain.models import Chunk

CONTEXT_TOKEN_BUDGET = 40


def make_embed_text(
    count_tokens: Callable[[str], int], budget: int = CONTEXT_TOKEN_BUDGET
) -> Callable[[str, Chunk], str]:
    """A function (title, chunk) -> text to embed, its context capped at ``budget`` tokens."""
    cache: dict[str, str] = {}

    def context_for(line: str) -> str:
        if line not in cache:
            words = line.split()
            while words and count_tokens(" ".join(words)) > budget:
                words = words[: max(1, len(words) * 3 // 4)] if len(words) > 1 else []
            cache[line] = " ".join(words)
        return cache[line]

    def embed_text(title: str, chunk: Chunk) -> str:
        parts = [title.strip()] if title.strip() else []
        parts += [h for h in chunk.heading_path if h and h != title]
        context = context_for(" > ".join(parts)) if parts else ""
        return f"{context}\n{chunk.text}" if context else chunk.text

    return embed_text
