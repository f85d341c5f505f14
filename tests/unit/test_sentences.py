"""Sentence splitting and sentence scoring behind the extractive answerer."""

from __future__ import annotations

import pytest

from sluice.adapters.local.sentences import Piece, Weights, score_pieces, sentences_in_context, split_sentences


def test_initials_and_titles_do_not_end_a_sentence() -> None:
    text = (
        "The panel was led by Rajendra K. Pachauri until February 2015. Dr. Ho moved to St. Louis in 1990. "
        "It rained."
    )
    assert split_sentences(text) == [
        "The panel was led by Rajendra K. Pachauri until February 2015.",
        "Dr. Ho moved to St. Louis in 1990.",
    ]


def test_sentences_never_cross_lines_and_carry_their_heading() -> None:
    text = "Meander\nA loop in the course of a river. It forms on flat land.\nOxbow lake\nA cut-off meander loop."
    assert sentences_in_context(text, ("Rivers",)) == [
        ("Meander", "A loop in the course of a river."),
        ("Meander", "It forms on flat land."),
        ("Oxbow lake", "A cut-off meander loop."),
    ]


def _scores(question: str, sentences: list[str], weights: Weights = Weights()) -> list[float]:
    pieces = [Piece(0, n, "", s) for n, s in enumerate(sentences)]
    return score_pieces(question, pieces, [0.5] * len(pieces), weights)


@pytest.mark.parametrize(
    ("question", "answer", "other"),
    [
        ("When did the bridge open?", "It opened to traffic in May 1937.", "It opened to great fanfare."),
        ("How many people crossed the bridge?", "About 200,000 people crossed it.", "Crowds of people crossed it."),
        ("Who designed the bridge?", "It was designed by Joseph Strauss.", "It was designed with care."),
    ],
)
def test_the_sentence_with_the_asked_for_kind_of_answer_scores_higher(question: str, answer: str, other: str) -> None:
    with_type, without = _scores(question, [answer, other], Weights(overlap=0, rare_overlap=0, novelty=0))
    assert with_type > without


def test_a_sentence_sharing_the_rare_question_word_beats_one_sharing_a_common_one() -> None:
    sentences = [
        "The river floods the valley every spring.",
        "The river carries silt to the delta.",
        "The river is crossed by the Tarn viaduct.",
    ]
    scores = _scores("Which viaduct crosses the river?", sentences, Weights(overlap=0, answer_type=0, novelty=0))
    assert max(range(3), key=scores.__getitem__) == 2


def test_a_sentence_that_only_restates_the_question_loses_to_one_that_adds_facts() -> None:
    restated, informative = _scores(
        "Why did the harbour close?",
        ["The harbour did close.", "The harbour closed because silt from the river blocked the entrance channel."],
        Weights(overlap=0, rare_overlap=0, answer_type=0),
    )
    assert informative > restated


def test_a_lower_ranked_passage_pays_the_rank_penalty() -> None:
    pieces = [Piece(0, 0, "", "Same sentence here."), Piece(3, 0, "", "Same sentence here.")]
    first, fourth = score_pieces("sentence", pieces, [0.5, 0.5], Weights(rank=0.02))
    assert first - fourth == pytest.approx(0.06)
