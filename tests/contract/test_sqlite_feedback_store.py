from pathlib import Path

from sluice.adapters.local.sqlite_feedback_store import SqliteFeedbackStore
from tests.contract.feedback_contract import FeedbackStoreContract, served


class TestSqliteFeedbackStore(FeedbackStoreContract):
    def make_store(self, tmp_path: Path) -> SqliteFeedbackStore:
        return SqliteFeedbackStore(tmp_path / "feedback.sqlite3")


def test_answers_and_feedback_survive_reopening(tmp_path: Path) -> None:
    SqliteFeedbackStore(tmp_path / "f.db").record_answer(served())
    store = SqliteFeedbackStore(tmp_path / "f.db")
    store.add_feedback("a1", tenant="acme", rating="up")
    assert [r["rating"] for r in SqliteFeedbackStore(tmp_path / "f.db").feedback_for("a1")] == ["up"]
