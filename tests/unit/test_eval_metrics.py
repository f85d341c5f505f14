"""The evaluation's arithmetic, against cases worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sluice.domain.fusion import normalized_score_fusion
from sluice.domain.models import Answer, Citation, Hit, IndexedChunk
from sluice.evaluation.answers import contains_answer, judge, normalize_answer
from sluice.evaluation.dataset import GoldAnswer, held_out_titles, read_qrels, spread
from sluice.evaluation.harness import documents_of
from sluice.evaluation.metrics import latency_summary, recall_curve, score

# q1 has two relevant documents, found at ranks 1 and 3; q2 one, found at rank 2; q3 one, never found.
QRELS = {"q1": {"d1": 1, "d2": 1}, "q2": {"d3": 1}, "q3": {"d4": 1}}
RUN = {"q1": {"d1": 3.0, "x": 2.0, "d2": 1.0}, "q2": {"y": 2.0, "d3": 1.0}, "q3": {"z": 1.0}}


def test_ndcg_recall_and_mrr_match_the_hand_computed_values():
    # q1: DCG = 1/log2(2) + 1/log2(4) = 1.5, ideal = 1 + 1/log2(3); q2: DCG = 1/log2(3), ideal = 1; q3: 0.
    ndcg_q1 = 1.5 / (1 + 1 / math.log2(3))
    ndcg_q2 = 1 / math.log2(3)
    figures = score(QRELS, RUN, ("ndcg@10", "recall@10", "recall@1", "mrr@10"))
    assert figures["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3, abs=1e-4)
    assert figures["recall@10"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-4)
    assert figures["recall@1"] == pytest.approx((0.5 + 0 + 0) / 3, abs=1e-4)
    assert figures["mrr@10"] == pytest.approx((1 + 1 / 2 + 0) / 3, abs=1e-4)


def test_a_query_missing_from_the_run_counts_as_zero_not_as_absent():
    run = {"q1": RUN["q1"]}
    assert score(QRELS, run, ("recall@10",))["recall@10"] == pytest.approx(1 / 3, abs=1e-4)


def test_cutoffs_are_respected():
    qrels = {"q": {"d11": 1}}
    run = {"q": {f"d{n}": float(100 - n) for n in range(1, 12)}}  # the relevant document is 11th
    figures = score(qrels, run, ("mrr@10", "recall@10", "recall@100", "ndcg@10"))
    assert figures == {"mrr@10": 0.0, "recall@10": 0.0, "recall@100": 1.0, "ndcg@10": 0.0}


def test_recall_curve_climbs_to_full_recall():
    curve = recall_curve(QRELS, RUN, depth=4)
    assert curve == pytest.approx([1 / 6, 1 / 2, 2 / 3, 2 / 3], abs=1e-4)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown metric"):
        score(QRELS, RUN, ("map@10",))


def test_documents_score_by_their_best_chunk_and_keep_chunk_order():
    sources = ["b.md", "a.md", "b.md", "/corpus/c.md", "a.md"]
    assert documents_of(sources) == {"b": 3.0, "a": 2.0, "c": 1.0}
    assert list(documents_of(sources, limit=2)) == ["b", "a"]


def test_latency_percentiles():
    figures = latency_summary([float(n) for n in range(1, 101)])
    assert figures["latency_p50_ms"] == pytest.approx(50.5)
    assert figures["latency_p99_ms"] == pytest.approx(99.01)


def test_squad_normalisation_and_containment():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert contains_answer("It was won by the Denver Broncos in 2016.", ["Denver Broncos"])
    assert not contains_answer("Denverbroncos", ["Denver Broncos"])
    assert not contains_answer("anything", ["the"])  # an answer that normalises to nothing never matches


def test_judge_reads_quotes_for_grounding_and_text_for_the_answer():
    gold = GoldAnswer("q", "Who won?", ("Denver Broncos",), "p")
    cite = Citation(marker=1, document_id="d", source="p.md", title="t", page=None,
                    quote="The Denver Broncos won Super Bowl 50.", chunk_id="c")
    answered = judge(Answer("The Denver Broncos [1] won.", True, [cite]), gold, 5.0)
    assert answered.grounded and answered.answer_hit and answered.answered
    abstained = judge(Answer("The documents do not answer this question.", False, []), gold, 5.0)
    assert not abstained.answered and not abstained.grounded and not abstained.answer_hit


def test_qrels_reader_skips_the_header_and_zero_judgments(tmp_path: Path):
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\nq2\td3\t2\n")
    assert read_qrels(path) == {"q1": {"d1": 1}, "q2": {"d3": 2}}


def test_held_out_titles_are_deterministic_and_sized():
    titles = {f"p{n}": f"Article {n // 3}" for n in range(30)}  # 10 articles
    first = held_out_titles(titles, 0.2)
    assert first == held_out_titles(dict(reversed(list(titles.items()))), 0.2)
    assert len(first) == 2


def test_spread_samples_across_the_whole_list():
    assert spread(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert spread([1, 2], 5) == [1, 2]


def _hit(cid: str, score: float) -> Hit:
    chunk = IndexedChunk(chunk_id=cid, document_id=cid, tenant="t", source=f"{cid}.md", title="", text="",
                         vector=None, ordinal=0, content_hash="", document_version="")
    return Hit(chunk, score)


def test_minmax_fusion_weights_normalised_scores():
    keyword = [_hit("a", 10.0), _hit("b", 5.0), _hit("c", 0.0)]  # -> 1, 0.5, 0
    vector = [_hit("c", 0.9), _hit("a", 0.5)]  # -> 1, 0; b missing -> the ranking's floor, 0
    fused = normalized_score_fusion([keyword, vector], 3, method="minmax", weights=[0.3, 0.7])
    # a = 0.3*1 + 0.7*0 = 0.3; b = 0.3*0.5 + 0 = 0.15; c = 0 + 0.7*1 = 0.7
    assert [h.chunk.chunk_id for h in fused] == ["c", "a", "b"]
    assert [h.score for h in fused] == pytest.approx([0.7, 0.3, 0.15])


def test_zscore_fusion_and_unknown_method():
    keyword = [_hit("a", 3.0), _hit("b", 1.0)]  # -> +1, -1
    fused = normalized_score_fusion([keyword, []], 2, method="zscore")
    assert [(h.chunk.chunk_id, round(h.score, 6)) for h in fused] == [("a", 1.0), ("b", -1.0)]
    with pytest.raises(ValueError, match="unknown score normalisation"):
        normalized_score_fusion([keyword], 2, method="softmax")
