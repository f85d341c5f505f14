from sluice.adapters.local.sqlite_document_registry import SqliteDocumentRegistry
from sluice.domain.models import DocumentStatus
from tests.contract.registry_contract import RegistryContract, record


class TestSqliteDocumentRegistry(RegistryContract):
    def make_registry(self, tmp_path):
        return SqliteDocumentRegistry(tmp_path / "registry.sqlite3")


def test_records_survive_reopening(tmp_path):
    SqliteDocumentRegistry(tmp_path / "r.db").put(record(status=DocumentStatus.PENDING))
    assert SqliteDocumentRegistry(tmp_path / "r.db").get("d1").status is DocumentStatus.PENDING
