"""The bundled curated dataset: integrity of its citations and dates, the histories it must
tell, and a cross-check of the s.1260H editions against an independent transcription."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from listwatch.registry.curated.loader import CuratedDataset, load_dataset
from listwatch.registry.db import Registry
from listwatch.registry.domain import PartialDate, Status
from listwatch.registry.status import history, status

D = dt.date.fromisoformat
DOD = "us-dod-cmc"


@pytest.fixture(scope="module")
def data() -> CuratedDataset:
    return load_dataset()


@pytest.fixture
def reg(sqlite_url: str) -> Registry:
    return Registry(sqlite_url)


def _sources(event: dict) -> list[str]:
    return event.get("sources") or [event["source"]]


# --- integrity -------------------------------------------------------------------------


def test_every_source_has_an_address_or_a_citation_and_a_real_date(data: CuratedDataset) -> None:
    today = dt.date.today()
    for key, source in data.sources.items():
        assert source.get("url") or source.get("citation"), key
        if source.get("url"):
            assert source["url"].startswith(("https://", "http://")), key
        published = PartialDate.parse(str(source["published"]))
        assert published.start <= today, key
        assert source.get("title") and source.get("publisher"), key


def test_every_event_cites_declared_sources(data: CuratedDataset) -> None:
    for event in data.events:
        keys = _sources(event)
        assert keys and all(k in data.sources for k in keys), event["id"]


def test_no_event_is_dated_after_its_record_time_unless_announced_in_advance(
    data: CuratedDataset,
) -> None:
    """A curated fact is recorded when its first source appeared: it cannot be dated later,
    except for a change the source announced ahead (``scheduled: true``)."""
    scheduled = []
    for event in data.events:
        first = data.sources[_sources(event)[0]]
        published = PartialDate.parse(str(first["published"]))
        if event["date"] is None:
            continue
        valid = PartialDate.parse(event["date"])
        if event.get("scheduled"):
            scheduled.append(event["id"])
            assert event.get("announced"), event["id"]
            continue
        assert valid.start <= published.end, (event["id"], str(valid), str(published))
    # Only the NYSE suspensions of 2021-01-11, announced on 2021-01-06, are scheduled.
    assert len(scheduled) == 3


def test_every_event_names_a_known_entity_and_list(data: CuratedDataset) -> None:
    entities = {e["id"] for e in data.entities}
    lists = {item["id"] for item in data.lists}
    for event in data.events:
        assert event["entity"] in entities, event["id"]
        assert event.get("list") is None or event["list"] in lists, event["id"]


def test_the_section_1237_tranches_have_20_11_4_and_9_companies(data: CuratedDataset) -> None:
    tranches: dict[str, set[str]] = defaultdict(set)
    for event in data.events:
        if event["list"] == DOD and event["kind"] == "designated" and event.get("tranche"):
            tranches[event["date"]].add(event["entity"])
    sizes = {day: len(members) for day, members in tranches.items()}
    assert sizes == {"2020-06-24": 20, "2020-08-28": 11, "2020-12-03": 4, "2021-01-14": 9}
    assert not set.intersection(*tranches.values())
    assert {"huawei", "china-mobile-group", "china-telecom-group"} <= tranches["2020-06-24"]
    assert "china-unicom-group" in tranches["2020-08-28"]
    assert "smic" in tranches["2020-12-03"]
    assert {"xiaomi", "luokung", "comac"} <= tranches["2021-01-14"]


def test_names_are_unambiguous_across_entities(data: CuratedDataset) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for entity in data.entities:
        for name in [entity["name"], *(n["name"] for n in entity.get("names", []))]:
            owners[" ".join(name.casefold().split())].add(entity["id"])
    shared = {name: ids for name, ids in owners.items() if len(ids) > 1}
    assert not shared


def test_court_events_carry_their_court(data: CuratedDataset) -> None:
    court_kinds = {"lawsuit_filed", "court_ruling"}
    court_events = [e for e in data.events if e["kind"] in court_kinds]
    assert {e["entity"] for e in court_events} >= {"xiaomi", "luokung", "hesai", "dji"}
    for event in court_events:
        assert event.get("court"), event["id"]


def test_exchange_delistings_belong_to_no_list(data: CuratedDataset) -> None:
    delistings = [e for e in data.events if e["kind"] == "exchange_delisted"]
    assert {e["entity"] for e in delistings} == {"china-mobile", "china-telecom", "china-unicom"}
    for event in delistings:
        assert event["list"] is None
        assert event["exchange"] == "New York Stock Exchange"
        assert event["countries"] == ["US"]
        assert event["date"] == "2021-01-11"


# --- histories told through the real status engine ----------------------------------------


def test_xiaomi_phases_and_what_was_known_when(reg: Registry) -> None:
    with reg.transaction() as s:
        phases = {
            "2021-01-13": Status.NEVER_LISTED,
            "2021-02-01": Status.LISTED,
            "2021-04-01": Status.LISTED_SUSPENDED,
            "2021-06-01": Status.REMOVED,
            "2025-01-01": Status.REMOVED,
        }
        for day, wanted in phases.items():
            assert status(s, "xiaomi", DOD, D(day)).status is wanted, day
        earlier = status(s, "xiaomi", DOD, D("2021-06-01"), known_at=D("2021-02-01"))
        assert earlier.status is Status.LISTED
        assert str(earlier.since) == "2021-01-14"


def test_dji_entity_list_and_ns_cmic_intervals(reg: Registry) -> None:
    with reg.transaction() as s:
        lists = {h.list_id: h for h in history(s, "dji")}
        assert str(lists["us-bis-entity-list"].intervals[0].start) == "2020-12-18"
        assert str(lists["us-ofac-ns-cmic"].intervals[0].start) == "2021-12-16"
        assert str(lists[DOD].intervals[0].start) == "2022-10-05"
        kinds = {e.kind.value for e in lists[DOD].events}
        assert {"lawsuit_filed", "court_ruling"} <= kinds
        assert status(s, "dji", DOD, D("2025-10-01")).status is Status.LISTED


def test_luokung_injunction_then_removal(reg: Registry) -> None:
    with reg.transaction() as s:
        assert status(s, "luokung", DOD, D("2021-04-01")).status is Status.LISTED
        assert status(s, "luokung", DOD, D("2021-05-10")).status is Status.LISTED_SUSPENDED
        assert status(s, "luokung", DOD, D("2021-06-04")).status is Status.REMOVED


def test_relisting_after_a_gap(reg: Registry) -> None:
    with reg.transaction() as s:
        comac = [(i.status, str(i.start)) for h in history(s, "comac") for i in h.intervals]
        assert comac == [
            (Status.LISTED, "2021-01-14"),
            (Status.REMOVED, "2021-06-03"),
            (Status.LISTED, "2025-01-07"),
        ]
        hesai = status(s, "hesai", DOD, D("2024-11-01"))
        assert hesai.status is Status.LISTED and str(hesai.listed_since) == "2024-01-31"


def test_seed_companies_on_the_telecom_and_chip_lists(reg: Registry) -> None:
    with reg.transaction() as s:
        for entity in ("china-mobile", "china-telecom", "china-unicom", "huawei", "smic"):
            cmic = status(s, entity, "us-ofac-ns-cmic", D("2021-06-03"))
            assert cmic.status is Status.LISTED, entity
        assert status(s, "sensetime", "us-ofac-ns-cmic", D("2021-12-10")).status is Status.LISTED
        huawei = status(s, "huawei", "us-bis-entity-list", D("2019-05-16"))
        assert huawei.status is Status.LISTED
        assert status(s, "huawei", "us-bis-entity-list", D("2019-05-15")).status is (
            Status.NEVER_LISTED
        )


# --- cross-check against the OpenSanctions transcription of the s.1260H PDFs -----------------

_LEGAL_WORDS = {
    "co", "ltd", "limited", "corporation", "corp", "company", "inc", "incorporated", "the",
    "group", "llc", "plc",
}  # fmt: skip


def _keys(name: str) -> set[str]:
    """Comparable forms of a name: its words without legal forms, and any acronym in brackets."""
    keys = set()
    for acronym in re.findall(r"[(\[]([^)\]]+)[)\]]", name):
        keys.add("acr:" + acronym.strip().casefold())
    bare = re.sub(r"[(\[][^)\]]*[)\]]", " ", name).replace("*", " ")
    bare = bare.replace("’", "'").casefold()
    words = [w for w in re.split(r"[^\w']+", bare) if w and w not in _LEGAL_WORDS]
    if words:
        keys.add(" ".join(words))
    return keys


def _name_index(data: CuratedDataset) -> dict[str, str]:
    index: dict[str, str] = {}
    for entity in data.entities:
        names = [entity["name"], *(n["name"] for n in entity.get("names", []))]
        for name in names:
            for key in _keys(name):
                index.setdefault(key, entity["id"])
        for name in entity.get("names", []):
            if name.get("kind") == "acronym":
                index.setdefault("acr:" + name["name"].casefold(), entity["id"])
    return index


def _os_editions(path: Path) -> dict[str, set[str]]:
    """Names on each s.1260H edition: rows whose listing period covers the edition date."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    dates = sorted({row["Start date"] for row in rows})
    editions: dict[str, set[str]] = {}
    for day in dates:
        editions[day] = {
            row["Name"]
            for row in rows
            if row["Start date"] <= day and (not row["End date"] or row["End date"] > day)
        }
    return editions


