"""Review decisions: accept or reject a proposed event (``review`` scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from listwatch.api import queries, schemas
from listwatch.api.deps import RegistryDep, registry_changed, require_scope, scoped
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError, ErrorBody
from listwatch.api.tokens import TokenInfo
from listwatch.registry.domain import ReviewState
from listwatch.registry.models import Event

router = APIRouter(tags=["review"])


def record_review(
    registry: Any, event_id: int, decision: str, reason: str | None, reviewer: str
) -> dict[str, Any]:
    """Store a decision (through the news package's review) and return the event as it stands.

    Accepting an event about an entity the news proposed accepts that entity too.
    """
    from listwatch.news.review import decide
    from listwatch.registry.db import RegistryError
    from listwatch.registry.store import current_review_state

    state = ReviewState.ACCEPTED if decision == "accept" else ReviewState.REJECTED
    reason = " ".join((reason or "").split()) or None
    if state is ReviewState.REJECTED and not reason:
        raise ApiError(
            422,
            "a rejection needs a reason",
            details=[{"loc": ["body", "reason"], "message": "required to reject"}],
        )
    with registry.transaction() as session:
        found = session.get(Event, event_id)
        if found is None:
            raise ApiError(404, f"no event {event_id}")
        if current_review_state(found) is state:
            raise ApiError(409, f"event {event_id} is already {state.value}")
        try:
            decide(session, event_id, state, reason, reviewer)
        except RegistryError as exc:
            raise ApiError(409, str(exc)) from None
        session.expire_all()
        review = found.reviews[-1]
        event = queries.get_event(session, event_id)
        assert event is not None
        return {
            "id": review.id,
            "event_id": event_id,
            "state": review.state,
            "reason": review.reason,
            "reviewer": review.reviewer,
            "recorded_at": review.recorded_at.isoformat(),
            "event": queries.event_dicts(session, [event])[0],
        }


@router.post(
    "/events/{event_id}/review",
    openapi_extra=scoped("review"),
    response_model=schemas.ReviewOut,
    status_code=201,
    responses={
        **COMMON_ERRORS,
        **NOT_FOUND,
        409: {"model": ErrorBody, "description": "The event already has this state"},
    },
)
def post_review(
    event_id: Annotated[int, Path(ge=1, le=2**62)],
    body: schemas.ReviewIn,
    registry: RegistryDep,
    request: Request,
    token: Annotated[TokenInfo, Depends(require_scope("review"))],
) -> dict[str, Any]:
    """Accept or reject an event (a rejection needs a reason); the decision is appended."""
    result = record_review(registry, event_id, body.decision, body.reason, f"token:{token.name}")
    registry_changed(request.app)
    return result
