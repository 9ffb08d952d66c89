"""The server's bulk reads agree with the registry's own functions, entity by entity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from listwatch.api.queries import keep_members, list_members
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind, Status
from listwatch.registry.models import Entity
from listwatch.registry.status import all_statuses, status, statuses
from listwatch.registry.store import add_name, merge_entities
from tests.api.helpers import official_event


def _merge_a_record(registry: Registry) -> None:
    with registry.transaction() as session:
        record = Entity(id="xiaomi-rec", schema="Company", name="XIAOMI CORP", origin="import")
        session.add(record)
        add_name(session, record, "XIAOMI CORP", kind="primary")
        session.flush()
        merge_entities(session, "xiaomi-rec", "xiaomi", "same company")
    official_event(registry, "xiaomi-rec", EventKind.DESIGNATED, "2023-05-01", "us-bis-entity-list")


def test_all_statuses_equal_statuses(api_registry: Registry) -> None:
    _merge_a_record(api_registry)
    for day in (dt.date(2021, 2, 1), dt.date(2021, 4, 1), dt.date(2024, 6, 1)):
        with api_registry.transaction() as session:
            bulk = all_statuses(session, day)
            for entity_id in session.scalars(select(Entity.id)):
                if entity_id == "xiaomi-rec":
                    continue  # merged away: described through xiaomi
                one = [r.to_dict() for r in statuses(session, entity_id, day)]
                assert [r.to_dict() for r in bulk.get(entity_id, [])] == one, entity_id
    assert {r.list_id for r in bulk["xiaomi"]} >= {"us-dod-cmc", "us-bis-entity-list"}


def test_list_members_equal_status(api_registry: Registry) -> None:
    _merge_a_record(api_registry)
    day = dt.date(2021, 4, 1)
    with api_registry.transaction() as session:
        rows = keep_members(list_members(session, "us-dod-cmc", day), "all")
        assert rows
        for row in rows:
            expected = status(session, row.entity["id"], "us-dod-cmc", day).to_dict()
            # Members come without the evidence of their deciding events.
            for event in expected["events"]:
                event["evidence"] = []
            assert row.status.to_dict() == expected, row.entity["id"]


def test_every_member_filter_keeps_what_it_names(api_registry: Registry) -> None:
    day = dt.date(2021, 7, 1)  # after the s.1237 list ended: unverified memberships
    with api_registry.transaction() as session:
        every = list_members(session, "us-dod-cmc", day)
    assert {r.status.status for r in keep_members(every, "current")} <= {
        Status.LISTED,
        Status.LISTED_SUSPENDED,
    }
    removed = keep_members(every, "removed")
    assert removed and {r.status.status for r in removed} == {Status.REMOVED}
    uncertain = keep_members(every, "uncertain")
    assert uncertain and all(r.status.uncertain for r in uncertain)
    assert len(keep_members(every, "all")) + sum(
        r.status.status is Status.NEVER_LISTED for r in every
    ) == len(every)
