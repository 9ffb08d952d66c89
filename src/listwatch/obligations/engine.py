"""Evaluating the consequence rules of each list (data in the curated list files).

A rule says who is bound (roles), what duty follows (no purchase, divest by, licence
required, blocked ...), when the rule itself is in force, and when the duty starts or
falls due relative to the listing date (``days_after_listing``, never before
``not_before``). The listing date is the start of the entity's current listing period.

A listing date known only to its month or year, or only as "not later than" a day (an
official file first shows the entity in a snapshot of that day), gives the duty's dates
as bounds: they are counted from the last day the listing can have started, carry the
qualifier ``not_after``, and the duty is marked uncertain while the bound leaves its
state open (it may already be in force, or already due).
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
from listwatch.registry.domain import DateQualifier, PartialDate, Status, qualified
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
    state: str  # in_force, pending, due, lapsed, suspended_by_court, uncertain
    summary: str
    legal_basis: str | None
    listing_date: str | None
    effective_from: dt.date | None = None
    deadline: dt.date | None = None
    listing_date_qualifier: DateQualifier = DateQualifier.ON
    effective_from_qualifier: DateQualifier = DateQualifier.ON
    deadline_qualifier: DateQualifier = DateQualifier.ON
    uncertain: bool = False
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
            "listing_date_qualifier": self.listing_date_qualifier.value,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_from_qualifier": self.effective_from_qualifier.value,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "deadline_qualifier": self.deadline_qualifier.value,
            "uncertain": self.uncertain,
            "note": self.note,
            "status": self.status.status.value if self.status else None,
            "evidence": self.evidence,
        }


def duty_dates(duty: dict[str, Any]) -> list[str]:
    """A duty's start and deadline (as :meth:`Duty.to_dict` gives them) in words, each with
    its qualifier: ``from not later than 2021-07-07``."""
    dates = []
    if duty["effective_from"]:
        dates.append("from " + qualified(duty["effective_from"], duty["effective_from_qualifier"]))
    if duty["deadline"]:
        dates.append("deadline " + qualified(duty["deadline"], duty["deadline_qualifier"]))
    return dates


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    return PartialDate.parse(str(value)).start


def _offsets(
    spec: dict[str, Any] | None, earliest: dt.date | None, latest: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day a rule's offset can give for a listing that started between
    ``earliest`` (None: not known) and ``latest``: ``days_after_listing``, never before
    ``not_before``. (None, None) without an offset; a first day of None is not known."""
    if not spec:
        return None, None
    shift = dt.timedelta(days=int(spec.get("days_after_listing", 0)))
    floor = _date(spec.get("not_before")) or dt.date.min
    last = max(latest + shift, floor)
    if earliest is None:
        return (floor if floor >= last else None), last
    return max(earliest + shift, floor), last


def _qualifier(first: dt.date | None, last: dt.date | None) -> DateQualifier:
    return DateQualifier.ON if first == last else DateQualifier.NOT_AFTER


def _in_force(rule: dict[str, Any], day: dt.date) -> bool:
    period = rule.get("in_force") or {}
    start, until = _date(period.get("from")), _date(period.get("until"))
    return (start is None or start <= day) and (until is None or day < until)


def evaluate_rule(
    rule: dict[str, Any], list_id: str, result: StatusResult, as_of: dt.date
) -> Duty | None:
    """The duty one rule imposes given an entity's status on the rule's list."""
    duty = _evaluate(rule, list_id, result, as_of)
    if duty is not None and result.uncertain and duty.state not in ("uncertain", "lapsed"):
        # listed as far as the events tell, but the listing may have ended (or not begun)
        duty.uncertain = True
        _add_note(duty, "the status on this date is uncertain: " + "; ".join(result.notes))
    return duty


