"""Ordering object versions, such as S3 event sequencers.

S3 sequencers are hexadecimal strings of varying length: left-pad the shorter
with zeros, then compare. An empty version is unknown and never stale.
"""

from __future__ import annotations


def is_older(candidate: str, current: str) -> bool:
    """True when ``candidate`` is known to be older than ``current``."""
    if not candidate or not current:
        return False
    width = max(len(candidate), len(current))
    return candidate.lower().zfill(width) < current.lower().zfill(width)
