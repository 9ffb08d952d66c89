"""Each step of the news pipeline on its own: dates, sentences, cleaning, mentions,
language id, the phrase language."""

from __future__ import annotations

from typing import Any

import pytest

from listwatch.news.clean import classify_blocks
from listwatch.news.dates import find_temporal
from listwatch.news.langid import detect
from listwatch.news.langpack import load_pack
from listwatch.news.patterns import PatternError, phrase_regex
from listwatch.news.sentences import split_sentences
from listwatch.registry.domain import PartialDate


def _dates(lang: str, text: str, published: str | None) -> list[tuple[str, str | None]]:
    pub = PartialDate.parse(published) if published else None
    return [
        (m.text, str(m.date) if m.date else None)
        for m in find_temporal(text, load_pack(lang), pub)
        if m.marker is None
    ]


@pytest.mark.parametrize(
    ("lang", "text", "published", "expected"),
    [
        (
            "nl",
            "Xiaomi werd in januari dit jaar gezet.",
            "2022-06",
            ("in januari dit jaar", "2022-01"),
        ),
        (
            "en",
            "It was listed in January this year.",
            "2022-06-10",
            ("in January this year", "2022-01"),
        ),
        (
            "de",
            "Das geschah im Januar dieses Jahres.",
            "2022-06-10",
            ("im Januar dieses Jahres", "2022-01"),
        ),
        ("zh", "今年1月被列入清单。", "2022-06-10", ("今年1月", "2022-01")),
        ("da", "Det skete i torsdags.", "2022-06-10", ("i torsdags", "2022-06-09")),
        ("da", "Tilbage i november underskrev han.", "2022-06", ("Tilbage i november", "2021-11")),
        (
            "de",
            "Das Gericht entschied am Donnerstag.",
            "2022-06-10",
            ("am Donnerstag", "2022-06-09"),
        ),
        (
            "nl",
            "Afgelopen donderdag besloot de rechter.",
            "2022-06-10",
            ("Afgelopen donderdag", "2022-06-09"),
        ),
        ("nl", "Op 20 mei kwam het voorstel.", "2022-06", ("20 mei", "2022-05-20")),
        ("da", "Selskabet valgte sidste år at sagsøge.", "2022-06", ("sidste år", "2021")),
        ("nl", "Een dinsdag in de maand.", "2022-04", ("dinsdag", "2022-04")),
        ("fr", "Il a été ajouté le 14 janvier 2021.", None, ("le 14 janvier 2021", "2021-01-14")),
        ("en", "It was added three weeks ago.", "2022-06-10", ("three weeks ago", "2022-05-20")),
    ],
)
def test_temporal_expressions_resolve(
    lang: str, text: str, published: str | None, expected: tuple[str, str]
) -> None:
    assert expected in _dates(lang, text, published)


def test_relative_dates_stay_unresolved_without_a_publication_date() -> None:
    assert _dates("da", "Her fik Xiaomi i marts medhold, sidste år.", None) == [
        ("i marts", None),
        ("sidste år", None),
    ]


def test_bare_month_is_past_unless_the_sentence_looks_ahead() -> None:
    assert ("in maart", "2022-03") in _dates("nl", "Het gebeurde in maart.", "2022-06")
    assert ("in maart", "2023-03") in _dates("nl", "De rechter zal in maart beslissen.", "2022-06")


def test_numbers_and_words_are_not_dates() -> None:
    assert _dates("da", "Aktierne steg med 6,7 procent nu.", "2022-06") == []


def test_since_and_deadline_dates_are_marked() -> None:
    found = find_temporal(
        "komen voor 20 mei met een voorstel sinds februari", load_pack("nl"), PartialDate(2022, 6)
    )
    assert [(m.text, m.marker) for m in found] == [("20 mei", "deadline"), ("februari", "since")]