def _evaluate(
    rule: dict[str, Any], list_id: str, result: StatusResult, as_of: dt.date
) -> Duty | None:
    if result.status in (Status.NEVER_LISTED, Status.REMOVED) and result.uncertain:
        # Not listed as far as the events tell, but a change around ``as_of`` is dated
        # only by a bound or to its month: the duty may apply.
        if not _in_force(rule, as_of):
            return None
        duty = _rule_duty(rule, list_id, result, "uncertain")
        duty.uncertain = True
        _add_note(
            duty,
            "the status on this date is not known, so the duty may apply: "
            + "; ".join(result.notes),
        )
        return duty
    if result.status in (Status.NEVER_LISTED, Status.REMOVED) or result.listed_since is None:
        return None
    # A listing known only to the month or year, or only as "not later than" a day, counts
    # from its last possible day: the duty's dates are then bounds, never claimed earlier
    # than the listing certainly was.
    listed = result.listed_since.end
    earliest = result.listed_since.start if result.listed_qualifier is DateQualifier.ON else None
    first_start, effective_from = _offsets(rule.get("effective"), earliest, listed)
    first_deadline, deadline = _offsets(rule.get("deadline"), earliest, listed)
    duty = _rule_duty(rule, list_id, result, "in_force")
    duty.effective_from, duty.deadline = effective_from, deadline
    duty.effective_from_qualifier = _qualifier(first_start, effective_from)
    duty.deadline_qualifier = _qualifier(first_deadline, deadline)
    period = rule.get("in_force") or {}
    rule_start, rule_end = _date(period.get("from")), _date(period.get("until"))
    if rule_end is not None and as_of >= rule_end:
        if listed >= rule_end:
            return None
        duty.state = "lapsed"
        _add_note(duty, f"the rule ceased to apply on {rule_end.isoformat()}")
        return duty
    if result.status is Status.LISTED_SUSPENDED:
        suspension = result.deciding[-1] if result.deciding else None
        duty.state = "suspended_by_court"
        when = f" of {suspension.valid}" if suspension and suspension.valid else ""
        duty.note = f"the listing is enjoined by a court order{when}: no duty while it stands"
        return duty
    starts = max(d for d in (rule_start, effective_from, dt.date.min) if d is not None)
    if as_of < starts:
        duty.state = "pending"
        # the first day it can have started: the rule's start, or the effective date's
        # first possible day (not known: the rule's start alone bounds it)
        first = max(d for d in (rule_start, first_start, dt.date.min) if d is not None)
        if first_start != effective_from and as_of >= first:
            _open(duty, f"it may already be in force: it starts not later than {starts}")
    elif deadline is not None and as_of > deadline:
        duty.state = "due"
    elif deadline is not None and (first_deadline is None or first_deadline < as_of):
        _open(duty, f"it may already be due: the deadline is not later than {deadline}")
    return duty


def _rule_duty(rule: dict[str, Any], list_id: str, result: StatusResult, state: str) -> Duty:
    """A rule's duty towards a listing, with the rule's own words (dates set by the caller)."""
    return Duty(
        list_id=list_id,
        rule_id=rule["id"],
        duty=rule["duty"],
        state=state,
        summary=" ".join(str(rule.get("summary", "")).split()),
        legal_basis=rule.get("legal_basis"),
        listing_date=str(result.listed_since) if result.listed_since else None,
        listing_date_qualifier=result.listed_qualifier,
        note=" ".join(str(rule["note"]).split()) if rule.get("note") else None,
        status=result,
        evidence=[e.to_dict() for e in result.deciding],
    )


def _add_note(duty: Duty, text: str) -> None:
    """Put ``text`` before the duty's note (the rule's own note, if any, follows)."""
    duty.note = f"{text}; {duty.note}" if duty.note else text


def _open(duty: Duty, why: str) -> None:
    """Mark a duty whose state a bounded listing date leaves open."""
    duty.uncertain = True
    _add_note(duty, f"the listing date is known only as {_bound_text(duty)}, so {why}")


def _bound_text(duty: Duty) -> str:
    if duty.listing_date_qualifier is DateQualifier.NOT_AFTER:
        return f"not later than {duty.listing_date}"
    return f"{duty.listing_date}, without its day"


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
