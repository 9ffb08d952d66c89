"""The entity timeline, drawn as SVG on the server: one band per list, status segments
(listed, suspended by court, removed) over time, and every event as a clickable mark.

Drawing on the server keeps the page readable without JavaScript and identical in every
browser; the script only turns mark clicks into an in-page evidence panel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from listwatch.registry.domain import PartialDate
from listwatch.web.labels import human_date, kind_label, qualified_date, status_label

WIDTH = 1000
LABEL_WIDTH = 190
RIGHT_PAD = 24
TOP = 34
BAND_HEIGHT = 30
BAND_GAP = 26
AXIS_HEIGHT = 30

#: Kinds drawn as circles (status changes); the others are diamonds (context events).
STATUS_MARK_KINDS = {"designated", "listed", "amended", "suspended", "reinstated", "removed"}


@dataclass
class Segment:
    """A stretch of one status on one band."""

    status: str
    start: dt.date
    end: dt.date | None
    start_text: str
    end_text: str | None
    event_id: int
    start_qualifier: str = "on"  # not_after: the status began at the latest then
    end_qualifier: str = "on"


@dataclass
class Mark:
    """An event on a band; ``start``..``end`` is the period a partial date stands for."""

    event_id: int
    kind: str
    start: dt.date
    end: dt.date
    date_text: str | None
    review_state: str
    summary: str | None
    qualifier: str = "on"


@dataclass
class Band:
    """One list (or the events tied to no list)."""

    key: str
    label: str
    title: str
    segments: list[Segment] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Timeline:
    """Bands over a common time axis."""

    bands: list[Band]
    start: dt.date
    end: dt.date
    today: dt.date
    as_of: dt.date | None = None
    selected: int | None = None


def _period(text: str | None) -> tuple[dt.date, dt.date] | None:
    if not text:
        return None
    date = PartialDate.parse(text)
    return date.start, date.end


def _mark(event: dict[str, Any]) -> Mark | None:
    period = _period(event.get("date"))
    if period is None:
        return None
    return Mark(
        event_id=int(event["id"]),
        kind=str(event["kind"]),
        start=period[0],
        end=period[1],
        date_text=event.get("date"),
        review_state=str(event.get("review_state", "accepted")),
        summary=event.get("summary"),
        qualifier=str(event.get("date_qualifier") or "on"),
    )


def build_timeline(
    histories: list[dict[str, Any]],
    list_names: dict[str, str],
    *,
    today: dt.date,
    as_of: dt.date | None = None,
    selected: int | None = None,
    extra_events: list[dict[str, Any]] | None = None,
) -> Timeline | None:
    """Bands from an entity's history (the JSON of ``registry.status.history``).

    ``extra_events`` are events outside the fold (proposed news events) shown as marks.
    """
    bands: list[Band] = []
    dates: list[dt.date] = []
    by_key: dict[str, Band] = {}
    for item in histories:
        key = item.get("list") or ""
        band = Band(
            key=key or "other",
            label=key or "Other events",
            title=list_names.get(key, key) if key else "Events tied to no list",
        )
        for interval in item.get("intervals", []):
            opened = _period(interval.get("from"))
            if opened is None:
                continue
            closed = _period(interval.get("to"))
            band.segments.append(
                Segment(
                    status=interval["status"],
                    start=opened[0],
                    end=closed[0] if closed else None,
                    start_text=interval["from"],
                    end_text=interval.get("to"),
                    event_id=int(interval["event"]["id"]),
                    start_qualifier=interval.get("from_qualifier") or "on",
                    end_qualifier=interval.get("to_qualifier") or "on",
                )
            )
            dates += [opened[0]] + ([closed[0]] if closed else [])
            mark = _mark(interval["event"])
            if mark:
                band.marks.append(mark)
        for event in item.get("events", []):
            mark = _mark(event)
            if mark:
                band.marks.append(mark)
        bands.append(band)
        by_key[band.key] = band
    for event in extra_events or []:
        mark = _mark(event)
        if mark is None:
            continue
        key = event.get("list") or "other"
        existing = by_key.get(key)
        if existing is None:
            existing = Band(
                key=key,
                label=event.get("list") or "Other events",
                title=list_names.get(event.get("list") or "", "Events tied to no list"),
            )
            bands.append(existing)
            by_key[key] = existing
        if all(m.event_id != mark.event_id for m in existing.marks):
            existing.marks.append(mark)
    for band in bands:
        dates += [m.start for m in band.marks] + [m.end for m in band.marks]
    bands = [b for b in bands if b.segments or b.marks]
    if not bands or not dates:
        return None
    first, last = min(dates), max(dates)
    span = max((last - first).days, 120)
    start = first - dt.timedelta(days=max(20, span // 12))
    end = last + dt.timedelta(days=max(45, span // 6))
    # Reach today when it is not so far off that it would crush the history.
    if last < today <= last + dt.timedelta(days=span * 2):
        end = today + dt.timedelta(days=max(20, span // 20))
    if as_of is not None and first - dt.timedelta(days=span) <= as_of <= end + dt.timedelta(
        days=span
    ):
        start, end = (
            min(start, as_of - dt.timedelta(days=15)),
            max(end, as_of + dt.timedelta(days=15)),
        )
    for band in bands:
        band.marks.sort(key=lambda m: (m.start, m.event_id))
    return Timeline(bands, start, end, today, as_of, selected)


def _ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str, bool]]:
    """Axis ticks: (date, label, major)."""
    days = (end - start).days
    ticks: list[tuple[dt.date, str, bool]] = []
    if days > 365 * 4:
        step_years = max(1, days // (365 * 8))
        for year in range(start.year + 1, end.year + 1):
            if year % step_years == 0:
                ticks.append((dt.date(year, 1, 1), str(year), True))
        return ticks
    step = 1 if days <= 400 else 3 if days <= 365 * 2 else 6
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        tick = dt.date(year, month, 1)
        if tick > end:
            break
        if (month - 1) % step == 0:
            major = month == 1
            label = str(year) if major else tick.strftime("%b")
            ticks.append((tick, label, major))
    return ticks


def render_svg(timeline: Timeline) -> Markup:
    """The timeline as an inline SVG element (accessible: each mark is a labelled link)."""
    plot_left, plot_right = LABEL_WIDTH, WIDTH - RIGHT_PAD
    total = max(1, (timeline.end - timeline.start).days)

    def x(day: dt.date) -> float:
        offset = (min(max(day, timeline.start), timeline.end) - timeline.start).days
        return round(plot_left + (plot_right - plot_left) * offset / total, 1)

    height = TOP + len(timeline.bands) * (BAND_HEIGHT + BAND_GAP) + AXIS_HEIGHT - BAND_GAP + 10
    axis_y = height - AXIS_HEIGHT + 6
    out: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="Status timeline" xmlns="http://www.w3.org/2000/svg">',
        "<defs>"
        '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" class="seg-listed_suspended"/>'
        '<line x1="0" y1="0" x2="0" y2="8" class="hatch-line"/></pattern></defs>',
    ]
    for tick, label, major in _ticks(timeline.start, timeline.end):
        tx = x(tick)
        out.append(
            f'<line class="grid{" major" if major else ""}" x1="{tx}" y1="{TOP - 12}" '
            f'x2="{tx}" y2="{axis_y - 8}"/>'
            f'<text class="tick{" major" if major else ""}" x="{tx}" y="{axis_y + 10}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    if timeline.start <= timeline.today <= timeline.end:
        tx = x(timeline.today)
        out.append(
            f'<line class="today" x1="{tx}" y1="{TOP - 16}" x2="{tx}" y2="{axis_y - 8}"/>'
            f'<text class="today-label" x="{tx}" y="{TOP - 20}" text-anchor="middle">today</text>'
        )
    if timeline.as_of is not None and timeline.start <= timeline.as_of <= timeline.end:
        tx = x(timeline.as_of)
        out.append(
            f'<line class="as-of" x1="{tx}" y1="{TOP - 16}" x2="{tx}" y2="{axis_y - 8}"/>'
            f'<text class="as-of-label" x="{tx}" y="{TOP - 20}" text-anchor="middle">'
            f"as of {escape(human_date(timeline.as_of))}</text>"
        )
    for index, band in enumerate(timeline.bands):
        top = TOP + index * (BAND_HEIGHT + BAND_GAP)
        middle = top + BAND_HEIGHT / 2
        out.append(
            f'<g class="band" data-list="{escape(band.key)}">'
            f"<title>{escape(band.title)}</title>"
            f'<text class="band-label" x="{plot_left - 12}" y="{middle + 4}" '
            f'text-anchor="end">{escape(band.label)}</text>'
            f'<rect class="track" x="{plot_left}" y="{top}" width="{plot_right - plot_left}" '
            f'height="{BAND_HEIGHT}" rx="4"/>'
        )
        for segment in band.segments:
            x1 = x(segment.start)
            x2 = x(segment.end) if segment.end else plot_right
            width = max(2.0, round(x2 - x1, 1))
            fill = ' fill="url(#hatch)"' if segment.status == "listed_suspended" else ""
            until = (
                f" until {qualified_date(segment.end_text, segment.end_qualifier)}"
                if segment.end_text
                else " (continues)"
            )
            began = qualified_date(segment.start_text, segment.start_qualifier)
            tooltip = f"{status_label(segment.status)} from {began}{until}"
            out.append(
                f'<rect class="segment seg-{escape(segment.status)}" x="{x1}" y="{top}" '
                f'width="{width}" height="{BAND_HEIGHT}"{fill} '
                f'data-status="{escape(segment.status)}" '
                f'data-from="{escape(segment.start_text)}" '
                f'data-to="{escape(segment.end_text or "")}">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            label = status_label(segment.status)
            if width > len(label) * 6.6 + 16:
                out.append(
                    f'<text class="segment-label seg-text-{escape(segment.status)}" '
                    f'x="{x1 + 8}" y="{middle + 4}">{escape(label)}</text>'
                )
            if segment.end is None:
                out.append(
                    f'<path class="continues" d="M{plot_right - 9},{middle - 5} '
                    f'L{plot_right - 3},{middle} L{plot_right - 9},{middle + 5}"/>'
                )
        for mark in band.marks:
            out.append(_mark_svg(mark, x, middle, top, timeline.selected))
        out.append("</g>")
    out.append(
        f'<line class="axis" x1="{plot_left}" y1="{axis_y - 8}" x2="{plot_right}" '
        f'y2="{axis_y - 8}"/></svg>'
    )
    return Markup("".join(out))


def _mark_svg(mark: Mark, x: Any, middle: float, top: float, selected: int | None) -> str:
    classes = ["mark", f"mark-{mark.kind}"]
    if mark.review_state != "accepted":
        classes.append(f"mark-{mark.review_state}")
    if selected == mark.event_id:
        classes.append("selected")
    label = f"{kind_label(mark.kind)}, {qualified_date(mark.date_text, mark.qualifier)}"
    if mark.review_state != "accepted":
        label += f" ({mark.review_state})"
    x1, x2 = x(mark.start), x(mark.end)
    parts = [
        f'<a class="{" ".join(classes)}" href="?event={mark.event_id}#evidence" '
        f'data-event="{mark.event_id}" data-kind="{escape(mark.kind)}" '
        f'data-date="{escape(mark.date_text or "")}" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
    ]
    if x2 - x1 >= 4:
        # A date known only to the month or year: show the period it may fall in.
        parts.append(
            f'<rect class="period" x="{x1}" y="{top - 5}" width="{round(x2 - x1, 1)}" height="4" '
            f'rx="2"/>'
        )
    cx = round((x1 + x2) / 2, 1)
    if mark.kind in STATUS_MARK_KINDS:
        parts.append(f'<circle class="dot" cx="{cx}" cy="{middle}" r="7"/>')
    else:
        parts.append(
            f'<path class="dot" d="M{cx},{middle - 8} L{cx + 8},{middle} L{cx},{middle + 8} '
            f'L{cx - 8},{middle} Z"/>'
        )
    parts.append(f'<rect class="hit" x="{cx - 11}" y="{middle - 13}" width="22" height="26"/></a>')
    return "".join(parts)
