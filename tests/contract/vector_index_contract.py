"""The contract every ``VectorIndex`` adapter keeps.

Subclass ``VectorIndexContract`` in a ``Test...`` class and implement
``make_index``; override ``settle`` when the backend needs a refresh before
writes become searchable (OpenSearch). Vectors are random unit vectors, so
no embedding model is needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sluice.domain.errors import InvalidRequestError
from sluice.domain.filters import parse_filter
from sluice.domain.ids import chunk_id, content_hash, document_id
from sluice.domain.models import IndexedChunk
from sluice.ports import VectorIndex

DIMENSION = 16
TENANT = "acme"


def unit_vectors(count: int, dimension: int = DIMENSION, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_chunk(
    source: str,
    ordinal: int,
    text: str,
    vector: Sequence[float],
    *,
    tenant: str = TENANT,
    title: str = "",
    metadata: dict[str, Any] | None = None,
) -> IndexedChunk:
    doc_id = document_id(tenant, source)
    return IndexedChunk(
        chunk_id=chunk_id(doc_id, ordinal),
        document_id=doc_id,
        tenant=tenant,
        source=source,
        title=title or Path(source).stem,
        text=text,
        vector=[float(x) for x in vector],
        ordinal=ordinal,
        content_hash=content_hash(text),
        document_version="v1",
        heading_path=("Intro", f"Part {ordinal}"),
        page_start=ordinal + 1,
        page_end=ordinal + 1,
        char_start=ordinal * 100,
        char_end=ordinal * 100 + len(text),
        metadata=metadata or {},
    )


def make_document(source: str, texts: Sequence[str], *, seed: int = 0, **kwargs: Any) -> list[IndexedChunk]:
    vectors = unit_vectors(len(texts), seed=seed)
    return [make_chunk(source, n, text, vectors[n], **kwargs) for n, text in enumerate(texts)]


def ids(hits: Sequence[Any]) -> list[str]:
    return [hit.chunk.chunk_id for hit in hits]


FILTER_DOCS = {
    "docs/legal/a.pdf": (
        "Contract Review",
        {"team": "legal", "year": 2021, "tags": ["contract", "nda"], "draft": False},
    ),
    "docs/sales/b.pdf": ("Pricing Plan", {"team": "sales", "year": 2023, "tags": ["pricing"], "draft": True}),
    "docs/legal/c.md": ("NDA Plan", {"team": "legal", "year": 2024, "tags": ["nda"]}),
    "eng/d.txt": ("Design Notes", {"team": "engineering", "year": 2019, "tags": [], "ratio": 0.5}),
}
FILTER_CASES = [
    ({"equals": {"key": "team", "value": "legal"}}, "ac"),
    ({"notEquals": {"key": "team", "value": "legal"}}, "bd"),
    ({"notEquals": {"key": "draft", "value": True}}, "acd"),
    ({"equals": {"key": "draft", "value": True}}, "b"),
    ({"equals": {"key": "tags", "value": "pricing"}}, "b"),
    ({"greaterThan": {"key": "year", "value": 2021}}, "bc"),
    ({"greaterThanOrEquals": {"key": "year", "value": 2021}}, "abc"),
    ({"lessThan": {"key": "year", "value": 2021}}, "d"),
    ({"lessThanOrEquals": {"key": "year", "value": 2021}}, "ad"),
    ({"lessThan": {"key": "ratio", "value": 0.75}}, "d"),
    ({"in": {"key": "team", "value": ["legal", "sales"]}}, "abc"),
    ({"notIn": {"key": "team", "value": ["legal"]}}, "bd"),
    ({"startsWith": {"key": "source", "value": "docs/legal/"}}, "ac"),
    ({"listContains": {"key": "tags", "value": "nda"}}, "ac"),
    ({"stringContains": {"key": "title", "value": "Plan"}}, "bc"),
    ({"stringContains": {"key": "tags", "value": "pric"}}, "b"),
    ({"andAll": [{"equals": {"key": "team", "value": "legal"}}, {"greaterThan": {"key": "year", "value": 2022}}]}, "c"),
    ({"orAll": [{"equals": {"key": "team", "value": "sales"}}, {"lessThan": {"key": "year", "value": 2020}}]}, "bd"),
    (
        {
            "andAll": [
                {
                    "orAll": [
                        {"equals": {"key": "team", "value": "legal"}},
                        {"equals": {"key": "team", "value": "sales"}},
                    ]
                },
                {"notIn": {"key": "year", "value": [2024]}},
            ]
        },
        "ab",
    ),
    ({"equals": {"key": "unknown", "value": "x"}}, ""),
]
ODD_QUERIES = [
    '"unbalanced quote',
    "title:report AND (",
    "report) OR NOT -",
    "+report -sales ~2 ^3 *",
    "[1 TO 2] {x} \\ / ! ? & | < > = ;",
    "IN [a b] report:",
    "élan naïve 日本語 report",
]


class VectorIndexContract:
    """Behaviour every ``VectorIndex`` adapter must show; subclasses implement ``make_index``."""

    def make_index(self, tmp_path: Path, dimension: int) -> VectorIndex:
        raise NotImplementedError

    def settle(self, index: VectorIndex) -> None:
        """Make previous writes searchable; a no-op for backends that are immediately consistent."""

    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[VectorIndex]:
        index = self.make_index(tmp_path, DIMENSION)
        yield index
        close = getattr(index, "close", None)
        if close is not None:
            close()

    def write(self, index: VectorIndex, upserts: Sequence[IndexedChunk], deletes: Sequence[str] = ()) -> None:
        index.write(upserts, deletes)
        self.settle(index)

    def test_upsert_then_search_in_both_modes(self, index: VectorIndex) -> None:
        doc = make_document("guide.md", ["Salmon migrate upstream to spawn.", "Bees pollinate flowering plants."])
        self.write(index, doc)

        keyword = index.keyword_search("salmon spawning", 5, tenant=TENANT)
        vector = index.vector_search(doc[1].vector or [], 5, tenant=TENANT)

        assert ids(keyword) == [doc[0].chunk_id]
        assert keyword[0].score > 0 and "salmon" in keyword[0].highlights
        assert ids(vector)[0] == doc[1].chunk_id and vector[0].score == pytest.approx(1.0, abs=1e-5)
        assert vector[0].chunk.text == doc[1].text and vector[0].chunk.page_start == 2
        assert vector[0].chunk.heading_path == ("Intro", "Part 1")
        assert index.count() == 2

    def test_results_are_best_first(self, index: VectorIndex) -> None:
        texts = ["river", "river river fish", "river river river river fish fish", "mountain"]
        self.write(index, make_document("r.txt", texts))
        query = unit_vectors(1, seed=9)[0]

        keyword = index.keyword_search("river fish", 10, tenant=TENANT)
        vector = index.vector_search(query.tolist(), 10, tenant=TENANT)

        assert len(keyword) == 3 and len(vector) == 4
        for hits in (keyword, vector):
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_upsert_of_the_same_id_replaces(self, index: VectorIndex) -> None:
        old = make_chunk("a.txt", 0, "the walrus sleeps on ice", unit_vectors(1, seed=1)[0])
        new = make_chunk("a.txt", 0, "the penguin swims in water", unit_vectors(1, seed=2)[0])
        self.write(index, [old])
        self.write(index, [new])

        assert index.count() == 1
        assert index.keyword_search("walrus", 5, tenant=TENANT) == []
        assert ids(index.keyword_search("penguin", 5, tenant=TENANT)) == [new.chunk_id]
        hit = index.vector_search(new.vector or [], 5, tenant=TENANT)[0]
        assert hit.score == pytest.approx(1.0, abs=1e-5) and hit.chunk.text == new.text
        assert index.vectors([new.chunk_id])[new.chunk_id].content_hash == new.content_hash

    def test_delete_removes_from_both_modes(self, index: VectorIndex) -> None:
        doc = make_document("d.txt", ["otters hold hands", "otters eat clams"])
        self.write(index, doc)
        self.write(index, [], [doc[0].chunk_id])

        assert ids(index.keyword_search("otters", 5, tenant=TENANT)) == [doc[1].chunk_id]
        assert ids(index.vector_search(doc[0].vector or [], 5, tenant=TENANT)) == [doc[1].chunk_id]
        assert index.count() == 1 and [c.chunk_id for c in index.chunks_of(doc[0].document_id)] == [doc[1].chunk_id]

    def test_deleting_missing_ids_is_fine(self, index: VectorIndex) -> None:
        doc = make_document("d.txt", ["kept"])
        self.write(index, doc)
        self.write(index, [], ["nope-00000", "nope-00001"])
        self.write(index, [], [])
        assert index.count() == 1

    def test_write_applies_upserts_and_deletes_together(self, index: VectorIndex) -> None:
        first = make_document("v1.txt", ["alpha one", "alpha two", "alpha three"], seed=1)
        second = make_document("v2.txt", ["beta one"], seed=2)
        self.write(index, first)
        self.write(index, second, [c.chunk_id for c in first[1:]])

        assert index.count() == 2
        assert ids(index.keyword_search("alpha", 10, tenant=TENANT)) == [first[0].chunk_id]
        assert ids(index.keyword_search("beta", 10, tenant=TENANT)) == [second[0].chunk_id]
        assert set(ids(index.vector_search(second[0].vector or [], 10, tenant=TENANT))) == {
            first[0].chunk_id,
            second[0].chunk_id,
        }

    def test_vectors_returns_stored_vectors_and_content_hashes(self, index: VectorIndex) -> None:
        doc = make_document("v.txt", ["one", "two"], seed=4)
        self.write(index, doc)

        stored = index.vectors([doc[0].chunk_id, doc[1].chunk_id, "missing-00000"])

        assert set(stored) == {doc[0].chunk_id, doc[1].chunk_id}
        for chunk in doc:
            assert stored[chunk.chunk_id].content_hash == chunk.content_hash
            np.testing.assert_allclose(stored[chunk.chunk_id].vector, chunk.vector or [], rtol=1e-6)
        assert index.vectors([]) == {}

    def test_chunks_of_returns_a_document_by_ordinal_without_vectors(self, index: VectorIndex) -> None:
        doc = make_document("o.txt", [f"part {n}" for n in range(12)], metadata={"team": "x"})
        other = make_document("other.txt", ["elsewhere"])
        self.write(index, [*reversed(doc), *other])

        chunks = index.chunks_of(doc[0].document_id)

        assert [c.ordinal for c in chunks] == list(range(12))
        assert all(c.vector is None for c in chunks)
        assert chunks[3].text == "part 3" and chunks[3].metadata == {"team": "x"} and chunks[3].char_start == 300
        assert index.chunks_of("no-such-document") == []

    def test_tenants_never_see_each_other(self, index: VectorIndex) -> None:
        vector = unit_vectors(1, seed=5)[0]
        mine = make_chunk("s.txt", 0, "quarterly secrets", vector, tenant="acme")
        theirs = make_chunk("s.txt", 0, "quarterly secrets", vector, tenant="globex")
        self.write(index, [mine, theirs])

        for tenant, chunk in (("acme", mine), ("globex", theirs)):
            assert ids(index.keyword_search("quarterly", 10, tenant=tenant)) == [chunk.chunk_id]
            assert ids(index.vector_search(vector.tolist(), 10, tenant=tenant)) == [chunk.chunk_id]
        assert index.keyword_search("quarterly", 10, tenant="initech") == []
        assert index.vector_search(vector.tolist(), 10, tenant="initech") == []

    @pytest.mark.parametrize(("raw", "expected"), FILTER_CASES, ids=[str(raw) for raw, _ in FILTER_CASES])
    def test_filters_select_matching_chunks_in_both_modes(
        self, index: VectorIndex, raw: dict[str, Any], expected: str
    ) -> None:
        vectors = unit_vectors(len(FILTER_DOCS), seed=6)
        chunks = [
            make_chunk(source, 0, f"annual report {n}", vectors[n], title=title, metadata=metadata)
            for n, (source, (title, metadata)) in enumerate(FILTER_DOCS.items())
        ]
        self.write(index, chunks)
        by_letter = {Path(c.source).stem: c.chunk_id for c in chunks}
        wanted = {by_letter[letter] for letter in expected}
        condition = parse_filter(raw)

        keyword = index.keyword_search("report", 10, tenant=TENANT, filter=condition)
        vector = index.vector_search(vectors[0].tolist(), 10, tenant=TENANT, filter=condition)

        assert set(ids(keyword)) == wanted and set(ids(vector)) == wanted

    def test_filter_by_document_id(self, index: VectorIndex) -> None:
        first, second = make_document("1.txt", ["shared words"]), make_document("2.txt", ["shared words"], seed=1)
        self.write(index, first + second)
        condition = parse_filter({"equals": {"key": "document_id", "value": second[0].document_id}})

        assert ids(index.keyword_search("shared", 10, tenant=TENANT, filter=condition)) == [second[0].chunk_id]
        assert ids(index.vector_search(first[0].vector or [], 10, tenant=TENANT, filter=condition)) == [
            second[0].chunk_id
        ]

    def test_filtered_search_reaches_matches_ranked_far_down(self, index: VectorIndex) -> None:
        vectors = unit_vectors(300, seed=7)
        chunks = [
            make_chunk("bulk.txt", n, "common " * (1 + n % 7) + "tail", vectors[n], metadata={"rare": n >= 297})
            for n in range(300)
        ]
        self.write(index, chunks)
        query = -vectors[298]  # the rare chunks are among the worst by vector
        condition = parse_filter({"equals": {"key": "rare", "value": True}})
        rare = {c.chunk_id for c in chunks[297:]}

        assert set(ids(index.vector_search(query.tolist(), 3, tenant=TENANT, filter=condition))) == rare
        assert set(ids(index.keyword_search("common", 3, tenant=TENANT, filter=condition))) == rare

    def test_k_is_respected(self, index: VectorIndex) -> None:
        doc = make_document("k.txt", [f"lantern {n}" for n in range(20)])
        self.write(index, doc)

        assert len(index.keyword_search("lantern", 7, tenant=TENANT)) == 7
        assert len(index.vector_search(doc[0].vector or [], 7, tenant=TENANT)) == 7
        assert len(index.vector_search(doc[0].vector or [], 50, tenant=TENANT)) == 20

    @pytest.mark.parametrize("query", ODD_QUERIES)
    def test_query_syntax_characters_never_raise(self, index: VectorIndex, query: str) -> None:
        doc = make_document("q.txt", ["the annual report is due"])
        self.write(index, doc)

        hits = index.keyword_search(query, 5, tenant=TENANT)

        assert ids(hits) in ([], [doc[0].chunk_id])

    @pytest.mark.parametrize("query", ["", "   ", "\n\t", "?!"])
    def test_empty_query_finds_nothing(self, index: VectorIndex, query: str) -> None:
        self.write(index, make_document("e.txt", ["anything at all"]))
        assert index.keyword_search(query, 5, tenant=TENANT) == []

    def test_vectors_of_the_wrong_length_are_rejected(self, index: VectorIndex) -> None:
        with pytest.raises(InvalidRequestError):
            index.vector_search([1.0, 0.0], 5, tenant=TENANT)
        with pytest.raises(InvalidRequestError):
            index.write([make_chunk("w.txt", 0, "short", [1.0, 0.0])])
        assert index.count() == 0

    def test_empty_index_finds_nothing(self, index: VectorIndex) -> None:
        assert index.count() == 0
        assert index.keyword_search("anything", 5, tenant=TENANT) == []
        assert index.vector_search(unit_vectors(1)[0].tolist(), 5, tenant=TENANT) == []
