"""Fusing a keyword and a vector ranking into one hybrid ranking.

Shared by every backend, so local and OpenSearch give identical hybrid
results for identical input rankings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sluice.domain.models import Hit

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hit]], k: int, *, rrf_k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[Hit]:
    """Score each chunk by sum(weight / (rrf_k + rank)); ties break by chunk id."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, hit in enumerate(ranking, start=1):
            cid = hit.chunk.chunk_id
            scores[cid] = scores.get(cid, 0.0) + weight / (rrf_k + rank)
            if cid not in first or (hit.highlights and not first[cid].highlights):
                first[cid] = hit
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
    return [Hit(first[cid].chunk, scores[cid], first[cid].highlights) for cid in order]
