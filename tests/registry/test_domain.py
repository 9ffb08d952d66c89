"""Partial dates: parsing, bounds and refusals of impossible dates."""

import datetime as dt

import pytest

from listwatch.registry.domain import DateError, PartialDate, Precision, parse_day


def test_partial_dates_keep_their_precision() -> None:
    assert PartialDate.parse("2021").precision is Precision.YEAR
    assert PartialDate.parse("2021-03").precision is Precision.MONTH
    assert PartialDate.parse("2021-03-12").precision is Precision.DAY
    assert str(PartialDate.parse("2021-03")) == "2021-03"


def test_bounds_of_a_partial_date() -> None:
    month = PartialDate.parse("2024-02")
    assert month.start == dt.date(2024, 2, 1)
    assert month.end == dt.date(2024, 2, 29)
    assert PartialDate.parse("2021").end == dt.date(2021, 12, 31)
    assert month.contains(dt.date(2024, 2, 15))
    assert not month.contains(dt.date(2024, 3, 1))


def test_from_stored_round_trips() -> None:
    for text in ("2021", "2021-03", "2021-03-12"):
        value = PartialDate.parse(text)
        assert PartialDate.from_stored(value.start, value.precision) == value


@pytest.mark.parametrize("text", ["2021-02-30", "2021-13", "20210101", "yesterday", "0000", ""])
def test_impossible_or_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(DateError):
        PartialDate.parse(text)


def test_parse_day_needs_a_full_date() -> None:
    assert parse_day("2021-03-12") == dt.date(2021, 3, 12)
    with pytest.raises(DateError, match="full date"):
        parse_day("2021-03")
