"""Event extraction on single sentences: negation, hedging, temporary removals, countries,
exchanges, overlapping triggers, coreference, lists named by the article's own statements."""

from __future__ import annotations

from typing import Any

import pytest

from listwatch.news.documents import NewsDocument
from listwatch.registry.domain import PartialDate


def _events(pipeline: Any, text: str, published: str | None = "2023-06-15") -> set[tuple[Any, ...]]:
    document = NewsDocument(
        name="t.txt",
        text=text,
        sha256="x",
        published=PartialDate.parse(published) if published else None,
    )
    return {
        (
            e.mention,
            e.kind.value,
            e.list_id,
            tuple(e.countries),
            str(e.date.date) if e.date and e.date.date else None,
        )
        for e in pipeline.process(document).events
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xiaomi was not added to the Entity List by the Commerce Department.", set()),
        ("Sberbank could be added to the SDN list next week, officials said.", set()),
        ("DJI denied reports that it had suspended sales in Ukraine and Russia.", set()),
        (
            "The Commerce Department added Megvii to the Entity List on Tuesday.",
            {("Megvii", "designated", "us-bis-entity-list", (), "2023-06-13")},
        ),
        (
            "A federal judge temporarily blocked the Pentagon's designation of Luokung in March.",
            {("Luokung", "suspended", "us-dod-cmc", (), "2023-03")},
        ),
        (
            "In maart besliste een rechtbank dat Xiaomi voorlopig van de zwarte lijst van het "
            "Pentagon gehaald moet worden.",
            {("Xiaomi", "suspended", "us-dod-cmc", (), "2023-03")},
        ),
        (
            "DJI stopt tijdelijk met zijn activiteiten in Rusland en Oekraïne.",
            {("DJI", "business_suspended", None, ("RU", "UA"), None)},
        ),
        (
            "Nasdaq may delist Megvii next month, and the NYSE delisted China Unicom on Monday.",
            {("China Unicom", "exchange_delisted", None, ("US",), "2023-06-12")},
        ),
        (
            "美國法院暫時阻止將小米列入國防部黑名單。",
            {("小米", "suspended", "us-dod-cmc", (), None)},
        ),
    ],
)
def test_sentences(pipeline: Any, text: str, expected: set[tuple[Any, ...]]) -> None:
    assert _events(pipeline, text) == expected


def test_the_company_refers_to_the_entity_named_before(pipeline: Any) -> None:
    text = (
        "Sovcomflot is Russia's largest shipping group. The company has been on the UK "
        "sanctions list since 2022."
    )
    assert _events(pipeline, text) == {("The company", "listed", "uk-sanctions", (), None)}


def test_a_list_named_only_in_a_denial_does_not_become_the_articles_list(pipeline: Any) -> None:
    text = (
        "USA fjerner Kaspersky fra svartelisten\n\n"
        "Det amerikanske finansdepartementet har fjernet Kaspersky fra sanksjonslisten.\n\n"
        "Kaspersky står fortsatt ikke på EUs sanksjonsliste.\n"
    )
    assert {e[2] for e in _events(pipeline, text)} == {"us-ofac-sdn"}


def test_no_publication_date_leaves_relative_dates_unresolved(pipeline: Any) -> None:
    text = "Xiaomi valgte sidste år at sagsøge den amerikanske regering om sortlisten."
    assert _events(pipeline, text, published=None) == {("Xiaomi", "lawsuit_filed", None, (), None)}