@pytest.mark.parametrize(
    ("lang", "text", "count"),
    [
        ("nl", "Het gaat o.a. om Xiaomi. Daarna volgt DJI.", 2),
        ("da", "Han er pr. 1. september 2025 forfremmet. Ny sætning.", 2),
        ("en", "Mr. Smith went to Washington. He said so.", 2),
        ("de", "Das geschah am 14. Januar 2021 in Washington. Dann kam die Klage.", 2),
        ("zh", "美国商务部将华为列入实体清单。小米否认！真的吗？", 3),
        ("zh", "美國商務部將華為列入實體清單。小米否認。", 2),
        ("sv", "Bolaget, bl.a. känt för mobiler, stämde. Domen kom.", 2),
    ],
)
def test_sentence_splitting_keeps_abbreviations(lang: str, text: str, count: int) -> None:
    assert len(split_sentences(text, load_pack(lang))) == count


def test_block_classifier_drops_noise_and_keeps_the_article() -> None:
    text = (
        "Xiaomi fjernes fra sortlisten\n\n"
        "Xiaomi bliver nu fjernet fra USA's sortliste.\n\n"
        "Læs også: Huawei taber markedsandele\n\n"
        "Annonceindlæg fra Jyske Bank\n\n"
        "Alcadon ApS har pr. 1. januar 2026 ansat Thomas som Key Account Manager. Nyt job\n\n"
        "Navnenyt fra it-Danmark\n\n"
        "Sebastian er forfremmet til konsulent.\n"
    )
    blocks = classify_blocks(text, [load_pack("da"), load_pack("en")])
    labels = [b.label for b in blocks]
    assert labels == [
        "title",
        "text",
        "noise:read_also",
        "noise:advert",
        "noise:job",
        "noise:tail",
        "noise:tail",
    ]
    assert text[blocks[1].start : blocks[1].end] == "Xiaomi bliver nu fjernet fra USA's sortliste."


def test_language_identification() -> None:
    assert (
        detect("De Amerikaanse overheid haalt Xiaomi definitief van de zwarte lijst.").code == "nl"
    )  # type: ignore[union-attr]
    assert detect("美国商务部将华为列入实体清单。").code == "zh"  # type: ignore[union-attr]
    polish = detect(
        "Amerykański rząd usunął firmę Xiaomi z czarnej listy przedsiębiorstw wojskowych."
    )
    assert polish is not None and polish.code is None and polish.name == "Polish"


def test_gazetteer_finds_names_after_normalisation(pipeline: Any) -> None:
    text = "Xiaomi's aktier, Xiaomi-aktien og Xiaomis salg; 小米 og 華為; DJI-woordvoerder."
    found = [(m.text, m.entity_ids) for m in pipeline.gazetteer.find(text)]
    assert ("Xiaomi", ("xiaomi",)) in found
    assert any(m.start == text.index("Xiaomis") for m in pipeline.gazetteer.find(text))
    assert ("小米", ("xiaomi",)) in found
    assert ("華為", ("huawei",)) in found
    assert ("DJI", ("dji",)) in found
    assert sum(1 for t, _ in found if t.startswith("Xiaomi")) == 3


def test_gazetteer_respects_case_of_acronyms(pipeline: Any) -> None:
    assert pipeline.gazetteer.find("the smic and dji of it") == []


def test_phrase_language() -> None:
    import re

    pattern = re.compile(phrase_regex("van …4 {list} gehaald", macros={"list": "lijst"}))
    assert pattern.search("xiaomi van de zwarte lijst gehaald")
    assert not pattern.search("xiaomi van de zwarte lijst met vijf zeven acht negen tien gehaald")
    with pytest.raises(PatternError):
        phrase_regex("… gehaald")
    with pytest.raises(PatternError):
        phrase_regex("{unknown} gehaald")


def test_every_language_file_compiles() -> None:
    from listwatch.news.langpack import all_packs, supported_languages

    assert set(supported_languages()) >= {
        "en",
        "nl",
        "da",
        "de",
        "fr",
        "es",
        "it",
        "pt",
        "sv",
        "no",
        "zh",
    }
    for pack in all_packs():
        assert pack.triggers and pack.dates
        kinds = {t.kind.value for t in pack.triggers}
        assert {"designated", "removed", "listed", "lawsuit_filed"} <= kinds, pack.code
