"""End to end in Chromium against a real server process: the Xiaomi story and the review.

Screenshots of every page go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from listwatch.registry.db import Registry
from tests.api.helpers import token
from tests.api.live import LiveServer
from tests.web.browser import launch, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("browser") / "registry.db"
    shutil.copy(sqlite_template, db)
    live = LiveServer(str(db), {"LISTWATCH_ALERT_INTERVAL": "0.5"}).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not errors, f"the page logged errors: {errors}"


def test_xiaomi_story(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/")
    screenshot(page, "01-home")
    page.fill("input[name=q]", "Xiaomi")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=hit]")
    screenshot(page, "02-search-xiaomi")
    hit = page.locator("[data-testid=hit]").first
    assert "Xiaomi Corporation" in hit.inner_text()
    hit.locator("h2 a").click()
    page.wait_for_selector("[data-testid=timeline] svg")
    assert page.locator("[data-testid=entity-name]").inner_text() == "Xiaomi Corporation"

    band = page.locator('svg.timeline g.band[data-list="us-dod-cmc"]')
    phases = band.locator("rect.segment").evaluate_all(
        "els => els.map(e => [e.dataset.status, e.dataset.from, e.dataset.to])"
    )
    assert phases == [
        ["listed", "2021-01-14", "2021-03-12"],
        ["listed_suspended", "2021-03-12", "2021-05-25"],
        ["removed", "2021-05-25", ""],
    ]
    for label in ("Listed", "Suspended by court", "Removed"):
        assert band.locator("text.segment-label", has_text=label).count() == 1
    widths = band.locator("rect.segment").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert all(w > 20 for w in widths), "each phase is visible on screen"
    screenshot(page, "03-entity-xiaomi")

    court = band.locator('a.mark[data-kind="suspended"]')
    assert court.get_attribute("data-date") == "2021-03-12"
    court.click()
    evidence = page.locator("[data-testid=evidence]")
    evidence.wait_for()
    assert evidence.get_attribute("data-event") == court.get_attribute("data-event")
    text = evidence.inner_text()
    assert "Suspended by court" in text and "12 Mar 2021" in text
    assert "Preliminary injunction" in text
    assert (
        "Xiaomi Corp. v. Dep't of Def."
        in page.locator("[data-testid=evidence-source]").first.inner_text()
    )
    assert re.search(r"event=\d+", page.url), "the selected event is in the address"
    assert "selected" in (court.get_attribute("class") or "")
    screenshot(page, "04-entity-xiaomi-court-evidence")

    # Without the script, the same mark is a link to the page with the evidence open.
    page.goto(server.url + court.get_attribute("href").replace("?", "/entities/xiaomi?", 1))
    assert "Preliminary injunction" in page.locator("[data-testid=evidence]").inner_text()


def test_list_and_reference_pages(server: LiveServer, page: Any) -> None:
    page.goto(server.url + "/lists")
    screenshot(page, "05-lists")
    page.goto(server.url + "/lists/us-dod-cmc?as_of=2021-04-01&from=2021-01-01&to=2021-06-30")
    members = page.locator("[data-testid=members]").inner_text()
    assert "Xiaomi Corporation" in members
    assert page.locator("[data-testid=diff] tr", has_text="Xiaomi").count() == 3
    screenshot(page, "06-list-dod")
    page.goto(server.url + "/documents")
    screenshot(page, "07-documents")
    page.goto(server.url + "/api")
    screenshot(page, "08-api-reference")


ARTICLE = """Drone maker halts sales in two countries

Shenzhen, 27 April 2022. The Chinese drone maker DJI said on Tuesday that it will temporarily \
suspend all business activities in Russia and Ukraine while it reassesses compliance \
requirements. The company said it did not want its products to be used in combat.

Separately, a court in Washington last year suspended the Pentagon listing of Xiaomi."""


def sign_in(page: Any, server: LiveServer, text: str, start: str) -> None:
    page.goto(server.url + start)
    page.wait_for_url("**/login**")
    page.fill("input[name=token]", text)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**" + start)


def test_submit_article_review_and_watch(server: LiveServer, page: Any) -> None:
    registry = Registry(server.db)
    try:
        text = token(registry, "news", "review", "watch", name="Ana Analyst")
    finally:
        registry.dispose()
    sign_in(page, server, text, "/documents/new")
    page.fill("input[name=title]", "Drone maker halts sales")
    page.fill("input[name=published]", "2022-04-27")
    page.fill("textarea[name=text]", ARTICLE)
    screenshot(page, "09-submit-article")
    page.click("button:has-text('Extract events')")
    page.wait_for_selector("[data-testid=submitted]")
    rows = page.locator("[data-testid=document-events] tbody tr")
    extracted = rows.all_inner_texts()
    assert any("Business suspended" in r and "DJI" in r for r in extracted), extracted
    assert any("Suspended by court" in r and "Xiaomi" in r for r in extracted), extracted
    screenshot(page, "10-document-events")

    court = next(r for r in extracted if "Xiaomi" in r)
    assert "accepted" in court, "the official court record confirms the news event"

    page.click("text=Review the proposed events")
    page.wait_for_url("**/review")
    dji = page.locator("[data-testid=review-item]", has_text="DJI")
    assert "temporarily suspend all business" in dji.inner_text()
    screenshot(page, "11-review-queue")
    dji.locator("input[name=reason]:not([required])").fill("company statement, widely reported")
    dji.locator("button:has-text('Accept')").click()
    page.wait_for_selector("[data-testid=review-done]")
    assert "accepted" in page.locator("[data-testid=review-done]").inner_text()
    page.click("[data-testid=review-done] a")
    page.wait_for_selector("[data-testid=evidence]")
    evidence = page.locator("[data-testid=evidence]").inner_text()
    assert "Business suspended" in evidence and "Russia and Ukraine" in evidence
    other = page.locator(
        'svg.timeline g.band[data-list="other"] a.mark[data-kind="business_suspended"]'
    )
    assert other.count() == 1, "the accepted event is on the timeline"
    screenshot(page, "12-entity-dji-accepted")

    page.goto(server.url + "/watches")
    page.select_option("select[name=target_kind]", "entity")
    page.fill("input[name=target]", "DJI")
    page.click("button:has-text('Watch')")
    page.wait_for_selector("[data-testid=watch-created]")
    assert page.locator("[data-testid=watch]").count() == 1
    screenshot(page, "13-watches")
