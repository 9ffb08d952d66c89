"""What an alert says in one line: who, what, on which list, and when, as precisely as known."""

from __future__ import annotations

from listwatch.alerts.feed import alert_title


def test_an_alert_title_dates_the_change_as_precisely_as_it_is_known() -> None:
    event = {"entity_name": "Acme", "kind": "listed", "list": "us-ofac-sdn", "date": "2024-05-01"}
    assert alert_title({"event": event}) == "Acme: listed (us-ofac-sdn), 2024-05-01"
    first_seen = event | {"date_qualifier": "not_after"}
    assert alert_title({"event": first_seen}) == (
        "Acme: listed (us-ofac-sdn), not later than 2024-05-01"
    )
    assert alert_title({"event": {"entity_id": "acme", "kind": "court_ruling"}}) == (
        "acme: court ruling"
    )
