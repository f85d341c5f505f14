"""The `sluice` command end to end, with the real local model, index and parsers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli import app
from sluice.settings import Settings

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "corpus"

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        not (Settings().model_dir / "tokenizer.json").exists(),
        reason="the local model is not exported; run `make install` or set SLUICE_MODEL_DIR",
    ),
]


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def run(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, list(args))
    stdout = result.stdout.strip()
    return result.exit_code, (json.loads(stdout) if stdout.startswith("{") else {"_text": result.output})


def test_ingest_twice_makes_zero_embedding_calls_the_second_time(state, corpus):
    code, first = run("ingest", str(corpus), "--state", str(state), "--json")
    assert code == 0 and first["failed"] == [] and first["indexed"] == 7 and first["embedding_calls"] == 7
    assert first["chunks"] > 7
    code, second = run("ingest", str(corpus), "--state", str(state), "--json")
    assert code == 0 and second["unchanged"] == 7 and second["indexed"] == 0 and second["embedding_calls"] == 0


@pytest.mark.parametrize(
    ("question", "file", "page", "fact"),
    [
        ("How much water does a narrow lock on the Millbrook Canal hold?", "how-canal-locks-work.pdf", 3, "90,000"),
        ("How many radial gates does the Wend Weir have?", "sluice-gates.docx", None, "12 metres"),
        ("What should the lock keeper do if the summit pound is low?", "lock-keeper-notes.txt", None, "Cold Ash"),
        ("Which lock was rebuilt in 1911?", "millbrook-locks.csv", None, "Chapel Lock"),
    ],
)
def test_ask_answers_with_a_citation_to_the_right_file_and_page(state, question, file, page, fact):
    code, body = run("ask", question, "--state", str(state), "--json")
    assert code == 0 and body["answered"] is True
    assert fact in body["answer"]
    first = body["citations"][0]
    assert Path(first["source"]).name == file and first["page"] == page
    assert fact in first["quote"] and "[1]" in body["answer"]


def test_ask_says_plainly_when_the_documents_do_not_answer(state):
    code, body = run("ask", "Who won the 1998 football world cup?", "--state", str(state), "--json")
    assert code == 0 and body["answered"] is False and body["citations"] == []
    assert "do not answer" in body["answer"]


@pytest.mark.parametrize("mode", ["hybrid", "vector", "keyword"])
def test_search_finds_the_passage_in_every_mode(state, mode):
    code, body = run("search", "flood warning level at Wend Weir", "--state", str(state), "--json", "--mode", mode)
    assert code == 0
    assert Path(body["hits"][0]["source"]).name == "gauging-stations.json"
    assert {"document", "source", "title", "page", "score", "text"} <= set(body["hits"][0])


def test_search_filter_uses_sidecar_metadata(state):
    flt = json.dumps({"equals": {"key": "topic", "value": "canals"}})
    code, body = run("search", "water", "--state", str(state), "--json", "--filter", flt)
    assert code == 0 and body["hits"]
    assert {Path(h["source"]).name for h in body["hits"]} == {"how-canal-locks-work.pdf"}


def test_bad_filter_is_a_clear_error_not_a_traceback(state):
    code, body = run("search", "water", "--state", str(state), "--filter", '{"like": {"key": "a", "value": 1}}')
    assert code == 2 and "unknown filter operator" in body["_text"]


def test_status_lists_documents_and_delete_removes_one(state, corpus):
    code, body = run("status", "--state", str(state), "--json")
    assert code == 0 and body["counts"] == {"indexed": 7}
    target = str(corpus / "millbrook-locks.csv")
    code, body = run("delete", target, "--state", str(state), "--json")
    assert code == 0 and body["deleted"] is True
    code, body = run("search", "Chapel Lock rebuilt 1911", "--state", str(state), "--json", "--mode", "keyword")
    assert all(Path(h["source"]).name != "millbrook-locks.csv" for h in body["hits"])
    code, body = run("status", target, "--state", str(state), "--json")
    assert body["status"] == "deleted"


def test_failures_make_a_non_zero_exit_and_say_how_many(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nThis file is fine and has some words in it.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "notes.rtf").write_text("{\\rtf1 hello}")
    result = CliRunner().invoke(app, ["ingest", str(folder), str(tmp_path / "missing"), "--state", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "3 documents failed" in result.output
    code, body = run("ingest", str(folder), "--state", str(tmp_path / "s"), "--json")
    assert code == 1 and len(body["failed"]) == 2 and body["unchanged"] == 1
