"""A benchmark in BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv, optional answers.jsonl.

Only what the evaluation needs is read; the corpus itself is read by
``BeirBlobSource`` when it is ingested.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sluice.domain.errors import InvalidRequestError

T = TypeVar("T")
Qrels = dict[str, dict[str, int]]
"""query id -> {document id: relevance}."""


@dataclass(frozen=True)
class GoldAnswer:
    """A question of a reading-comprehension set: its accepted answers and source paragraph."""

    question_id: str
    question: str
    answers: tuple[str, ...]
    paragraph_id: str


@dataclass
class BeirDataset:
    """Queries and judgments of one split, plus the corpus ids and, when present, gold answers."""

    folder: Path
    split: str
    queries: dict[str, str]
    qrels: Qrels
    answers: dict[str, GoldAnswer] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.folder.resolve().name

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus.jsonl"

    def corpus_ids(self) -> list[str]:
        """Every document id, in file order."""
        return [str(record["_id"]) for record in _jsonl(self.corpus)]

    def titles(self) -> dict[str, str]:
        """Document id -> title."""
        return {str(r["_id"]): str(r.get("title") or "") for r in _jsonl(self.corpus)}


def load_dataset(folder: Path, split: str = "test", limit: int | None = None) -> BeirDataset:
    """The queries of ``split`` that have judgments; with ``limit``, that many picked at even steps.

    Even steps rather than the first ``limit``: SQuAD's questions come grouped by article.
    """
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise InvalidRequestError(f"{needed} is missing; a BEIR folder holds corpus.jsonl, queries.jsonl, qrels/")
    qrels = read_qrels(qrels_path)
    queries = {str(r["_id"]): str(r["text"]) for r in _jsonl(folder / "queries.jsonl") if str(r["_id"]) in qrels}
    if limit is not None:
        queries = dict(spread(list(queries.items()), limit))
    qrels = {qid: qrels[qid] for qid in queries}
    answers_path = folder / "answers.jsonl"
    answers = read_answers(answers_path, set(queries)) if answers_path.is_file() else {}
    return BeirDataset(folder=folder, split=split, queries=queries, qrels=qrels, answers=answers)


def spread(items: list[T], n: int) -> list[T]:
    """At most ``n`` items picked at even steps through ``items``."""
    if n >= len(items):
        return items
    return [items[i * len(items) // n] for i in range(max(n, 0))]


def read_qrels(path: Path) -> Qrels:
    """``query-id  corpus-id  score`` rows (header optional); zero scores are kept out."""
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as rows:
        for row in csv.reader(rows, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id" or not row[2].strip().lstrip("-").isdigit():
                continue
            if int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def read_answers(path: Path, wanted: set[str]) -> dict[str, GoldAnswer]:
    found: dict[str, GoldAnswer] = {}
    for r in _jsonl(path):
        qid = str(r["_id"])
        if qid in wanted and r.get("answers"):
            answers = tuple(str(a) for a in r["answers"])
            found[qid] = GoldAnswer(qid, str(r["question"]), answers, str(r["paragraph_id"]))
    return found


def corpus_selection(dataset: BeirDataset, distractors: int | None, seed: int = 13) -> set[str] | None:
    """For a quick slice: the judged documents plus ``distractors`` others drawn with a fixed seed."""
    if distractors is None:
        return None
    relevant = {doc for judged in dataset.qrels.values() for doc in judged}
    others = sorted(set(dataset.corpus_ids()) - relevant)
    picked = random.Random(seed).sample(others, min(distractors, len(others)))
    return relevant | set(picked)


def held_out_titles(titles: dict[str, str], fraction: float) -> set[str]:
    """A deterministic share of the titles (articles), chosen by a hash of the title, never at random."""
    distinct = sorted(set(titles.values()))
    ranked = sorted(distinct, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    return set(ranked[: round(len(ranked) * fraction)])


def selection_key(selection: set[str] | None) -> str:
    """A short digest of a corpus selection, part of the state folder's name."""
    if selection is None:
        return "all"
    return hashlib.sha256("\n".join(sorted(selection)).encode()).hexdigest()[:10]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
