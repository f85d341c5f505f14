"""The contract every ``FeedbackStore`` adapter keeps (SQLite locally, DynamoDB on AWS).

Subclass ``FeedbackStoreContract`` in a ``Test...`` class and implement ``make_store``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.domain.errors import NotFoundError
from sluice.ports import ServedAnswer

BODY = {
    "answer": "Locks raise boats between two levels of water [1].",
    "answered": True,
    "citations": [{"marker": 1, "document": "d1", "page": 2, "quote": "a chamber between two gates"}],
    "usage": {"input_tokens": 120, "output_tokens": 14},
}


def served(answer_id: str = "a1", tenant: str = "acme", **body: Any) -> ServedAnswer:
    return ServedAnswer(answer_id, tenant, "How do canal locks work?", {**BODY, **body})


class FeedbackStoreContract:
    def make_store(self, tmp_path: Path) -> Any:
        raise NotImplementedError

    def test_a_recorded_answer_reads_back_for_its_tenant_only(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.record_answer(served())
        got = store.get_answer("a1", tenant="acme")
        assert got is not None
        assert (got.answer_id, got.tenant, got.question) == ("a1", "acme", "How do canal locks work?")
        assert got.answer == BODY and got.created_at > 0
        assert store.get_answer("a1", tenant="globex") is None
        assert store.get_answer("never-served", tenant="acme") is None

    def test_recording_the_same_id_again_replaces_it(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.record_answer(served())
        store.record_answer(served(answer="Locks use gates and sluices."))
        got = store.get_answer("a1", tenant="acme")
        assert got is not None and got.answer["answer"] == "Locks use gates and sluices."

    def test_feedback_copies_the_question_answer_and_citations(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.record_answer(served())
        first = store.add_feedback("a1", tenant="acme", rating="down", comment="missed the gates")
        second = store.add_feedback("a1", tenant="acme", rating="up")
        assert (first.answer_id, first.tenant, first.rating) == ("a1", "acme", "down")
        assert first.comment == "missed the gates"
        assert first.question == "How do canal locks work?" and first.answer == BODY
        assert first.feedback_id != second.feedback_id
        rows = store.feedback_for("a1")
        assert [(r["rating"], r["comment"]) for r in rows] == [("down", "missed the gates"), ("up", "")]
        assert rows[0]["answer"] == BODY["answer"] and rows[0]["citations"] == BODY["citations"]
        assert rows[0]["question"] == "How do canal locks work?" and rows[0]["created_at"] <= rows[1]["created_at"]

    def test_feedback_on_an_unknown_or_another_tenants_answer_is_not_found(self, tmp_path: Path) -> None:
        store = self.make_store(tmp_path)
        store.record_answer(served())
        with pytest.raises(NotFoundError, match="answer_id"):
            store.add_feedback("nope", tenant="acme", rating="up")
        with pytest.raises(NotFoundError):
            store.add_feedback("a1", tenant="globex", rating="up")
        assert store.feedback_for("a1") == []
