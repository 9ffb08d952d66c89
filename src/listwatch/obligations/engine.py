"""Evaluating the consequence rules of each list (data in the curated list files).

A rule says who is bound (roles), what duty follows (no purchase, divest by, licence
required, blocked ...), when the rule itself is in force, and when the duty starts or
falls due relative to the listing date (``days_after_listing``, never before
``not_before``). The listing date is the start of the entity's current listing period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError
from listwatch.registry.domain import PartialDate, Status
from listwatch.registry.models import RestrictionList
from listwatch.registry.status import StatusResult, statuses

ROLES_FILE = Path(__file__).with_name("roles.yaml")


@dataclass(frozen=True)
class Role:
    """A kind of user: its id, what it means and the roles it implies."""

    id: str
    description: str
    implies: tuple[str, ...]


@cache
def load_roles() -> dict[str, Role]:
    """The roles known to listwatch, by id."""
    raw = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))
    return {
        r["id"]: Role(r["id"], r["description"], tuple(r.get("implies", []))) for r in raw["roles"]
    }


def role_scope(role: str) -> set[str]:
    """The role and every role it implies; a clear error for an unknown role."""
    roles = load_roles()
    if role not in roles:
        known = ", ".join(sorted(roles))
        raise RegistryError(f"unknown role {role!r} (known roles: {known})")
    return {role, *roles[role].implies}


@dataclass
class Duty:
    """One concrete, dated duty (or the reason there is none) for one list and rule."""

    list_id: str
    rule_id: str
    duty: str
    state: str  # in_force, pending, due, lapsed, suspended_by_court
    summary: str
    legal_basis: str | None
    listing_date: str | None
    effective_from: dt.date | None = None
    deadline: dt.date | None = None
    note: str | None = None
    status: StatusResult | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "list": self.list_id,
            "rule": self.rule_id,
            "duty": self.duty,
            "state": self.state,
            "summary": self.summary,
            "legal_basis": self.legal_basis,
            "listing_date": self.listing_date,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "note": self.note,
            "status": self.status.status.value if self.status else None,
            "evidence": self.evidence,
        }


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    return PartialDate.parse(str(value)).start


def _offset(spec: dict[str, Any] | None, listed: dt.date) -> dt.date | None:
    if not spec:
        return None
    day = listed + dt.timedelta(days=int(spec.get("days_after_listing", 0)))
    floor = _date(spec.get("not_before"))
    return max(day, floor) if floor else day


def _in_force(rule: dict[str, Any], day: dt.date) -> bool:
    period = rule.get("in_force") or {}
    start, until = _date(period.get("from")), _date(period.get("until"))
    return (start is None or start <= day) and (until is None or day < until)


def evaluate_rule(
    rule: dict[str, Any], list_id: str, result: StatusResult, as_of: dt.date
) -> Duty | None:
    """The duty one rule imposes given an entity's status on the rule's list."""
    if result.status in (Status.NEVER_LISTED, Status.REMOVED) or result.listed_since is None:
        return None
    # A listing known only to the month or year counts from its last possible day, so a
    # duty is never claimed to start before it certainly did.
    listed = (
        result.listed_since.end
        if result.listed_since.precision.value != "day"
        else (result.listed_since.start)
    )
    duty = Duty(
        list_id=list_id,
        rule_id=rule["id"],
        duty=rule["duty"],
        state="in_force",
        summary=" ".join(str(rule.get("summary", "")).split()),
        legal_basis=rule.get("legal_basis"),
        listing_date=str(result.listed_since),
        effective_from=_offset(rule.get("effective"), listed),
        deadline=_offset(rule.get("deadline"), listed),
        note=" ".join(str(rule["note"]).split()) if rule.get("note") else None,
        status=result,
        evidence=[e.to_dict() for e in result.deciding],
    )
    period = rule.get("in_force") or {}
    rule_start, rule_end = _date(period.get("from")), _date(period.get("until"))
    if rule_end is not None and as_of >= rule_end:
        if listed >= rule_end:
            return None
        duty.state = "lapsed"
        duty.note = f"the rule ceased to apply on {rule_end.isoformat()}" + (
            f"; {duty.note}" if duty.note else ""
        )
        return duty
    if result.status is Status.LISTED_SUSPENDED:
        suspension = result.deciding[-1] if result.deciding else None
        duty.state = "suspended_by_court"
        when = f" of {suspension.valid}" if suspension and suspension.valid else ""
        duty.note = f"the listing is enjoined by a court order{when}: no duty while it stands"
        return duty
    starts = max(d for d in (rule_start, duty.effective_from, dt.date.min) if d is not None)
    if as_of < starts:
        duty.state = "pending"
    elif duty.deadline is not None and as_of > duty.deadline:
        duty.state = "due"
    return duty


def obligations(
    session: Session,
    entity_id: str,
    as_of: dt.date,
    role: str,
    known_at: dt.date | None = None,
) -> list[Duty]:
    """The dated duties a user of ``role`` has towards an entity on ``as_of``."""
    scope = role_scope(role)
    duties = []
    for result in statuses(session, entity_id, as_of, known_at):
        restriction = session.get(RestrictionList, result.list_id)
        if restriction is None:
            continue
        for rule in restriction.consequences:
            if not scope & set(rule.get("roles", [])):
                continue
            duty = evaluate_rule(rule, result.list_id, result, as_of)
            if duty is not None:
                duties.append(duty)
    return duties
