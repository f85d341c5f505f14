"""Contract every DocumentRegistry adapter must pass (local SQLite, DynamoDB)."""

import pytest

from sluice.domain.errors import StaleVersionError
from sluice.domain.models import DocumentRecord, DocumentStatus


def record(doc_id: str = "d1", *, tenant: str = "t", version: str = "", status=DocumentStatus.INDEXED, **kw):
    return DocumentRecord(document_id=doc_id, tenant=tenant, source=f"/docs/{doc_id}.txt", status=status,
                          version=version, **kw)


class RegistryContract:
    def make_registry(self, tmp_path):
        raise NotImplementedError

    def test_put_then_get_round_trips_every_field(self, tmp_path):
        reg = self.make_registry(tmp_path)
        reg.put(record(sha256="abc", chunk_count=3, token_count=99, error="", timings={"parse_s": 0.5}, size=10,
                       title="T", metadata_sha256="m"))
        got = reg.get("d1")
        assert got is not None
        assert (got.status, got.sha256, got.chunk_count, got.token_count, got.title) == (
            DocumentStatus.INDEXED, "abc", 3, 99, "T")
        assert got.timings == {"parse_s": 0.5}
        assert got.created_at > 0 and got.updated_at >= got.created_at

    def test_missing_document_is_none(self, tmp_path):
        assert self.make_registry(tmp_path).get("nope") is None

    def test_older_version_never_overwrites_newer(self, tmp_path):
        reg = self.make_registry(tmp_path)
        reg.put(record(version="0200", sha256="new"))
        with pytest.raises(StaleVersionError):
            reg.put(record(version="0100", sha256="old"))
        assert reg.get("d1").sha256 == "new"
        reg.put(record(version="0300", sha256="newer"))
        assert reg.get("d1").sha256 == "newer"

    def test_created_at_is_kept_across_updates(self, tmp_path):
        reg = self.make_registry(tmp_path)
        reg.put(record())
        first = reg.get("d1").created_at
        reg.put(record(status=DocumentStatus.FAILED, error="bad"))
        again = reg.get("d1")
        assert again.created_at == first and again.status is DocumentStatus.FAILED and again.error == "bad"

    def test_list_pages_by_tenant_and_status(self, tmp_path):
        reg = self.make_registry(tmp_path)
        for n in range(7):
            reg.put(record(f"d{n}", status=DocumentStatus.FAILED if n % 2 else DocumentStatus.INDEXED))
        reg.put(record("other", tenant="t2"))
        seen, cursor = [], None
        while True:
            page, cursor = reg.list("t", limit=3, cursor=cursor)
            seen += [r.document_id for r in page]
            if cursor is None:
                break
        assert sorted(seen) == [f"d{n}" for n in range(7)]
        failed, _ = reg.list("t", status=DocumentStatus.FAILED)
        assert sorted(r.document_id for r in failed) == ["d1", "d3", "d5"]
