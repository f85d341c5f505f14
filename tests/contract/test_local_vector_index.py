"""LocalVectorIndex: the VectorIndex contract, plus durability across reopen, crashes and processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sluice.adapters.local import local_vector_index as module
from sluice.adapters.local.local_vector_index import LocalVectorIndex
from sluice.domain.errors import ConfigurationError
from tests.contract.vector_index_contract import (
    DIMENSION,
    TENANT,
    VectorIndexContract,
    ids,
    make_document,
    unit_vectors,
)


class TestLocalVectorIndex(VectorIndexContract):
    def make_index(self, tmp_path: Path, dimension: int) -> LocalVectorIndex:
        return LocalVectorIndex(tmp_path / "index", dimension)


def open_index(folder: Path) -> LocalVectorIndex:
    return LocalVectorIndex(folder, DIMENSION)


def all_chunk_ids(index: LocalVectorIndex) -> set[str]:
    return {c.chunk_id for doc in index.document_ids() for c in index.chunks_of(doc)}


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    doc = make_document("keep.txt", ["durable granite", "durable basalt"], metadata={"team": "geo"})
    index = open_index(tmp_path)
    index.write(doc)
    index.close()

    reopened = open_index(tmp_path)

    assert reopened.count() == 2 and reopened.document_ids() == [doc[0].document_id]
    assert set(ids(reopened.keyword_search("durable", 5, tenant=TENANT))) == {c.chunk_id for c in doc}
    assert ids(reopened.vector_search(doc[1].vector or [], 1, tenant=TENANT)) == [doc[1].chunk_id]
    reopened.close()


def test_deleted_tantivy_folder_is_rebuilt_on_open(tmp_path: Path) -> None:
    doc = make_document("rebuild.txt", ["phoenix rises", "phoenix burns"])
    index = open_index(tmp_path)
    index.write(doc)
    index.close()
    shutil.rmtree(tmp_path / "tantivy")

    reopened = open_index(tmp_path)

    assert set(ids(reopened.keyword_search("phoenix", 5, tenant=TENANT))) == {c.chunk_id for c in doc}
    reopened.close()


@pytest.mark.parametrize("marker", ["", "not json", '{"seq": -3}', '{"seq": 999999}'])
def test_missing_or_corrupt_marker_rebuilds_tantivy(tmp_path: Path, marker: str) -> None:
    index = open_index(tmp_path)
    index.write(make_document("m.txt", ["marker text"]))
    index.close()
    (tmp_path / "tantivy.seq").write_text(marker)

    reopened = open_index(tmp_path)

    assert len(reopened.keyword_search("marker", 5, tenant=TENANT)) == 1
    assert json.loads((tmp_path / "tantivy.seq").read_text())["seq"] >= 1
    reopened.close()


def test_stale_marker_replays_the_missed_writes(tmp_path: Path) -> None:
    """A crash between the SQLite commit and the tantivy commit: tantivy lags and is replayed."""
    first = make_document("first.txt", ["glacier ice", "glacier melt"], seed=1)
    index = open_index(tmp_path)
    index.write(first)
    index.close()
    shutil.copytree(tmp_path / "tantivy", tmp_path / "tantivy.saved")
    shutil.copy(tmp_path / "tantivy.seq", tmp_path / "tantivy.seq.saved")
    second = make_document("second.txt", ["volcano ash"], seed=2)
    index = open_index(tmp_path)
    index.write(second, [first[1].chunk_id])
    index.close()
    shutil.rmtree(tmp_path / "tantivy")
    (tmp_path / "tantivy.saved").rename(tmp_path / "tantivy")
    (tmp_path / "tantivy.seq.saved").replace(tmp_path / "tantivy.seq")

    reopened = open_index(tmp_path)

    assert ids(reopened.keyword_search("volcano", 5, tenant=TENANT)) == [second[0].chunk_id]
    assert ids(reopened.keyword_search("glacier", 5, tenant=TENANT)) == [first[0].chunk_id]
    reopened.close()


def test_a_second_instance_sees_the_writes_of_the_first(tmp_path: Path) -> None:
    writer, reader = open_index(tmp_path), open_index(tmp_path)
    doc = make_document("shared.txt", ["comet tail", "comet nucleus"], seed=3)

    writer.write(doc)
    assert set(ids(reader.keyword_search("comet", 5, tenant=TENANT))) == {c.chunk_id for c in doc}
    assert ids(reader.vector_search(doc[1].vector or [], 1, tenant=TENANT)) == [doc[1].chunk_id]

    writer.write([], [doc[0].chunk_id])
    assert ids(reader.keyword_search("comet", 5, tenant=TENANT)) == [doc[1].chunk_id]
    assert ids(reader.vector_search(doc[0].vector or [], 5, tenant=TENANT)) == [doc[1].chunk_id]
    assert reader.count() == 1

    reader.write(make_document("back.txt", ["meteor shower"], seed=4))
    assert len(writer.keyword_search("meteor", 5, tenant=TENANT)) == 1
    writer.write(make_document("again.txt", ["nebula dust"], seed=6))
    for word in ("comet", "meteor", "nebula"):
        assert len(reader.keyword_search(word, 5, tenant=TENANT)) == 1
    writer.close()
    reader.close()

    fresh = open_index(tmp_path)
    for word in ("comet", "meteor", "nebula"):
        assert len(fresh.keyword_search(word, 5, tenant=TENANT)) == 1
    assert fresh.count() == 3
    fresh.close()


def test_a_reader_far_behind_the_pruned_log_reloads_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_LOG_KEEP", 5)
    writer, reader = open_index(tmp_path), open_index(tmp_path)
    docs = [make_document(f"many/{n}.txt", [f"pebble number{n}"], seed=n) for n in range(120)]
    for doc in docs:
        writer.write(doc)
    writer.write([], [docs[0][0].chunk_id])

    assert reader.count() == 119
    assert len(reader.keyword_search("pebble", 500, tenant=TENANT)) == 119
    assert len(reader.vector_search(docs[7][0].vector or [], 500, tenant=TENANT)) == 119
    writer.close()
    reader.close()


def test_reopening_with_another_dimension_is_refused(tmp_path: Path) -> None:
    open_index(tmp_path).close()
    with pytest.raises(ConfigurationError):
        LocalVectorIndex(tmp_path, DIMENSION + 1)


def test_many_overwrites_compact_without_losing_chunks(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    for round_number in range(3):
        index.write(make_document("big.txt", [f"round{round_number} part {n}" for n in range(800)], seed=round_number))

    assert index.count() == 800
    assert len(index.vector_search(unit_vectors(1, seed=9)[0].tolist(), 1000, tenant=TENANT)) == 800
    assert len(index.keyword_search("round2", 1000, tenant=TENANT)) == 800
    assert index.keyword_search("round1", 10, tenant=TENANT) == []
    index.close()


def test_searches_run_while_another_thread_writes(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    index.write(make_document("seed.txt", ["harbor lights"]))
    errors: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        query = unit_vectors(1, seed=11)[0].tolist()
        while not done.is_set():
            try:
                assert index.keyword_search("harbor", 5, tenant=TENANT)
                assert index.vector_search(query, 5, tenant=TENANT)
            except BaseException as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=search) for _ in range(3)]
    for thread in readers:
        thread.start()
    for n in range(30):
        index.write(make_document(f"t/{n}.txt", [f"harbor boat {n}", "quay"], seed=n))
    done.set()
    for thread in readers:
        thread.join()

    assert errors == []
    assert index.count() == 61
    index.close()


CRASH_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.contract.vector_index_contract import DIMENSION, make_document
    from sluice.adapters.local.local_vector_index import LocalVectorIndex

    index = LocalVectorIndex(Path({folder!r}), DIMENSION)
    for n in range(100000):
        doc = make_document(f"crash/{{n}}.txt", [f"crashword part{{k}} of {{n}}" for k in range(6)], seed=n)
        stale = make_document(f"crash/{{n - 3}}.txt", ["x"] * 6)
        index.write(doc, [c.chunk_id for c in stale] if n % 2 else [])
        print(n, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.013, 0.031])
def test_sigkill_mid_ingest_leaves_whole_documents_only(tmp_path: Path, delay: float) -> None:
    folder = tmp_path / "index"
    script = CRASH_WRITER.format(root=str(Path(__file__).parents[2]), folder=str(folder))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for _ in range(25):
        assert process.stdout.readline(), "the writer died before it was killed"
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    index = open_index(folder)

    stored = all_chunk_ids(index)
    for document in index.document_ids():
        assert [c.ordinal for c in index.chunks_of(document)] == list(range(6))
    assert len(stored) >= 6 * 10
    assert set(ids(index.keyword_search("crashword", 100000, tenant=TENANT))) == stored
    query = np.ones(DIMENSION) / np.sqrt(DIMENSION)
    assert set(ids(index.vector_search(query.tolist(), 100000, tenant=TENANT))) == stored
    index.close()
