"""The web UI's pages, rendered by the real application: content, forms, sign-in, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from tests.api.helpers import news_event, token


def sign_in(client: Any, registry: Registry, *scopes: str) -> str:
    text = token(registry, *scopes, name="Ana Analyst")
    response = client.post(
        "/login", data={"token": text, "next": "/review"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/review"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    return csrf_of(client.get("/review").text)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "a signed-in page carries the CSRF token in its forms"
    return match.group(1)


def test_search_page(client: Any) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "Screen" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    page = client.get("/", params={"q": "Xiaomi", "as_of": "2021-04-01"})
    assert 'data-testid="hit"' in page.text
    assert "Xiaomi Corporation" in page.text
    assert 'data-status="listed_suspended"' in page.text
    nothing = client.get("/", params={"q": "Qwertyuiop Widgets GmbH"})
    assert "No match" in nothing.text


def test_entity_page_timeline_and_evidence(client: Any) -> None:
    page = client.get("/entities/xiaomi")
    assert page.status_code == 200
    html = page.text
    segments = re.findall(r'class="segment seg-(\w+)"[^>]*data-from="([\d-]+)"', html)
    assert ("listed", "2021-01-14") in segments
    assert ("listed_suspended", "2021-03-12") in segments
    assert ("removed", "2021-05-25") in segments
    court = re.search(r'data-event="(\d+)" data-kind="suspended" data-date="2021-03-12"', html)
    assert court, "the court's suspension is a mark on the timeline"
    with_evidence = client.get("/entities/xiaomi", params={"event": court.group(1)})
    assert 'data-testid="evidence"' in with_evidence.text
    assert "Xiaomi Corp. v. Dep" in with_evidence.text
    fragment = client.get(f"/ui/events/{court.group(1)}/evidence")
    assert "Preliminary injunction" in fragment.text
    duties = client.get("/entities/xiaomi", params={"role": "us-investor", "as_of": "2021-02-01"})
    assert "divest" in duties.text.lower()
    assert client.get("/entities/xiaomi", params={"as_of": "2021-13-01"}).status_code == 400


def test_list_page(client: Any) -> None:
    page = client.get(
        "/lists/us-dod-cmc",
        params={"as_of": "2021-04-01", "from": "2021-01-01", "to": "2021-06-30"},
    )
    assert page.status_code == 200
    members = page.text.split('data-testid="members"')[1].split("</table>")[0]
    assert "Xiaomi Corporation" in members and "Suspended by court" in members
    diff = page.text.split('data-testid="diff"')[1].split("</table>")[0]
    assert diff.count("Xiaomi Corporation") == 3
    assert 'data-testid="uncertain-members"' not in page.text
    later = client.get("/lists/us-dod-cmc", params={"as_of": "2021-07-01"}).text
    notice = later.split('data-testid="uncertain-members"')[1].split("</p>")[0]
    assert "have an uncertain status" in notice and "status=uncertain" in notice
    assert client.get("/lists").status_code == 200
    assert client.get("/lists/nope").status_code == 404


def test_review_flow_in_the_browser_forms(client: Any, api_registry: Registry) -> None:
    first = news_event(
        api_registry, "xiaomi", EventKind.SUSPENDED, "2021-03-12", "A US judge blocked the ban."
    )
    second = news_event(
        api_registry, "xiaomi", EventKind.REMOVED, "2021-02-01", "Xiaomi left the list in February."
    )
    queue = client.get("/review")
    assert "A US judge blocked the ban." in queue.text
    assert "Sign in" in queue.text and "Accept" not in queue.text
    csrf = sign_in(client, api_registry, "review")
    forged = client.post(f"/review/{first}", data={"decision": "accept"}, follow_redirects=False)
    assert forged.status_code == 403
    other_site = client.post(
        f"/review/{first}",
        data={"decision": "accept", "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    accepted = client.post(
        f"/review/{first}", data={"decision": "accept", "csrf": csrf}, follow_redirects=False
    )
    assert accepted.status_code == 303
    done = client.get(accepted.headers["location"])
    assert 'data-testid="review-done"' in done.text and "accepted" in done.text
    rejected = client.post(
        f"/review/{second}",
        data={"decision": "reject", "csrf": csrf, "reason": "official record: May"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    assert "Nothing to review" in client.get("/review").text


def test_watch_pages_need_the_scope(client: Any, api_registry: Registry) -> None:
    redirect = client.get("/watches", follow_redirects=False)
    assert redirect.status_code == 303 and "/login" in redirect.headers["location"]
    csrf = sign_in(client, api_registry, "watch")
    created = client.post(
        "/watches",
        data={
            "csrf": csrf,
            "target_kind": "list",
            "target": "us-dod-cmc",
            "webhook_url": "http://127.0.0.1:9/h",
        },
    )
    assert created.status_code == 201
    assert 'data-testid="watch-created"' in created.text and "whsec_" in created.text
    bad = client.post("/watches", data={"csrf": csrf, "target_kind": "entity", "target": "Nobody"})
    assert bad.status_code == 400 and "no entity" in bad.text


def test_error_pages_and_login(client: Any) -> None:
    missing = client.get("/entities/no-such-entity")
    assert missing.status_code == 404 and "<html" in missing.text
    assert client.get("/no/such/page").status_code == 404
    wrong = client.post("/login", data={"token": "lw_wrong", "next": "/"})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    escape = client.get("/login", params={"next": "//evil.example/x"})
    assert 'value="/"' in escape.text, "a sign-in never redirects off the site"
    api = client.get("/api")
    assert "/api/v1/entities/{entity_id}/status" in api.text


@pytest.mark.slow
def test_article_submission_form(client: Any, api_registry: Registry) -> None:
    redirect = client.get("/documents/new", follow_redirects=False)
    assert redirect.status_code == 303
    text = token(api_registry, "news", name="Desk")
    client.post("/login", data={"token": text, "next": "/documents/new"})
    form = client.get("/documents/new")
    csrf = csrf_of(form.text)
    article = (
        "Shenzhen, 27 April 2022. The drone maker DJI said on Tuesday that it will temporarily "
        "suspend all business activities in Russia and Ukraine."
    )
    empty = client.post("/documents/new", data={"csrf": csrf, "text": "  "})
    assert empty.status_code == 422 and "paste the article" in empty.text
    no_csrf = client.post("/documents/new", data={"text": article})
    assert no_csrf.status_code == 403
    done = client.post(
        "/documents/new",
        data={"csrf": csrf, "text": article, "published": "2022-04-27", "title": "DJI pauses"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?submitted=new")
    page = client.get(done.headers["location"])
    assert 'data-testid="submitted"' in page.text and "Business suspended" in page.text
    again = client.post(
        "/documents/new",
        data={"csrf": csrf, "text": article, "published": "2022-04-27", "title": "DJI pauses"},
        follow_redirects=False,
    )
    assert again.headers["location"].endswith("?submitted=known")
    uploaded = client.post(
        "/documents/new",
        data={"csrf": csrf},
        files={"file": ("bad.txt", b"\xff\xfe\x00\x00" * 100, "text/plain")},
    )
    assert uploaded.status_code == 422 and "bad.txt" in uploaded.text


def test_an_entry_first_seen_in_a_snapshot_is_dated_as_a_bound(
    client: Any, api_registry: Registry
) -> None:
    from listwatch.registry.domain import DateQualifier
    from tests.registry.helpers import event, make_entity

    with api_registry.transaction() as session:
        make_entity(session, "acme", "Acme Trading")
        first_seen = DateQualifier.NOT_AFTER
        event(
            session,
            "acme",
            EventKind.LISTED,
            "2024-05-01",
            list_id="us-ofac-sdn",
            qualifier=first_seen,
        )
    before = client.get("/entities/acme", params={"as_of": "2024-01-01", "role": "us-person"}).text
    assert "Not recorded as listed" in before and "may already have been listed" in before
    assert "duty-state-uncertain" in before
    after = client.get("/entities/acme", params={"as_of": "2024-06-01", "role": "us-person"}).text
    assert "Listed since" in after and "not later than 1 May 2024" in after
