from sluice.domain.fusion import reciprocal_rank_fusion
from sluice.domain.ids import chunk_id, document_id
from sluice.domain.models import Hit, IndexedChunk
from sluice.domain.versions import is_older


def test_sequencers_of_different_lengths_compare_after_left_padding():
    assert is_older("0055AED6DCD90281E5", "0055AED6DCD9028200")
    assert is_older("FF", "0100")
    assert not is_older("0100", "FF")
    assert not is_older("", "0100")
    assert not is_older("0100", "")
    assert not is_older("0100", "0100")


def test_ids_are_deterministic_and_tenant_scoped():
    assert document_id("t1", "a/b.pdf") == document_id("t1", "a/b.pdf")
    assert document_id("t1", "a/b.pdf") != document_id("t2", "a/b.pdf")
    assert chunk_id("abc", 3) == "abc-00003"


def _hit(cid: str, score: float = 1.0) -> Hit:
    chunk = IndexedChunk(
        chunk_id=cid, document_id="d", tenant="t", source="s", title="", text=cid, vector=None, ordinal=0,
        content_hash="", document_version="",
    )
    return Hit(chunk, score)


def test_rrf_rewards_chunks_found_by_both_retrievers():
    keyword = [_hit("a"), _hit("b"), _hit("c")]
    vector = [_hit("c"), _hit("d"), _hit("b")]
    fused = reciprocal_rank_fusion([keyword, vector], 4)
    ids = [h.chunk.chunk_id for h in fused]
    assert ids[:2] == ["c", "b"]
    assert len(ids) == 4
    assert abs(fused[0].score - (1 / 61 + 1 / 63)) < 1e-12


def test_rrf_is_deterministic_on_ties():
    one = reciprocal_rank_fusion([[_hit("x")], [_hit("y")]], 2)
    two = reciprocal_rank_fusion([[_hit("y")], [_hit("x")]], 2)
    assert [h.chunk.chunk_id for h in one] == [h.chunk.chunk_id for h in two] == ["x", "y"]
