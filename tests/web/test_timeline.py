"""The server-drawn timeline: bands, segments, marks, partial dates and the axis."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from listwatch.web.timeline import build_timeline, render_svg


def event(
    event_id: int, kind: str, date: str, list_id: str | None = "l1", state: str = "accepted"
) -> dict[str, Any]:
    return {"id": event_id, "kind": kind, "date": date, "list": list_id, "review_state": state}


def history() -> list[dict[str, Any]]:
    return [
        {
            "list": "l1",
            "intervals": [
                {
                    "status": "listed",
                    "from": "2021-01-14",
                    "to": "2021-03-12",
                    "event": event(1, "designated", "2021-01-14"),
                },
                {
                    "status": "listed_suspended",
                    "from": "2021-03-12",
                    "to": "2021-05-25",
                    "event": event(2, "suspended", "2021-03-12"),
                },
                {
                    "status": "removed",
                    "from": "2021-05-25",
                    "to": None,
                    "event": event(3, "removed", "2021-05-25"),
                },
            ],
            "events": [event(4, "lawsuit_filed", "2021-01-29")],
        },
        {"list": "", "intervals": [], "events": [event(5, "business_suspended", "2022-04", None)]},
    ]


def test_bands_segments_and_marks() -> None:
    timeline = build_timeline(history(), {"l1": "List one"}, today=dt.date(2022, 6, 1), selected=2)
    assert timeline is not None
    assert [b.label for b in timeline.bands] == ["l1", "Other events"]
    assert timeline.start < dt.date(2021, 1, 14) and timeline.end > dt.date(2022, 4, 30)
    svg = str(render_svg(timeline))
    assert re.findall(r'data-status="(\w+)" data-from="([\d-]+)" data-to="([\d-]*)"', svg) == [
        ("listed", "2021-01-14", "2021-03-12"),
        ("listed_suspended", "2021-03-12", "2021-05-25"),
        ("removed", "2021-05-25", ""),
    ]
    assert sorted(int(i) for i in re.findall(r'data-event="(\d+)"', svg)) == [1, 2, 3, 4, 5]
    assert 'class="mark mark-suspended selected"' in svg
    assert 'class="period"' in svg, "a month-precision date shows the month it may fall in"
    assert ">today<" in svg


def test_labels_are_escaped_and_proposed_marks_shown() -> None:
    hostile = [
        {
            "list": "<script>",
            "intervals": [],
            "events": [event(9, "designated", "2021", "<script>")],
        }
    ]
    timeline = build_timeline(
        hostile,
        {},
        today=dt.date(2030, 1, 1),
        extra_events=[event(10, "removed", "2021-06-01", "<script>", "proposed")],
    )
    assert timeline is not None
    svg = str(render_svg(timeline))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "mark-proposed" in svg


def test_nothing_to_draw() -> None:
    assert build_timeline([], {}, today=dt.date(2021, 1, 1)) is None
    undated = [
        {"list": "l1", "intervals": [], "events": [{"id": 1, "kind": "listed", "date": None}]}
    ]
    assert build_timeline(undated, {}, today=dt.date(2021, 1, 1)) is None


def test_long_histories_use_year_ticks() -> None:
    long = [
        {
            "list": "l1",
            "intervals": [],
            "events": [event(1, "designated", "2001-01-01"), event(2, "removed", "2020-01-01")],
        }
    ]
    timeline = build_timeline(long, {}, today=dt.date(2040, 1, 1))
    assert timeline is not None
    svg = str(render_svg(timeline))
    assert ">2010<" in svg and ">Jun<" not in svg


def test_dates_known_only_as_bounds_say_so() -> None:
    first_seen = event(1, "listed", "2024-05-01") | {"date_qualifier": "not_after"}
    gone = event(2, "removed", "2024-05-03") | {"date_qualifier": "not_after"}
    histories = [
        {
            "list": "l1",
            "intervals": [
                {"status": "listed", "from": "2024-05-01", "from_qualifier": "not_after",
                 "to": "2024-05-03", "to_qualifier": "not_after", "event": first_seen},
                {"status": "removed", "from": "2024-05-03", "from_qualifier": "not_after",
                 "to": None, "event": gone},
            ],
            "events": [],
        }
    ]  # fmt: skip
    timeline = build_timeline(histories, {}, today=dt.date(2024, 6, 1))
    assert timeline is not None
    svg = str(render_svg(timeline))
    assert "Listed from not later than 1 May 2024 until not later than 3 May 2024" in svg
    assert 'aria-label="Removed, not later than 3 May 2024"' in svg
