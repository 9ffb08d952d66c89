"""Words the UI shows for statuses, event kinds and partial dates."""

from __future__ import annotations

import datetime as dt

STATUS_LABELS = {
    "listed": "Listed",
    "listed_suspended": "Suspended by court",
    "removed": "Removed",
    "never_listed": "Never listed",
}

KIND_LABELS = {
    "designated": "Designated",
    "listed": "Listed",
    "amended": "Amended",
    "suspended": "Suspended by court",
    "reinstated": "Reinstated",
    "removed": "Removed",
    "exchange_delisted": "Delisted from exchange",
    "business_suspended": "Business suspended",
    "lawsuit_filed": "Lawsuit filed",
    "court_ruling": "Court ruling",
    "withdrawn": "Withdrawn",
}

CHANGE_LABELS = {
    "added": "Added",
    "first_recorded": "First recorded (added earlier or then)",
    "suspended": "Suspended by court",
    "reinstated": "Reinstated",
    "removed": "Removed",
    "amended": "Amended",
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def status_label(status: str | None) -> str:
    """``listed_suspended`` → ``Suspended by court``."""
    return STATUS_LABELS.get(status or "", (status or "").replace("_", " ").capitalize())


def kind_label(kind: str | None) -> str:
    """``lawsuit_filed`` → ``Lawsuit filed``."""
    return KIND_LABELS.get(kind or "", (kind or "").replace("_", " ").capitalize())


def change_label(change: str | None) -> str:
    """A diff change in words."""
    return CHANGE_LABELS.get(change or "", (change or "").capitalize())


def human_date(value: str | dt.date | None) -> str:
    """``2021-03-12`` → ``12 Mar 2021``; ``2021-03`` → ``Mar 2021``; ``2021`` → ``2021``."""
    if value is None or value == "":
        return "undated"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    parts = text[:10].split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        return text
    return text


def qualified_date(value: str | None, qualifier: str | None) -> str:
    """A date with its qualifier in words (``not later than Mar 2021``)."""
    text = human_date(value)
    return f"not later than {text}" if qualifier == "not_after" and value else text
