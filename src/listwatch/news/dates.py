"""Temporal expressions: found by per-language patterns, resolved against the publication date.

``dateparser.search_dates`` alone finds dates in percentages and ordinary words, so the
expressions are found with the patterns of the language file, and each is resolved on
its own. The policy, stated once:

- a weekday means the latest such day on or before the publication date (``next
  Thursday`` and its translations look forward);
- a bare month (or day and month) means the latest one on or before the publication
  date, unless the sentence looks ahead (a future cue) and the phrase is not explicitly
  past ("back in November");
- "month + this/last/next year", "last year", "last month" shift the publication's
  year or month;
- a relative expression needs a publication date: without one it stays unresolved, and
  with a publication date known only to the month (or year), expressions that need a
  day resolve to that month (or year) and no finer;
- expressions that ``dateparser`` handles well and the data file marks ``parse`` are
  handed to it with the publication date as its ``RELATIVE_BASE``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from listwatch.news.langpack import DateExpression, LanguagePack
from listwatch.news.textfold import fold
from listwatch.registry.domain import DateError, PartialDate, Precision


@dataclass(frozen=True)
class TemporalMention:
    """A temporal expression in a text, and what it resolves to (``None``: unresolved)."""

    text: str
    start: int
    end: int
    type: str
    date: PartialDate | None
    marker: str | None = None  # "since" or "deadline": a date that does not date the event
    method: str | None = None  # "rule" or "dateparser"


def _number(value: str | None, table: dict[str, int]) -> int | None:
    if value is None:
        return None
    value = value.strip(". ")
    if value.isdigit():
        return int(value)
    return table.get(fold(value))


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _coarse(published: PartialDate) -> PartialDate:
    """The publication date itself, for day-level expressions it cannot place more finely."""
    return published


def resolve_expression(
    expression: DateExpression,
    groups: dict[str, Any],
    matched_text: str,
    pack: LanguagePack,
    published: PartialDate | None,
    looks_ahead: bool,
) -> tuple[PartialDate | None, str | None]:
    """Resolve one matched expression; returns (date, method)."""
    params = expression.params
    month = _number(groups.get("month"), pack.months)
    day = _number(groups.get("day"), {})
    year = _number(groups.get("year"), {})
    kind = expression.type
    try:
        if kind == "absolute":
            if year is None:
                return None, None
            return PartialDate(year, month, day if month else None), "rule"
        if published is None:
            return None, None
        ahead = looks_ahead and not params.get("past", False)
        if kind in ("day_month", "month"):
            if month is None:
                return None, None
            candidate_year = published.year
            if published.month is not None:
                if ahead and month < published.month:
                    candidate_year += 1
                elif not ahead and month > published.month:
                    candidate_year -= 1
                elif day is not None and published.day is not None and month == published.month:
                    if ahead and day < published.day:
                        candidate_year += 1
                    elif not ahead and day > published.day:
                        candidate_year -= 1
            return PartialDate(candidate_year, month, day if kind == "day_month" else None), "rule"
        if kind == "month_rel_year":
            if month is None:
                return None, None
            return PartialDate(published.year + int(params.get("years", 0)), month), "rule"
        if kind == "rel_year":
            return PartialDate(published.year + int(params.get("years", 0))), "rule"
        if kind == "rel_month":
            if published.month is None:
                return None, None
            y, m = _shift_month(published.year, published.month, int(params.get("months", 0)))
            return PartialDate(y, m), "rule"
        if kind in ("rel_day", "rel_week", "weekday"):
            if published.precision is not Precision.DAY:
                return _coarse(published), "rule"
            base = published.start
            if kind == "rel_day":
                return PartialDate.parse(base + dt.timedelta(days=int(params["days"]))), "rule"
            if kind == "rel_week":
                monday = base - dt.timedelta(days=base.weekday())
                start = monday + dt.timedelta(weeks=int(params.get("weeks", 0)))
                end = start + dt.timedelta(days=6)
                if start.month == end.month:
                    return PartialDate(start.year, start.month), "rule"
                if start.year == end.year:
                    return PartialDate(start.year), "rule"
                return None, None
            weekday = _number(groups.get("weekday"), pack.weekdays)
            if weekday is None:
                return None, None
            if params.get("direction") == "next":
                delta = (weekday - base.weekday()) % 7 or 7
                return PartialDate.parse(base + dt.timedelta(days=delta)), "rule"
            delta = (base.weekday() - weekday) % 7
            return PartialDate.parse(base - dt.timedelta(days=delta)), "rule"
        if kind == "parse":
            if published.precision is not Precision.DAY:
                return None, None
            return _dateparser(pack.dateparser, fold(matched_text), published.start), "dateparser"
    except DateError:
        return None, None
    return None, None


@lru_cache(maxsize=4096)
def _dateparser(language: str, text: str, base: dt.date) -> PartialDate | None:
    from dateparser.date import DateDataParser

    parser = DateDataParser(
        languages=[language],
        settings={
            "RELATIVE_BASE": dt.datetime(base.year, base.month, base.day),
            "PREFER_DATES_FROM": "past",
        },
    )
    data = parser.get_date_data(text)
    if data.date_obj is None:
        return None
    value = data.date_obj.date()
    if value > base:
        return None
    period = data.period or "day"
    if period == "year":
        return PartialDate(value.year)
    if period == "month":
        return PartialDate(value.year, value.month)
    return PartialDate.parse(value)


@lru_cache(maxsize=64)
def _tail_pattern(pack_code: str, source: str) -> re.Pattern[str]:
    # The cue, then at most two words (no clause break) before the expression.
    return re.compile(rf"(?:{source})(?:[^\w,;:]+\w+){{0,2}}[^\w,;:]*$")


def find_temporal(
    text: str,
    pack: LanguagePack,
    published: PartialDate | None,
    *,
    folded: str | None = None,
    looks_ahead: bool | None = None,
) -> list[TemporalMention]:
    """Temporal expressions in ``text`` (one sentence), longest first, resolved."""
    folded = fold(text) if folded is None else folded
    if looks_ahead is None:
        looks_ahead = pack.cue("future").search(folded) is not None
    found: list[tuple[int, int, DateExpression, re.Match[str]]] = []
    for expression in pack.dates:
        for match in expression.regex.finditer(folded):
            start, end = match.span()
            while start < end and not folded[start].isalnum():
                start += 1
            if start < end:
                found.append((start, end, expression, match))
    found.sort(key=lambda item: (-(item[1] - item[0]), item[0]))
    chosen: list[tuple[int, int, DateExpression, re.Match[str]]] = []
    for item in found:
        if all(item[1] <= other[0] or item[0] >= other[1] for other in chosen):
            chosen.append(item)
    chosen.sort(key=lambda item: item[0])
    since = _tail_pattern(pack.code + ":since", pack.cue("since").pattern)
    deadline = _tail_pattern(pack.code + ":deadline", pack.cue("deadline").pattern)
    mentions = []
    for start, end, expression, match in chosen:
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        date, method = resolve_expression(
            expression, groups, text[start:end], pack, published, looks_ahead
        )
        before = folded[max(0, start - 40) : start]
        marker = None
        if since.search(before) or pack.cue("since").match(folded, start):
            marker = "since"
        elif deadline.search(before) or pack.cue("deadline").match(folded, start):
            marker = "deadline"
        mentions.append(
            TemporalMention(text[start:end], start, end, expression.type, date, marker, method)
        )
    return mentions
