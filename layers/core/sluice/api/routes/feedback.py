"""Feedback on served answers (``/v1/feedback``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from sluice.api.dependencies import FeedbackDep, SettingsDep, Tenant
from sluice.api.errors import error_responses
from sluice.api.schemas import FeedbackRequest, FeedbackResponse
from sluice.domain.errors import LimitExceededError

log = logging.getLogger("sluice.api")
router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", status_code=201, response_model=FeedbackResponse,
             responses=error_responses(400, 404, 413, 422, 503))
def give_feedback(body: FeedbackRequest, tenant: Tenant, store: FeedbackDep, settings: SettingsDep) -> FeedbackResponse:
    """Rate an answer (up or down, with an optional comment); stored with its question, answer and citations."""
    comment = (body.comment or "").strip()
    if len(comment) > settings.max_feedback_comment_chars:
        raise LimitExceededError(
            f"comment is {len(comment)} characters, over the limit of {settings.max_feedback_comment_chars}",
            details={"limit": "max_feedback_comment_chars", "value": settings.max_feedback_comment_chars},
        )
    feedback = store.add_feedback(body.answer_id, tenant=tenant, rating=body.rating, comment=comment)
    log.info("feedback received", extra={"answer_id": body.answer_id, "rating": body.rating, "metric": "FeedbackGiven"})
    return FeedbackResponse(feedback_id=feedback.feedback_id, answer_id=feedback.answer_id, rating=body.rating,
                            comment=feedback.comment, question=feedback.question, created_at=feedback.created_at)
