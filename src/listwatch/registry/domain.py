"""Vocabulary of the registry: event kinds, review states, statuses and partial dates.

These types carry no storage concerns; the ORM models, the status engine and every
interface share them so that a kind or a state is spelled one way everywhere.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    """What happened to an entity (on a list, in court, on an exchange or in a market)."""

    DESIGNATED = "designated"
    AMENDED = "amended"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REMOVED = "removed"
    LISTED = "listed"  # a statement of membership without a change (news, first snapshot)
    EXCHANGE_DELISTED = "exchange_delisted"
    BUSINESS_SUSPENDED = "business_suspended"
    LAWSUIT_FILED = "lawsuit_filed"
    COURT_RULING = "court_ruling"
    WITHDRAWN = "withdrawn"  # a correction that retracts the event it supersedes


#: Kinds that change an entity's status on a list; the others are context on its timeline.
STATUS_KINDS = frozenset(
    {
        EventKind.DESIGNATED,
        EventKind.AMENDED,
        EventKind.SUSPENDED,
        EventKind.REINSTATED,
        EventKind.REMOVED,
        EventKind.LISTED,
    }
)


class ReviewState(StrEnum):
    """Whether an event counts: only accepted events enter the status fold."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Status(StrEnum):
    """An entity's standing on one list at one date."""

    LISTED = "listed"
    LISTED_SUSPENDED = "listed_suspended"
    REMOVED = "removed"
    NEVER_LISTED = "never_listed"


class Origin(StrEnum):
    """Where an event came from; decides its initial review state and its record time."""

    CURATED = "curated"  # the bundled, cited dataset: accepted, recorded at its source's date
    IMPORT = "import"  # an official list file: accepted, recorded when imported
    NEWS = "news"  # extracted from an article: proposed until reviewed
    MANUAL = "manual"  # entered by a user through the API or the CLI


class Precision(StrEnum):
    """How much of a date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class DateQualifier(StrEnum):
    """How a valid date bounds the moment an event took effect."""

    ON = "on"  # it took effect within the stated period
    NOT_AFTER = "not_after"  # it took effect at the latest within the stated period


def qualified(value: str, qualifier: str) -> str:
    """A date as text with its qualifier in words: ``not later than 2021-07-07``."""
    return f"not later than {value}" if qualifier == DateQualifier.NOT_AFTER else value


class DateError(ValueError):
    """A date that cannot be read, or that cannot exist."""


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date known to the day, the month or only the year (``2021``, ``2021-03``)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise DateError(f"year {self.year} is out of range")
        if self.month is None and self.day is not None:
            raise DateError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise DateError(f"month {self.month} does not exist")
        if self.day is not None:
            assert self.month is not None
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise DateError(f"{self.year:04d}-{self.month:02d} has no day {self.day}")

    @classmethod
    def parse(cls, text: str | dt.date | PartialDate) -> PartialDate:
        """Read ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or pass a date through)."""
        if isinstance(text, PartialDate):
            return text
        if isinstance(text, dt.datetime):
            text = text.date()
        if isinstance(text, dt.date):
            return cls(text.year, text.month, text.day)
        match = _PARTIAL_DATE.match(str(text).strip())
        if not match:
            raise DateError(f"{text!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        return cls(year, month, day)

    @classmethod
    def from_stored(cls, start: dt.date, precision: Precision | str) -> PartialDate:
        """Rebuild a partial date from its first day and its precision (how it is stored)."""
        precision = Precision(precision)
        if precision is Precision.YEAR:
            return cls(start.year)
        if precision is Precision.MONTH:
            return cls(start.year, start.month)
        return cls(start.year, start.month, start.day)

    @property
    def precision(self) -> Precision:
        """The finest unit this date states."""
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    @property
    def start(self) -> dt.date:
        """The first day the date can mean."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def end(self) -> dt.date:
        """The last day the date can mean."""
        if self.day is not None:
            return self.start
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls inside the period this date stands for."""
        return self.start <= day <= self.end

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_day(text: str | dt.date) -> dt.date:
    """Read a full ``YYYY-MM-DD`` date, with a message that says what was wrong."""
    if isinstance(text, dt.date):
        return text
    try:
        parsed = PartialDate.parse(text)
    except DateError as exc:
        raise DateError(f"{text!r} is not a valid date (expected YYYY-MM-DD): {exc}") from None
    if parsed.precision is not Precision.DAY:
        raise DateError(f"{text!r} is not a full date (expected YYYY-MM-DD)")
    return parsed.start
