"""FeedbackStore on SQLite: served answers and the feedback given on them, in the state folder."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sluice.domain.errors import BackendError
from sluice.ports import Feedback, ServedAnswer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id TEXT PRIMARY KEY,
    answer_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_answer ON feedback (answer_id);
"""


class SqliteFeedbackStore:
    """Answers and feedback rows in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the feedback store at {path}: {exc}") from exc

    def record_answer(self, served: ServedAnswer) -> None:
        row = (served.answer_id, served.tenant, served.question, json.dumps(dict(served.answer)),
               served.created_at or time.time())
        self._execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", row)

    def get_answer(self, answer_id: str, *, tenant: str) -> ServedAnswer | None:
        rows = self._execute(
            "SELECT answer_id, tenant, question, answer, created_at FROM answers WHERE answer_id = ? AND tenant = ?",
            (answer_id, tenant),
        )
        if not rows:
            return None
        aid, ten, question, answer, created = rows[0]
        return ServedAnswer(str(aid), str(ten), str(question), json.loads(str(answer)), float(created))  # type: ignore[arg-type]

    def add_feedback(self, answer_id: str, *, tenant: str, rating: str, comment: str = "") -> Feedback:
        served = self.get_answer(answer_id, tenant=tenant)
        feedback = Feedback.on(served, answer_id, rating=rating, comment=comment, created_at=time.time())
        citations: Any = feedback.answer.get("citations", [])
        self._execute(
            "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (feedback.feedback_id, answer_id, tenant, rating, comment, feedback.question,
             str(feedback.answer.get("answer", "")), json.dumps(citations), feedback.created_at),
        )
        return feedback

    def feedback_for(self, answer_id: str) -> list[dict[str, Any]]:
        """Every feedback row of one answer, oldest first (for reports and tests)."""
        rows = self._execute(
            "SELECT feedback_id, rating, comment, question, answer, citations, created_at FROM feedback "
            "WHERE answer_id = ? ORDER BY created_at",
            (answer_id,),
        )
        keys = ("feedback_id", "rating", "comment", "question", "answer", "citations", "created_at")
        result = [dict(zip(keys, row)) for row in rows]
        for item in result:
            item["citations"] = json.loads(str(item["citations"]))
        return result

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise BackendError(f"cannot use the feedback store: {exc}") from exc