# What the curated dataset reaches per edition (names listed there that it has as listed on
# the edition date). Raise a floor when the dataset grows; never lower one to pass, unless
# the official record contradicts the transcription: it keeps AMEC open from 2024-01-31,
# but DoD removed AMEC on 2024-12-13 (Federal Register notice of 2024-12-17).
EDITION_FLOORS = {
    "2021-06-03": 20,
    "2022-10-05": 30,
    "2024-01-31": 39,
    "2025-01-07": 43,
    "2026-06-08": 43,
}


def test_section_1260h_editions_against_the_transcription(
    shared_data: Path, reg: Registry, data: CuratedDataset
) -> None:
    path = shared_data / "dod" / "us_dod_chinese_milcorps_sanctions.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    editions = _os_editions(path)
    index = _name_index(data)
    achieved: dict[str, int] = {}
    with reg.transaction() as s:
        for day, names in editions.items():
            matched = {index[k] for name in names for k in _keys(name) if k in index}
            on_list = {
                entity
                for entity in matched
                if status(s, entity, DOD, D(day)).status in (Status.LISTED, Status.LISTED_SUSPENDED)
            }
            achieved[day] = len(on_list)
    assert set(EDITION_FLOORS) <= set(achieved)
    for day, floor in EDITION_FLOORS.items():
        assert achieved[day] >= floor, (day, achieved[day], floor)


