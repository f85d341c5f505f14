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


def normalized_score_fusion(
    rankings: Sequence[Sequence[Hit]], k: int, *, method: str = "minmax", weights: Sequence[float] | None = None
) -> list[Hit]:
    """Score each chunk by sum(weight * normalised score); ties break by chunk id.

    Each ranking's scores are rescaled on their own (``minmax`` to 0..1, ``zscore`` to mean 0, sd 1),
    since BM25 and cosine scores live on different scales. A chunk missing from a ranking gets that
    ranking's lowest normalised score, as if it came just below its last hit.
    """
    weights = weights or [1.0] * len(rankings)
    normalised = [_normalise([hit.score for hit in ranking], method) for ranking in rankings]
    floors = [min(values, default=0.0) for values in normalised]
    per_ranking: list[dict[str, float]] = []
    first: dict[str, Hit] = {}
    for ranking, values in zip(rankings, normalised):
        per_ranking.append({hit.chunk.chunk_id: value for hit, value in zip(ranking, values)})
        for hit in ranking:
            cid = hit.chunk.chunk_id
            if cid not in first or (hit.highlights and not first[cid].highlights):
                first[cid] = hit
    scores = {
        cid: sum(w * scored.get(cid, floor) for w, scored, floor in zip(weights, per_ranking, floors))
        for cid in first
    }
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
    return [Hit(first[cid].chunk, scores[cid], first[cid].highlights) for cid in order]


def _normalise(values: Sequence[float], method: str) -> list[float]:
    if not values:
        return []
    if method == "minmax":
        low, high = min(values), max(values)
        return [(v - low) / (high - low) if high > low else 1.0 for v in values]
    if method == "zscore":
        mean = sum(values) / len(values)
        sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        return [(v - mean) / sd if sd > 0 else 0.0 for v in values]
    raise ValueError(f"unknown score normalisation {method!r}; use minmax or zscore")
