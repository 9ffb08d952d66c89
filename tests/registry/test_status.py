"""The status fold on both databases: transitions, record time, corrections, partial dates."""

from __future__ import annotations

import datetime as dt

import pytest

from listwatch.registry.db import Registry
from listwatch.registry.domain import DateQualifier, EventKind, ReviewState, Status
from listwatch.registry.status import diff, history, status
from listwatch.registry.store import review_event
from tests.registry.helpers import event, make_entity

D = dt.date.fromisoformat
L = "us-dod-cmc"


def test_every_transition_of_the_fold(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme Military Corp")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14")
        event(s, "acme", EventKind.SUSPENDED, "2021-03-12")
        event(s, "acme", EventKind.REINSTATED, "2021-06-01")
        event(s, "acme", EventKind.REMOVED, "2021-09-01")
        event(s, "acme", EventKind.DESIGNATED, "2022-10-05")
    expected = {
        "2021-01-13": Status.NEVER_LISTED,
        "2021-01-14": Status.LISTED,
        "2021-03-11": Status.LISTED,
        "2021-03-12": Status.LISTED_SUSPENDED,
        "2021-06-01": Status.LISTED,
        "2021-09-01": Status.REMOVED,
        "2022-10-04": Status.REMOVED,
        "2022-10-05": Status.LISTED,
    }
    with registry.transaction() as s:
        for day, want in expected.items():
            assert status(s, "acme", L, D(day)).status is want, day
        relisted = status(s, "acme", L, D("2023-01-01"))
        assert str(relisted.listed_since) == "2022-10-05"
        suspended = status(s, "acme", L, D("2021-04-01"))
        assert str(suspended.listed_since) == "2021-01-14"
        assert [e.kind for e in suspended.deciding] == [EventKind.DESIGNATED, EventKind.SUSPENDED]


