"""FolderWatcher: files created, changed, moved and deleted in a watched folder reach the index."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sluice.bootstrap import Container
from sluice.domain.ids import document_id
from sluice.domain.models import DocumentStatus
from sluice.watcher import FolderWatcher
from tests.fakes import make_container

WAIT_S = 15.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "otters.md").write_text("# Otters\n\nOtters hold hands while they sleep so they do not drift apart.\n")
    return docs


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = make_container(tmp_path / "state")
    yield c
    c.close()


@pytest.fixture
def watcher(container: Container, folder: Path) -> Iterator[FolderWatcher]:
    w = FolderWatcher(container.ingest, folder, ignore=[container.settings.state_dir], debounce_s=0.2)
    w.start()
    assert w.synced.wait(WAIT_S), "the first sync did not finish"
    yield w
    w.stop()


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"after {WAIT_S} s, still not true: {what}")


def texts(c: Container, path: Path) -> str:
    doc = document_id(c.settings.tenant, path.resolve().as_posix())
    return " ".join(chunk.text for chunk in c.index.chunks_of(doc))


def status(c: Container, path: Path) -> DocumentStatus | None:
    record = c.registry.get(document_id(c.settings.tenant, path.resolve().as_posix()))
    return record.status if record else None


def test_the_first_sync_indexes_what_is_already_there(container, folder, watcher):
    assert "hold hands" in texts(container, folder / "otters.md")


def test_a_new_file_is_indexed(container, folder, watcher):
    (folder / "beavers.txt").write_text("Beavers build dams from branches and mud.")
    eventually(lambda: "dams" in texts(container, folder / "beavers.txt"), "beavers.txt is indexed")


def test_a_changed_file_replaces_its_old_text(container, folder, watcher):
    (folder / "otters.md").write_text("# Otters\n\nSea otters keep a favourite stone in a pouch of skin.\n")
    eventually(lambda: "favourite stone" in texts(container, folder / "otters.md"), "the new text is indexed")
    assert "hold hands" not in texts(container, folder / "otters.md")


def test_a_deleted_file_leaves_no_chunks(container, folder, watcher):
    (folder / "otters.md").unlink()
    eventually(lambda: status(container, folder / "otters.md") is DocumentStatus.DELETED, "otters.md is deleted")
    assert texts(container, folder / "otters.md") == ""


def test_a_moved_file_is_indexed_under_its_new_name(container, folder, watcher):
    (folder / "otters.md").rename(folder / "sea-otters.md")
    eventually(lambda: "hold hands" in texts(container, folder / "sea-otters.md"), "the new name is indexed")
    eventually(lambda: texts(container, folder / "otters.md") == "", "the old name is gone")


def test_a_sidecar_change_reingests_its_document(container, folder, watcher):
    (folder / "otters.md.metadata.json").write_text(json.dumps({"metadataAttributes": {"team": "wildlife"}}))

    def tagged() -> bool:
        doc = document_id(container.settings.tenant, (folder / "otters.md").resolve().as_posix())
        return any(c.metadata.get("team") == "wildlife" for c in container.index.chunks_of(doc))

    eventually(tagged, "the sidecar's metadata is on the chunks")


def test_a_burst_of_writes_is_ingested_once_in_its_final_state(container, folder, watcher):
    target = folder / "burst.md"
    for n in range(10):
        target.write_text(f"# Burst\n\nVersion number {n} of the burst file.\n")
    eventually(lambda: "Version number 9" in texts(container, target), "the last version is indexed")
    assert "Version number 8" not in texts(container, target)


def test_a_file_in_a_new_subfolder_is_indexed(container, folder, watcher):
    sub = folder / "rivers"
    sub.mkdir()
    (sub / "thames.txt").write_text("The Thames rises at Thames Head in Gloucestershire.")
    eventually(lambda: "Gloucestershire" in texts(container, sub / "thames.txt"), "the nested file is indexed")


def test_hidden_and_temporary_files_are_ignored(container, folder, watcher):
    (folder / ".secret.md").write_text("hidden text")
    (folder / "draft.md.swp").write_text("swap file")
    (folder / "report.docx~").write_text("backup")
    (folder / "marker.txt").write_text("A marker written after the others.")
    eventually(lambda: "marker" in texts(container, folder / "marker.txt"), "the marker is indexed")
    for name in (".secret.md", "draft.md.swp", "report.docx~"):
        assert status(container, folder / name) is None, name


def test_a_file_that_cannot_be_read_is_recorded_as_failed(container, folder, watcher):
    (folder / "empty.md").write_text("   \n")
    eventually(lambda: status(container, folder / "empty.md") is DocumentStatus.FAILED, "empty.md failed")
    assert container.registry.get(document_id(container.settings.tenant, (folder / "empty.md").as_posix())).error


def test_the_first_sync_removes_documents_whose_files_went_away(container, folder, tmp_path):
    gone = folder / "gone.txt"
    gone.write_text("This file is removed while nobody watches.")
    container.ingest.ingest(gone.resolve().as_posix())
    gone.unlink()
    synced = []
    w = FolderWatcher(container.ingest, folder, on_synced=synced.append, debounce_s=0.2)
    w.start()
    try:
        assert w.synced.wait(WAIT_S)
        assert status(container, gone) is DocumentStatus.DELETED
        assert {o.outcome for o in synced[0].outcomes} == {"indexed", "deleted"}
    finally:
        w.stop()


def test_outcomes_are_reported_as_they_happen(container, folder):
    seen = []
    w = FolderWatcher(container.ingest, folder, on_outcome=seen.append, debounce_s=0.2)
    w.start()
    try:
        assert w.synced.wait(WAIT_S)
        (folder / "news.txt").write_text("Fresh news about kingfishers.")
        eventually(lambda: any(o.source.endswith("news.txt") and o.outcome == "indexed" for o in seen), "reported")
    finally:
        w.stop()


def test_stop_returns_promptly(container, folder):
    w = FolderWatcher(container.ingest, folder)
    w.start()
    assert w.synced.wait(WAIT_S)
    started = time.monotonic()
    w.stop()
    assert time.monotonic() - started < 5
