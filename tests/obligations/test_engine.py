"""Obligations: dated duties per role from the consequence rules of each list."""

from __future__ import annotations

import datetime as dt

import pytest

from listwatch.obligations import duty_dates, obligations
from listwatch.registry.db import Registry, RegistryError
from listwatch.registry.domain import DateQualifier, EventKind
from tests.registry.helpers import event, make_entity

D = dt.date.fromisoformat


@pytest.fixture
def reg(sqlite_url: str) -> Registry:
    return Registry(sqlite_url)


def _by_rule(duties: list) -> dict:
    return {d.rule_id: d for d in duties}


def test_us_investor_holding_xiaomi(reg: Registry) -> None:
    with reg.transaction() as s:
        february = _by_rule(obligations(s, "xiaomi", D("2021-02-01"), "us-investor"))
        assert february["eo13959-purchase-ban"].state == "pending"
        assert february["eo13959-purchase-ban"].effective_from == D("2021-03-15")
        assert february["eo13974-divest"].deadline == D("2022-01-14")
        assert february["eo13974-divest"].state == "in_force"
        assert february["eo13959-purchase-ban"].evidence

        march = _by_rule(obligations(s, "xiaomi", D("2021-03-20"), "us-investor"))
        assert {d.state for d in march.values()} == {"suspended_by_court"}
        assert "2021-03-12" in (march["eo13959-purchase-ban"].note or "")

        assert obligations(s, "xiaomi", D("2021-06-01"), "us-investor") == []


def test_purchase_ban_in_force_after_sixty_days(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01-14")
        duties = _by_rule(obligations(s, "acme", D("2021-03-20"), "us-investor"))
        assert duties["eo13959-purchase-ban"].state == "in_force"
        # The EO 13959 regime was replaced on 2021-06-03.
        later = _by_rule(obligations(s, "acme", D("2021-07-01"), "us-investor"))
        assert later["eo13959-purchase-ban"].state == "lapsed"


def test_initial_tranche_uses_the_order_floor_dates(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2020-06-24")
        duties = _by_rule(obligations(s, "acme", D("2021-01-12"), "us-investor"))
        assert duties["eo13959-purchase-ban"].effective_from == D("2021-01-11")
        assert duties["eo13959-purchase-ban"].state == "in_force"
        assert duties["eo13974-divest"].deadline == D("2021-11-11")


def test_ns_cmic_and_entity_list_duties_for_dji(reg: Registry) -> None:
    with reg.transaction() as s:
        investor = _by_rule(obligations(s, "dji", D("2022-01-10"), "us-investor"))
        assert investor["eo14032-purchase-ban"].effective_from == D("2022-02-14")
        assert investor["eo14032-purchase-ban"].state == "pending"
        assert investor["eo14032-divest"].deadline == D("2022-12-16")
        exporter = _by_rule(obligations(s, "dji", D("2021-01-10"), "us-exporter"))
        assert exporter["ear-licence-required"].state == "in_force"
        assert exporter["ear-licence-required"].effective_from == D("2020-12-18")
        assert "eo14032-purchase-ban" not in exporter
        assert obligations(s, "dji", D("2020-12-17"), "us-exporter") == []


def test_sdn_blocking_binds_every_us_role(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2024-05-02", list_id="us-ofac-sdn")
        for role in ("us-investor", "us-exporter", "us-federal-buyer", "us-person"):
            duties = _by_rule(obligations(s, "acme", D("2024-06-01"), role))
            assert duties["sdn-blocking"].state == "in_force", role
        assert obligations(s, "acme", D("2024-06-01"), "eu-person") == []


def test_unknown_role_is_a_clear_error(reg: Registry) -> None:
    with reg.transaction() as s, pytest.raises(RegistryError, match="unknown role"):
        obligations(s, "xiaomi", D("2021-02-01"), "astronaut")


def test_a_listing_known_only_by_its_bound_gives_duty_dates_as_bounds(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")  # first seen in the SDN snapshot of 2024-05-02
        sdn = "us-ofac-sdn"
        event(
            s,
            "acme",
            EventKind.LISTED,
            "2024-05-02",
            list_id=sdn,
            qualifier=DateQualifier.NOT_AFTER,
        )
        blocked = _by_rule(obligations(s, "acme", D("2024-06-01"), "us-person"))["sdn-blocking"]
        assert (blocked.state, blocked.uncertain) == ("in_force", False)
        assert blocked.effective_from_qualifier is DateQualifier.NOT_AFTER
        assert duty_dates(blocked.to_dict()) == ["from not later than 2024-05-02"]
        # before the snapshot the entity may already have been listed: the duty may apply
        before = _by_rule(obligations(s, "acme", D("2024-01-01"), "us-person"))["sdn-blocking"]
        assert (before.state, before.uncertain) == ("uncertain", True)
        assert "may apply" in (before.note or "") and before.evidence


def test_a_listing_known_to_its_month_leaves_the_states_open_in_between(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")
        event(s, "acme", EventKind.DESIGNATED, "2021-01", recorded_on="2021-02-01")
        march = _by_rule(obligations(s, "acme", D("2021-03-05"), "us-investor"))
        ban, divest = march["eo13959-purchase-ban"], march["eo13974-divest"]
        # 60 days after a listing between 2021-01-01 and 2021-01-31
        assert (ban.state, ban.effective_from) == ("pending", D("2021-04-01"))
        assert ban.effective_from_qualifier is DateQualifier.NOT_AFTER
        assert ban.uncertain and "may already be in force" in (ban.note or "")
        # the deadline (2022-01-01 to 2022-01-31) cannot have passed in March 2021
        assert (divest.deadline, divest.deadline_qualifier) == (
            D("2022-01-31"),
            DateQualifier.NOT_AFTER,
        )
        assert divest.state == "in_force" and not divest.uncertain
        february = _by_rule(obligations(s, "acme", D("2021-02-15"), "us-investor"))
        assert not february["eo13959-purchase-ban"].uncertain  # 2021-03-02 at the earliest


def test_exact_listing_dates_give_exact_duty_dates(reg: Registry) -> None:
    with reg.transaction() as s:
        duties = _by_rule(obligations(s, "xiaomi", D("2021-02-01"), "us-investor"))
        for duty in duties.values():
            assert duty.effective_from_qualifier is DateQualifier.ON
            assert duty.deadline_qualifier is DateQualifier.ON
            assert not duty.uncertain


def test_a_listing_that_may_have_ended_gives_an_uncertain_duty(reg: Registry) -> None:
    with reg.transaction() as s:
        make_entity(s, "acme", "Acme")
        sdn = "us-ofac-sdn"
        event(s, "acme", EventKind.DESIGNATED, "2024-05-02", list_id=sdn)
        gone = {"previous_snapshot": "2024-07-01"}  # absent from the snapshot of 2024-09-01
        not_after = DateQualifier.NOT_AFTER
        event(
            s,
            "acme",
            EventKind.REMOVED,
            "2024-09-01",
            list_id=sdn,
            qualifier=not_after,
            details=gone,
        )
        july = _by_rule(obligations(s, "acme", D("2024-07-01"), "us-person"))["sdn-blocking"]
        assert (july.state, july.uncertain) == ("in_force", False)
        august = _by_rule(obligations(s, "acme", D("2024-08-01"), "us-person"))["sdn-blocking"]
        assert (august.state, august.uncertain) == ("in_force", True)
        assert "may already have been removed" in (august.note or "")
        assert obligations(s, "acme", D("2024-09-01"), "us-person") == []