def test_transcription_2021_rows_are_reconstructed_not_the_june_2021_notice(
    shared_data: Path,
) -> None:
    """What the transcription's "2021-06-03" rows are.

    DoD did publish a first s.1260H list of 47 entities on 2021-06-03 (86 FR 33994), the
    day EO 14032 listed 59 companies in its Annex. The transcription has 47 rows of that
    date, but they carry the "*" footnote that DoD's later PDFs put on previously
    identified entities, most coincide with Annex names, and the Annex's s.1237 parents
    such as CASC are missing: they read as a later edition's starred entries dated back,
    not as the June 2021 notice. The dataset therefore does not rely on them for 2021.
    """
    dod = shared_data / "dod" / "us_dod_chinese_milcorps_sanctions.csv"
    csl = shared_data / "lists" / "csl" / "consolidated_screening_list_2022-04.csv"
    if not dod.exists() or not csl.exists():
        pytest.skip("transcription or CSL file not found")
    with dod.open(encoding="utf-8") as handle:
        rows_2021 = [r["Name"] for r in csv.DictReader(handle) if r["Start date"] == "2021-06-03"]
    with csl.open(encoding="utf-8") as handle:
        annex = [
            r["name"]
            for r in csv.DictReader(handle)
            if "CMIC" in r["source"] and "03 Jun 2021, Listing Date (CMIC)" in r["ids"]
        ]
    assert (len(rows_2021), len(annex)) == (47, 59)
    assert Counter(annex).most_common(1)[0][1] == 1

    def words(name: str) -> set[str]:
        return {k for k in _keys(name) if not k.startswith("acr:")}

    annex_keys = {k for name in annex for k in words(name)}
    shared = [n for n in rows_2021 if words(n) & annex_keys]
    assert 30 <= len(shared) < 47
    assert sum("*" in name for name in rows_2021) > 40
    casc = words("China Aerospace Science and Technology Corporation")
    assert casc & annex_keys
    assert not any(words(n) & casc for n in rows_2021)
