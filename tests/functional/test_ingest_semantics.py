"""What a user sees when files are added, changed, deleted or broken."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest
from fpdf import FPDF

from sluice.domain.ids import document_id
from sluice.domain.models import DocumentStatus, SearchMode
from tests.fakes import make_container

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "locks.md").write_text("# Locks\n\nA lock raises boats between pounds of water.\n")
    (folder / "weirs.txt").write_text("A weir holds back the river and keeps the level steady upstream.\n")
    return folder


def _container(tmp_path: Path, **settings):
    return make_container(tmp_path / "state", **settings)


def _sources(container, query: str, mode=SearchMode.KEYWORD) -> set[str]:
    hits = container.query.search(query, tenant="default", k=50, mode=mode).hits
    return {Path(h.chunk.source).name for h in hits}


def test_second_ingest_of_unchanged_files_makes_no_embedding_calls(tmp_path, docs):
    c = _container(tmp_path)
    first = c.ingest.sync(str(docs.resolve()))
    assert first.count("indexed") == 2 and first.embedding_calls == 2
    again = c.ingest.sync(str(docs.resolve()))
    assert again.count("unchanged") == 2 and again.embedding_calls == 0


def test_changed_file_replaces_every_old_chunk(tmp_path, docs):
    c = _container(tmp_path, chunk_tokens=40, chunk_overlap_tokens=0)
    long = "\n\n".join(f"Paragraph {n} talks about marmalade number {n} in some detail here." for n in range(30))
    (docs / "locks.md").write_text(f"# Locks\n\n{long}\n")
    c.ingest.sync(str(docs.resolve()))
    doc = document_id("default", str((docs / "locks.md").resolve()))
    assert len(c.index.chunks_of(doc)) > 3
    (docs / "locks.md").write_text("# Locks\n\nNow the page only mentions gongoozlers.\n")
    report = c.ingest.sync(str(docs.resolve()))
    assert report.count("indexed") == 1
    chunks = c.index.chunks_of(doc)
    assert len(chunks) == 1 and "gongoozlers" in chunks[0].text and "marmalade" not in chunks[0].text
    assert _sources(c, "marmalade") == set()
    assert _sources(c, "marmalade", SearchMode.VECTOR) <= {"locks.md", "weirs.txt"}
    assert c.registry.get(doc).chunk_count == 1


def test_unchanged_chunks_reuse_their_vectors(tmp_path, docs):
    c = _container(tmp_path, chunk_tokens=40, chunk_overlap_tokens=0)
    paragraphs = [f"Section {n} describes the tow path near bridge {n} and its moorings." for n in range(12)]
    (docs / "locks.md").write_text("\n\n".join(paragraphs))
    c.ingest.sync(str(docs.resolve()))
    before = c.embedder.texts_embedded
    paragraphs[-1] = "The last section now describes a swing bridge instead."
    (docs / "locks.md").write_text("\n\n".join(paragraphs))
    c.ingest.sync(str(docs.resolve()))
    total = len(c.index.chunks_of(document_id("default", str((docs / "locks.md").resolve()))))
    assert 1 <= c.embedder.texts_embedded - before < total


def test_deleted_file_disappears_with_sync_and_can_come_back(tmp_path, docs):
    c = _container(tmp_path)
    c.ingest.sync(str(docs.resolve()))
    (docs / "weirs.txt").unlink()
    report = c.ingest.sync(str(docs.resolve()))
    assert report.count("deleted") == 1
    assert "weirs.txt" not in _sources(c, "weir river level")
    doc = document_id("default", str((docs / "weirs.txt").resolve()))
    assert c.registry.get(doc).status is DocumentStatus.DELETED
    (docs / "weirs.txt").write_text("The weir is back, holding the river.\n")
    assert c.ingest.sync(str(docs.resolve())).count("indexed") == 1
    assert "weirs.txt" in _sources(c, "weir")


def test_sidecar_change_reingests_and_filters_see_it(tmp_path, docs):
    from sluice.domain.filters import parse_filter

    c = _container(tmp_path)
    sidecar = docs / "locks.md.metadata.json"
    sidecar.write_text('{"metadataAttributes": {"team": "ops"}}')
    c.ingest.sync(str(docs.resolve()))
    ops = parse_filter({"equals": {"key": "team", "value": "ops"}})
    assert {Path(h.chunk.source).name for h in c.query.search("lock", tenant="default", filter=ops).hits} == {
        "locks.md"
    }
    sidecar.write_text('{"metadataAttributes": {"team": "legal"}}')
    assert c.ingest.sync(str(docs.resolve())).count("indexed") == 1
    assert c.query.search("lock", tenant="default", filter=ops).hits == []


def _pdf(text: str | None) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    if text:
        pdf.set_font("Helvetica", size=12)
        pdf.cell(text=text)
    else:
        pdf.rect(20, 20, 80, 40, style="F")
    return bytes(pdf.output())


def _encrypted_pdf() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(_pdf("secret plans"))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="u"))
    return out.getvalue()


BAD_FILES = {
    "corrupt.pdf": (lambda: _pdf("fine text")[:300], "corrupt_document"),
    "encrypted.pdf": (_encrypted_pdf, "encrypted_document"),
    "scanned.pdf": (lambda: _pdf(None), "empty_document"),
    "empty.txt": (lambda: b"", "empty_document"),
    "blank.md": (lambda: b"   \n\n  ", "empty_document"),
    "binary.txt": (lambda: bytes(range(256)) * 8, "unsupported_document"),
    "slides.pptx": (lambda: b"PK\x03\x04 not really", "unsupported_document"),
}


def test_each_bad_file_fails_alone_with_a_reason(tmp_path, docs):
    for name, (make, _) in BAD_FILES.items():
        (docs / name).write_bytes(make())
    (docs / "bad-meta.txt").write_text("Fine text with broken metadata.")
    (docs / "bad-meta.txt.metadata.json").write_text("{not json")
    (docs / "big-meta.txt").write_text("Fine text with a huge sidecar.")
    (docs / "big-meta.txt.metadata.json").write_text('{"metadataAttributes": {"x": "' + "y" * 20_000 + '"}}')
    c = _container(tmp_path)
    report = c.ingest.sync(str(docs.resolve()))
    failed = {Path(o.source).name: o for o in report.failed}
    assert {Path(o.source).name for o in report.outcomes if o.outcome == "indexed"} == {"locks.md", "weirs.txt"}
    expected = {name: code for name, (_, code) in BAD_FILES.items()}
    expected.update({"bad-meta.txt": "invalid_metadata", "big-meta.txt": "invalid_metadata"})
    assert {name: o.code for name, o in failed.items()} == expected
    for name, outcome in failed.items():
        record = c.registry.get(document_id("default", str((docs / name).resolve())))
        assert record.status is DocumentStatus.FAILED and record.error == outcome.reason
        assert len(outcome.reason) > 30, f"{name}: reason too terse to act on: {outcome.reason!r}"
    assert "password" in failed["encrypted.pdf"].reason
    assert "OCR" in failed["scanned.pdf"].reason or "text layer" in failed["scanned.pdf"].reason


def test_file_over_the_size_limit_fails_with_the_limit_named(tmp_path, docs):
    c = _container(tmp_path, max_file_bytes=(docs / "locks.md").stat().st_size)
    report = c.ingest.sync(str(docs.resolve()))
    failed = {Path(o.source).name: o for o in report.failed}
    assert set(failed) == {"weirs.txt"} and failed["weirs.txt"].code == "document_too_large"
    assert "SLUICE_MAX_FILE_BYTES" in failed["weirs.txt"].reason


def test_a_document_that_turns_bad_leaves_no_stale_chunks(tmp_path, docs):
    c = _container(tmp_path)
    c.ingest.sync(str(docs.resolve()))
    assert "weirs.txt" in _sources(c, "weir")
    (docs / "weirs.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = c.ingest.sync(str(docs.resolve()))
    assert len(report.failed) == 1
    assert "weirs.txt" not in _sources(c, "weir") and "weirs.txt" not in _sources(c, "weir", SearchMode.VECTOR)


def test_out_of_order_versions_end_in_the_newest_state(tmp_path, docs):
    c = _container(tmp_path)
    source = str((docs / "locks.md").resolve())
    assert c.ingest.ingest(source, version="0002").outcome == "indexed"
    assert c.ingest.ingest(source, version="0001").outcome == "stale"
    assert c.ingest.delete(source, version="0001").outcome == "stale"
    assert "locks.md" in _sources(c, "lock")
    assert c.ingest.delete(source, version="0003").outcome == "deleted"
    assert c.ingest.ingest(source, version="0002").outcome == "stale"
    assert "locks.md" not in _sources(c, "lock")


def test_sample_corpus_ingests_every_format(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    c = _container(tmp_path)
    report = c.ingest.sync(str(folder.resolve()))
    assert report.failed == []
    suffixes = {Path(o.source).suffix for o in report.outcomes if o.outcome == "indexed"}
    assert suffixes == {".pdf", ".docx", ".html", ".md", ".txt", ".csv", ".json"}
