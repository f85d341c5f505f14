"""BlobSource over a BEIR-layout ``corpus.jsonl``: one document per line.

Each record ``{"_id", "title", "text"}`` becomes a Markdown document
``<_id>.md`` whose first heading is the title, so benchmark corpora flow
through the same parse, chunk and embed pipeline as real files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from sluice.domain.errors import NotFoundError
from sluice.domain.models import Blob, BlobInfo

SUFFIX = ".md"


class BeirBlobSource:
    """Read-only documents from a BEIR corpus, loaded into memory once."""

    def __init__(self, corpus: Path, limit: int | None = None, only: set[str] | None = None) -> None:
        self._docs: dict[str, bytes] = {}
        with corpus.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                record = json.loads(line)
                doc_id = str(record["_id"])
                if only is not None and doc_id not in only:
                    continue
                self._docs[doc_id + SUFFIX] = render(record.get("title") or "", record.get("text") or "")
                if limit is not None and len(self._docs) >= limit:
                    break

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        for source, data in self._docs.items():
            if source.startswith(prefix):
                yield BlobInfo(source=source, size=len(data))

    def read(self, source: str) -> Blob:
        try:
            return Blob(source=source, data=self._docs[source])
        except KeyError as exc:
            raise NotFoundError(f"{source} is not in the corpus") from exc

    def stat(self, source: str) -> BlobInfo | None:
        data = self._docs.get(source)
        return BlobInfo(source=source, size=len(data)) if data is not None else None

    def put(self, source: str, data: bytes) -> BlobInfo:
        raise NotFoundError("a benchmark corpus is read-only")

    def delete(self, source: str) -> None:
        raise NotFoundError("a benchmark corpus is read-only")


def render(title: str, text: str) -> bytes:
    """A corpus record as Markdown: the title as the top heading, then the text."""
    title = " ".join(title.split())
    return (f"# {title}\n\n{text.strip()}\n" if title else f"{text.strip()}\n").encode()


def doc_id_of(source: str) -> str:
    return source[: -len(SUFFIX)] if source.endswith(SUFFIX) else source