def test_known_at_ignores_what_was_recorded_later(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14", recorded_on="2021-01-14")
        event(s, "acme", EventKind.REMOVED, "2021-05-25", recorded_on="2021-05-25")
    with registry.transaction() as s:
        as_of = D("2021-06-01")
        assert status(s, "acme", L, as_of).status is Status.REMOVED
        assert status(s, "acme", L, as_of, known_at=D("2021-02-01")).status is Status.LISTED
        assert status(s, "acme", L, as_of, known_at=D("2021-05-25")).status is Status.REMOVED
        assert status(s, "acme", L, as_of, known_at=D("2021-01-13")).status is Status.NEVER_LISTED


def test_out_of_order_recording_is_folded_in_valid_time(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        # The removal is learnt first, the listing that preceded it only later.
        event(s, "acme", EventKind.REMOVED, "2021-05-25", recorded_on="2021-06-01")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14", recorded_on="2021-07-01")
    with registry.transaction() as s:
        assert status(s, "acme", L, D("2021-02-01")).status is Status.LISTED
        assert status(s, "acme", L, D("2021-06-01")).status is Status.REMOVED
        early = status(s, "acme", L, D("2021-06-01"), known_at=D("2021-06-15"))
        assert early.status is Status.REMOVED
        assert any("no event records" in note for note in early.notes)
        assert status(s, "acme", L, D("2021-02-01"), known_at=D("2021-06-15")).status is (
            Status.NEVER_LISTED
        )


def test_a_correction_supersedes_without_erasing_history(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        wrong = event(s, "acme", EventKind.DESIGNATED, "2021-02-14", recorded_on="2021-02-15")
        event(
            s,
            "acme",
            EventKind.DESIGNATED,
            "2021-01-14",
            recorded_on="2021-03-01",
            supersedes=wrong.id,
        )
    with registry.transaction() as s:
        now = status(s, "acme", L, D("2021-01-20"))
        assert now.status is Status.LISTED
        assert str(now.listed_since) == "2021-01-14"
        before_fix = status(s, "acme", L, D("2021-02-20"), known_at=D("2021-02-20"))
        assert str(before_fix.listed_since) == "2021-02-14"
        assert status(s, "acme", L, D("2021-01-20"), known_at=D("2021-02-20")).status is (
            Status.NEVER_LISTED
        )


def test_a_withdrawal_removes_a_fact_from_later_answers(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        wrong = event(s, "acme", EventKind.DESIGNATED, "2021-01-14", recorded_on="2021-01-14")
        event(s, "acme", EventKind.WITHDRAWN, None, recorded_on="2021-02-01", supersedes=wrong.id)
    with registry.transaction() as s:
        assert status(s, "acme", L, D("2021-03-01")).status is Status.NEVER_LISTED
        assert status(s, "acme", L, D("2021-03-01"), known_at=D("2021-01-20")).status is (
            Status.LISTED
        )


def test_proposed_events_count_only_once_accepted(registry: Registry) -> None:
    from listwatch.registry.domain import Origin

    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        proposed = event(s, "acme", EventKind.DESIGNATED, "2021-01-14", origin=Origin.NEWS)
        proposed_id = proposed.id
    with registry.transaction() as s:
        assert status(s, "acme", L, D("2021-02-01")).status is Status.NEVER_LISTED
        review_event(s, proposed_id, ReviewState.ACCEPTED, reviewer="analyst")
    with registry.transaction() as s:
        assert status(s, "acme", L, D("2021-02-01")).status is Status.LISTED
        # Before the review was recorded, the fact was not accepted.
        assert status(s, "acme", L, D("2021-02-01"), known_at=D("2021-01-20")).status is (
            Status.NEVER_LISTED
        )
        review_event(s, proposed_id, ReviewState.REJECTED, reason="misread article")
    with registry.transaction() as s:
        assert status(s, "acme", L, D("2021-02-01")).status is Status.NEVER_LISTED


def test_partial_dates_are_folded_and_flagged(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01", recorded_on="2021-02-01")
        event(s, "acme", EventKind.REMOVED, "2022", recorded_on="2023-01-01")
    with registry.transaction() as s:
        inside = status(s, "acme", L, D("2021-01-20"))
        assert inside.status is Status.LISTED
        assert inside.uncertain
        after = status(s, "acme", L, D("2021-03-01"))
        assert after.status is Status.LISTED and not after.uncertain
        assert str(after.since) == "2021-01"
        assert status(s, "acme", L, D("2023-01-01")).status is Status.REMOVED
        assert status(s, "acme", L, D("2022-06-01")).uncertain


def test_not_after_dates_are_reported(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.LISTED, "2024-05-01", qualifier=DateQualifier.NOT_AFTER)
    with registry.transaction() as s:
        result = status(s, "acme", L, D("2024-06-01"))
        assert result.status is Status.LISTED
        assert result.since_qualifier is DateQualifier.NOT_AFTER


def test_history_gives_intervals_and_context_events(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14")
        event(s, "acme", EventKind.LAWSUIT_FILED, "2021-01-29")
        event(s, "acme", EventKind.SUSPENDED, "2021-03-12")
        event(s, "acme", EventKind.REMOVED, "2021-05-25")
        event(s, "acme", EventKind.EXCHANGE_DELISTED, "2021-01-11", list_id=None)
    with registry.transaction() as s:
        histories = {h.list_id: h for h in history(s, "acme")}
    dod = histories[L]
    assert [(i.status, str(i.start), str(i.end) if i.end else None) for i in dod.intervals] == [
        (Status.LISTED, "2021-01-14", "2021-03-12"),
        (Status.LISTED_SUSPENDED, "2021-03-12", "2021-05-25"),
        (Status.REMOVED, "2021-05-25", None),
    ]
    assert [e.kind for e in dod.events] == [EventKind.LAWSUIT_FILED]
    assert [e.kind for e in histories[""].events] == [EventKind.EXCHANGE_DELISTED]


def test_diff_between_two_dates(registry: Registry) -> None:
    with registry.transaction() as s:
        for name in ("a", "b", "c"):
            make_entity(s, name, name.upper())
        event(s, "a", EventKind.DESIGNATED, "2021-01-14")
        event(s, "b", EventKind.DESIGNATED, "2020-06-24")
        event(s, "b", EventKind.SUSPENDED, "2021-03-12")
        event(s, "c", EventKind.DESIGNATED, "2020-06-24")
        event(s, "c", EventKind.REMOVED, "2021-05-25")
        event(s, "c", EventKind.AMENDED, "2021-01-20", list_id="us-bis-entity-list")
    with registry.transaction() as s:
        changes = [c for c in diff(s, L, D("2021-01-01"), D("2021-06-30")) if c.entity_id in "abc"]
        assert [(c.entity_id, c.change, str(c.date)) for c in changes] == [
            ("a", "added", "2021-01-14"),
            ("b", "suspended", "2021-03-12"),
            ("c", "removed", "2021-05-25"),
        ]
        assert [
            c for c in diff(s, L, D("2021-01-14"), D("2021-03-11")) if c.entity_id in "abc"
        ] == []
        later = diff(s, L, D("2021-03-01"), D("2021-06-30"), known_at=D("2021-04-01"))
        assert [c.entity_id for c in later if c.entity_id in "abc"] == ["b"]


def test_curated_xiaomi_timeline(registry: Registry) -> None:
    with registry.transaction() as s:
        listed = status(s, "xiaomi", L, D("2021-02-01"))
        assert listed.status is Status.LISTED and str(listed.since) == "2021-01-14"
        suspended = status(s, "xiaomi", L, D("2021-04-01"))
        assert suspended.status is Status.LISTED_SUSPENDED and str(suspended.since) == "2021-03-12"
        assert status(s, "xiaomi", L, D("2021-06-01")).status is Status.REMOVED
        known = status(s, "xiaomi", L, D("2021-06-01"), known_at=D("2021-02-01"))
        assert known.status is Status.LISTED
        for result in (listed, suspended):
            assert all(e.evidence for e in result.deciding)


def test_failed_write_leaves_the_database_unchanged(registry: Registry) -> None:
    from sqlalchemy import func, select

    from listwatch.registry.models import Entity, Event

    with registry.transaction() as s:
        before = s.scalar(select(func.count(Event.id)))
    with pytest.raises(RuntimeError), registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14")
        raise RuntimeError("failure half way")
    with registry.transaction() as s:
        assert s.scalar(select(func.count(Event.id))) == before
        assert s.get(Entity, "acme") is None


def test_unverified_continuity_makes_the_status_uncertain(registry: Registry) -> None:
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2020-06-24")
        event(
            s,
            "acme",
            EventKind.AMENDED,
            "2021-06-03",
            details={"unverified": True, "note": "continuity not verified"},
        )
    with registry.transaction() as s:
        assert not status(s, "acme", L, D("2021-01-01")).uncertain
        later = status(s, "acme", L, D("2021-07-01"))
        assert later.status is Status.LISTED and later.uncertain
        assert any("continuity not verified" in note for note in later.notes)


def test_members_and_all_statuses_agree_with_status(registry: Registry) -> None:
    from listwatch.registry.status import all_statuses, members, statuses
    from listwatch.registry.store import merge_entities

    with registry.transaction() as s:
        for name in ("a", "b", "c", "a2"):
            make_entity(s, name, name.upper())
        event(s, "a", EventKind.DESIGNATED, "2021-01-14")
        event(s, "a2", EventKind.SUSPENDED, "2021-03-12")
        event(s, "b", EventKind.DESIGNATED, "2020-06-24")
        event(s, "c", EventKind.DESIGNATED, "2020-06-24")
        event(s, "c", EventKind.REMOVED, "2021-05-25")
        merge_entities(s, "a2", "a", reason="same company")
    with registry.transaction() as s:
        day = D("2021-04-01")
        found = {r.entity_id: r.status for r in members(s, L, day) if r.entity_id in "abc"}
        assert found == {"a": Status.LISTED_SUSPENDED, "b": Status.LISTED, "c": Status.LISTED}
        later = {r.entity_id for r in members(s, L, D("2021-06-01")) if r.entity_id in "abc"}
        assert later == {"a", "b"}
        everything = all_statuses(s, day)
        assert "a2" not in everything
        for entity_id, results in everything.items():
            expected = [(r.list_id, r.status, r.since) for r in statuses(s, entity_id, day)]
            assert [(r.list_id, r.status, r.since) for r in results] == expected, entity_id


def test_a_status_before_a_change_dated_only_by_a_bound_is_uncertain(registry: Registry) -> None:
    not_after = DateQualifier.NOT_AFTER
    with registry.transaction() as s:
        make_entity(s, "acme", "Acme")  # first seen in a snapshot of 2024-05-01
        event(s, "acme", EventKind.LISTED, "2024-05-01", qualifier=not_after)
        make_entity(s, "beta", "Beta")  # absent from the snapshot of 2024-03-01
        snapshot = {"previous_snapshot": "2024-03-01"}
        event(s, "beta", EventKind.DESIGNATED, "2024-05-01", qualifier=not_after, details=snapshot)
        make_entity(s, "gamma", "Gamma")
        event(s, "gamma", EventKind.DESIGNATED, "2024-06-01")
        snapshot = {"previous_snapshot": "2024-07-01"}
        event(s, "gamma", EventKind.REMOVED, "2024-09-01", qualifier=not_after, details=snapshot)
    with registry.transaction() as s:
        before = status(s, "acme", L, D("2020-01-01"))
        assert before.status is Status.NEVER_LISTED and before.uncertain
        assert "listed not later than 2024-05-01" in before.notes[0]
        assert [e.kind for e in before.deciding] == [EventKind.LISTED]  # the doubt's evidence
        after = status(s, "acme", L, D("2024-05-01"))
        assert after.status is Status.LISTED and not after.uncertain
        assert after.listed_qualifier is DateQualifier.NOT_AFTER
        assert not status(s, "beta", L, D("2024-03-01")).uncertain
        assert status(s, "beta", L, D("2024-03-02")).uncertain
        # a listing dated exactly comes first: the removal known by its bound cannot precede it
        assert not status(s, "gamma", L, D("2024-05-01")).uncertain
        assert not status(s, "gamma", L, D("2024-07-01")).uncertain
        between = status(s, "gamma", L, D("2024-08-01"))
        assert between.status is Status.LISTED and between.uncertain
        assert "may already have been removed" in between.notes[-1]
