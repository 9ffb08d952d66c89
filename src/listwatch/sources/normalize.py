"""Reading the dates, countries and labels of official files into the registry's vocabulary."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from listwatch.registry.domain import DateError, PartialDate

DATA_DIR = Path(__file__).with_name("data")

_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_SLASHED = re.compile(r"^(\d{1,2}|[a-z]{2})[/.](\d{1,2}|[a-z]{2})[/.](\d{4})$", re.I)


def _partial(year: int, month: int | None = None, day: int | None = None) -> PartialDate | None:
    try:
        return PartialDate(year, month, day)
    except DateError:
        return None


def iso_date(text: str | None) -> PartialDate | None:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or an ISO timestamp (its date part)."""
    match = _ISO.match((text or "").strip())
    if not match:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    return _partial(year, month, day)


def english_date(text: str | None) -> PartialDate | None:
    """OFAC's ``10 Dec 1948``, ``Dec 1948`` or ``1948`` (also ISO forms)."""
    value = (text or "").strip().rstrip(".")
    if not value:
        return None
    if match := _DAY_MONTH_YEAR.match(value):
        month = _MONTHS.get(match.group(2).lower())
        return _partial(int(match.group(3)), month, int(match.group(1))) if month else None
    if match := _MONTH_YEAR.match(value):
        month = _MONTHS.get(match.group(1).lower())
        return _partial(int(match.group(2)), month) if month else None
    if _YEAR.match(value):
        return _partial(int(value))
    return iso_date(value)


def us_date(text: str | None) -> PartialDate | None:
    """``MM/DD/YYYY`` (OFAC's Publish_Date, BIS's Effective_Date)."""
    match = _SLASHED.match((text or "").strip())
    if not match or not match.group(1).isdigit() or not match.group(2).isdigit():
        return None
    return _partial(int(match.group(3)), int(match.group(1)), int(match.group(2)))


def day_first_date(text: str | None) -> PartialDate | None:
    """``DD/MM/YYYY`` or ``D.M.YYYY``; the UK writes unknown parts as ``dd`` and ``mm``."""
    match = _SLASHED.match((text or "").strip())
    if not match:
        return iso_date(text)
    day, month, year = match.groups()
    if not month.isdigit():
        return _partial(int(year))
    if not day.isdigit():
        return _partial(int(year), int(month))
    return _partial(int(year), int(month), int(day))


def dates_in(text: str | None) -> list[PartialDate]:
    """Every date in a free-text birth date (``circa 1958``, ``1958 to 1960``, ``10 Dec 1948``)."""
    value = (text or "").strip()
    value = re.sub(r"^(circa|approximately|about|ca\.?)\s+", "", value, flags=re.I)
    found: list[PartialDate] = []
    for part in re.split(r"\s+(?:to|-|and|or)\s+|;\s*|,\s*(?=\d{4})", value):
        parsed = english_date(part) or iso_date(part)
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found


def timestamp_date(text: str | None) -> dt.date | None:
    """The calendar date of an ISO timestamp such as ``2026-02-27T00:00:09.554Z``."""
    parsed = iso_date((text or "").strip()[:10])
    return parsed.start if parsed and parsed.day else None


@cache
def _country_table() -> dict[str, str]:
    from rigour.territories import get_territories

    table: dict[str, str] = {}
    for territory in get_territories():
        for name in (territory.name, territory.full_name, territory.code, *territory.codes):
            if name:
                table.setdefault(name.casefold(), territory.code)
    for name, code in data_file("country_names.yaml").items():
        table[str(name).casefold()] = str(code)
    return table


def known_country_codes() -> frozenset[str]:
    """Every country code :func:`country_code` can return."""
    return frozenset(_country_table().values())


@cache
def country_code(name: str) -> str | None:
    """The code FollowTheMoney uses for a country name or code (``Iran`` → ``ir``), if known.

    Standard names, full names and ISO codes come from rigour's territory table; the
    spellings of official lists (``Korea, North``, ``Burma``) from ``country_names.yaml``.
    """
    text = " ".join(name.split()).strip(" .")
    if not text or text.lower() in {"undetermined", "unknown", "none", "-0-", "00"}:
        return None
    return _country_table().get(text.casefold())


@cache
def ofac_labels() -> dict[str, Any]:
    """The OFAC label table (identifiers and facts by the label OFAC writes before them)."""
    raw = yaml.safe_load((DATA_DIR / "ofac_labels.yaml").read_text(encoding="utf-8"))
    identifiers = {str(k): v for k, v in (raw.get("identifiers") or {}).items()}
    facts = {str(k): v for k, v in (raw.get("facts") or {}).items()}
    by_word: dict[str, list[str]] = {}
    for label in sorted({*identifiers, *facts}, key=len, reverse=True):
        by_word.setdefault(label.split(" ", 1)[0].split(":", 1)[0], []).append(label)
    return {
        "identifiers": identifiers,
        "facts": facts,
        "by_word": by_word,
        "listing_dates": set(raw.get("listing_dates") or []),
    }


@cache
def data_file(name: str) -> Any:
    """A YAML table shipped with the loaders (list labels, programme mappings ...)."""
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
