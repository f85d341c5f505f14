"""`sluice eval` end to end on a small BEIR dataset the test writes (and a SciFact slice when it is present)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli import app
from sluice.evaluation.answer_ablation import VARIANTS, AnswerVariant, answer_ablation_table, answer_ablations
from sluice.evaluation.runner import EvalOptions, evaluate
from sluice.settings import Settings
from tests.fakes import HashingEmbedder, InMemoryVectorIndex

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
HAS_MODEL = (Settings().model_dir / "tokenizer.json").exists()
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")

ARTICLES = {
    "Canal locks": [
        "A canal lock raises boats between water levels. The lock keeper fills the chamber through paddles.",
        "The Millbrook flight has eleven locks climbing 58 metres over two miles of the canal.",
    ],
    "Honey bees": [
        "Honey bees communicate the direction of flowers with the waggle dance inside the hive.",
        "A worker bee lives about six weeks in summer and spends her last days foraging for nectar.",
    ],
    "Volcanoes": [
        "Mount Etna on Sicily is among the most active volcanoes in the world, erupting every few years.",
        "Basaltic lava flows are fluid because they are low in silica and very hot.",
    ],
    "Chess": [
        "Magnus Carlsen became world chess champion in 2013 by defeating Viswanathan Anand in Chennai.",
        "The Sicilian Defence is the most popular answer to the opening move of the king's pawn.",
    ],
}
QUESTIONS = [
    ("How many locks are in the Millbrook flight?", "Canal locks_1", "eleven"),
    ("How do honey bees tell each other where flowers are?", "Honey bees_0", "waggle dance"),
    ("How long does a worker bee live in summer?", "Honey bees_1", "about six weeks"),
    ("Which volcano on Sicily is very active?", "Volcanoes_0", "Mount Etna"),
    ("Why are basaltic lava flows fluid?", "Volcanoes_1", "low in silica"),
    ("Who did Magnus Carlsen defeat to become world champion?", "Chess_0", "Viswanathan Anand"),
    ("What is the most popular reply to the king's pawn opening?", "Chess_1", "Sicilian Defence"),
]


def write_dataset(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as corpus:
        for title, paragraphs in ARTICLES.items():
            for n, text in enumerate(paragraphs):
                corpus.write(json.dumps({"_id": f"{title}_{n}", "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as queries, (folder / "answers.jsonl").open("w") as answers:
        for n, (question, paragraph, answer) in enumerate(QUESTIONS):
            queries.write(json.dumps({"_id": f"q{n}", "text": question}) + "\n")
            answers.write(json.dumps({"_id": f"q{n}", "question": question, "answers": [answer],
                                      "paragraph_id": paragraph}) + "\n")
    rows = [f"q{n}\t{paragraph}\t1" for n, (_, paragraph, _) in enumerate(QUESTIONS)]
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    return folder


def assert_sane(data: dict, modes: tuple[str, ...]) -> None:
    assert set(data["modes"]) == set(modes)
    for figures in data["modes"].values():
        for key in METRICS:
            assert 0.0 <= figures[key] <= 1.0
        assert figures["recall@10"] <= figures["recall@100"]
        assert 0.0 < figures["latency_p50_ms"] <= figures["latency_p99_ms"]


def test_harness_with_fakes_reports_every_figure(tmp_path: Path):
    dataset = write_dataset(tmp_path / "tiny")
    result = evaluate(dataset, Settings(), EvalOptions(answer_limit=10), state=tmp_path / "state",
                      embedder=HashingEmbedder(), index=InMemoryVectorIndex())
    data = result.as_json()
    assert_sane(data, ("hybrid", "vector", "keyword"))
    assert data["queries"] == 7 and data["documents"] == 8
    assert data["modes"]["keyword"]["recall@100"] == 1.0  # every paragraph shares words with its question
    assert data["answers"]["questions"] == 7
    for key in ("grounding_hit_rate", "answer_hit_rate", "abstention_rate"):
        assert 0.0 <= data["answers"][key] <= 1.0
    abstention = data["abstention"]
    assert abstention["held_out_articles"] == 1 and abstention["held_out_questions"] >= 1
    assert Path(abstention["state"]).parent == tmp_path


def test_bad_mode_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(app, ["eval", str(write_dataset(tmp_path / "tiny")), "--mode", "fuzzy", "--json"])
    assert result.exit_code == 2


def test_missing_qrels_is_a_clear_error(tmp_path: Path):
    folder = write_dataset(tmp_path / "tiny")
    # a wide terminal, so the message is not wrapped inside the (long) temporary path
    result = CliRunner().invoke(app, ["eval", str(folder), "--split", "dev", "--json"], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "dev.tsv is missing" in " ".join(result.output.split())


@pytest.mark.skipif(not SCIFACT.is_dir(), reason="the SciFact data is not beside the repository")
def test_scifact_slice_with_fakes(tmp_path: Path):
    options = EvalOptions(limit=20, corpus_limit=30)
    result = evaluate(SCIFACT, Settings(), options, state=tmp_path / "state", embedder=HashingEmbedder(),
                      index=InMemoryVectorIndex())
    data = result.as_json()
    assert data["queries"] == 20 and 30 < data["documents"] <= 30 + 40
    assert_sane(data, ("hybrid", "vector", "keyword"))
    assert data["modes"]["keyword"]["ndcg@10"] > 0.3  # BM25-like matching on a small slice finds most


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.skipif(not HAS_MODEL, reason="the local model is not exported; run `make install`")
def test_cli_json_report_and_cached_rerun(tmp_path: Path):
    dataset = write_dataset(tmp_path / "tiny")
    args = ["eval", str(dataset), "--json", "--state", str(tmp_path / "state"), "--report", str(tmp_path / "report")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert_sane(data, ("hybrid", "vector", "keyword"))
    assert data["ingest"]["indexed"] == 8
    assert data["modes"]["hybrid"]["recall@5"] >= 0.8  # the real model and BM25 find these paragraphs
    assert {"grounding_hit_rate", "answer_hit_rate", "abstention_rate"} <= set(data["answers"])
    assert (tmp_path / "report" / "report.md").read_text().startswith("# Evaluation: tiny")
    assert (tmp_path / "report" / "eval-tiny-recall.png").stat().st_size > 1000
    assert (tmp_path / "report" / "eval-tiny-latency.png").stat().st_size > 1000
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["ingest"]["embedding_calls"] == 0 and again["ingest"]["unchanged"] == 8


def test_answer_ablation_rows_differ_only_by_the_answerer(tmp_path: Path):
    dataset = write_dataset(tmp_path / "tiny")
    default = next(v for v in VARIANTS if v.min_score == Settings().answer_min_score)
    never = AnswerVariant("abstain on everything", default.weights, default.coverage_weight, 99.0)
    rows = answer_ablations(dataset, Settings(), 10, lambda _: None, (default, never), state=tmp_path / "state",
                            embedder=HashingEmbedder(), index=InMemoryVectorIndex())
    assert [r.setting for r in rows] == [default.setting, never.setting]
    assert rows[0].default and not rows[1].default
    assert rows[0].questions == rows[1].questions == 7
    assert rows[0].grounding_hit_rate >= 0.5  # the tiny paragraphs share words with their questions
    assert rows[1].grounding_hit_rate == 0.0 and rows[1].abstention_held_out == rows[1].abstention_answerable == 1.0
    table = answer_ablation_table(rows)
    assert len(table) == 4 and "(default)" in table[2] and "| 0.0000 | 1.0000 | 1.0000 |" in table[3]
