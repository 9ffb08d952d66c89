"""Normalisation across scripts, legal forms and the gazetteer keys used by news."""

from __future__ import annotations

import pytest

from listwatch.screening.normalize import (
    analyze_name,
    fold_text,
    name_keys,
    name_tokens,
    normalize_name,
    schema_group,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Xiaomi Corporation", "xiaomi corp"),
        ("XIAOMI CORP.", "xiaomi corp"),
        ("SZ DJI Technology Co., Ltd.", "sz dji technology llc"),
        ("Intervesp-M Limited Liability Company", "intervesp m llc"),
        ("ООО Газпром", "llc gazprom"),
        ("Хуавей", "huavei"),
        ("Novo Nordisk A/S", "novo nordisk jsc"),
        ("Siemens Aktiengesellschaft", "siemens jsc"),
        ("ｘｉａｏｍｉ", "xiaomi"),
        ("Société Générale S.A.", "societe generale jsc"),
        ("Xiaomi's", "xiaomi"),
    ],
)
def test_normalize_name_latin_cyrillic_width(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


def test_han_names_lose_their_legal_suffix_and_become_pinyin() -> None:
    analyzed = analyze_name("深圳市大疆创新科技有限公司")
    assert analyzed.tokens[-1] == "llc"
    assert analyzed.core[:3] == ("shen", "zhen", "shi")
    assert ("有限公司", "llc") in analyzed.legal_forms
    assert any("legal form '有限公司'" in step for step in analyzed.steps)
    assert analyze_name("小米集團").normalized == analyze_name("小米集团").normalized
    assert analyze_name("小米集团").compact == "xiaomi"


def test_legal_forms_are_kept_and_weighed_down_not_deleted() -> None:
    analyzed = analyze_name("China Mobile Communications Group Co., Ltd.")
    assert "group" in analyzed.tokens and "llc" in analyzed.tokens
    weights = dict(zip(analyzed.tokens, analyzed.weights, strict=True))
    assert weights["mobile"] == 1.0
    assert weights["llc"] < 0.2
    assert 0 < weights["group"] < 1


def test_short_forms_of_organisation_words_are_written_out_as_a_step() -> None:
    analyzed = analyze_name("Huawei Tech Int'l Co.")
    assert analyzed.tokens == ("huawei", "technology", "international", "co")
    assert "abbreviation 'tech' → technology" in analyzed.steps
    assert "abbreviation 'intl' → international" in analyzed.steps
    # in a person's name a short word is a name, not an abbreviation
    assert analyze_name("Tech Dev", "Person").tokens == ("tech", "dev")


def test_a_name_made_only_of_a_legal_form_keeps_its_weight() -> None:
    analyzed = analyze_name("Joint Stock Company")
    assert analyzed.tokens == ("jsc",)
    assert analyzed.weights == (1.0,)


def test_person_particles_and_arabic_script() -> None:
    person = analyze_name("Abu Muhammad AL-JAWLANI", "Person")
    assert dict(zip(person.tokens, person.kinds, strict=True))["al"] == "particle"
    assert name_tokens("Abu Muhammad AL-JAWLANI", "Person") == ("muhammad", "jawlani")
    arabic = analyze_name("عبد الصمد اچکزی", "Person")
    assert arabic.script == "Arab"
    assert "al" in arabic.tokens  # the article is set apart from the name
    assert all(t.isascii() for t in arabic.tokens)
    # Persons get no legal forms: "Co" is a name there.
    assert analyze_name("Co Ltd", "Person").legal_forms == ()


def test_greek_and_cyrillic_transliteration() -> None:
    assert normalize_name("Газпром") == "gazprom"
    assert analyze_name("ΑΘΗΝΑ Α.Ε.").core == ("athina",)
    assert analyze_name("Даниил Вячеславович ЕГОРОВ", "Person").tokens == (
        "daniil",
        "vyacheslavovich",
        "egorov",
    )


def test_name_keys_for_gazetteers() -> None:
    assert name_keys("Xiaomi Corporation") == {"xiaomi corporation", "xiaomi"}
    assert {"小米集团", "小米"} <= name_keys("小米集团")
    assert "sz dji technology" in name_keys("SZ DJI Technology Co., Ltd.")
    assert "gazprom" in name_keys("ООО Газпром")
    assert name_keys("小米集團") == name_keys("小米集团")
    # A name that is nothing but a function word gives no key.
    assert name_keys("The") == frozenset()


def test_fold_text_finds_mentions_with_possessives_and_compounds() -> None:
    text = "Xiaomi's aktie steg; Xiaomi-aktien faldt. 小米集團发布 ХУАВЕЙ"
    folded = fold_text(text)
    words = folded.folded.split(" ")
    assert words.count("xiaomi") == 2
    assert "小米集团发布" in folded.folded
    start = folded.folded.index("huavei")
    begin, end = folded.span(start, start + len("huavei"))
    assert text[begin:end] == "ХУАВЕЙ"
    start = folded.folded.index("xiaomi")
    assert text[slice(*folded.span(start, start + 6))] == "Xiaomi"
    assert fold_text("Ångström").folded == "angstrom"


def test_schema_groups() -> None:
    assert schema_group("Person") == "person"
    assert schema_group("Vessel") == "object"
    assert schema_group("LegalEntity") == "org"
    assert schema_group("any") == "any"


@pytest.mark.parametrize(
    "word",
    ["дмитрий", "зхолый", "яегцхриий", "евгеньевич", "щукин", "小米集团", "华为技术", "объём"],
)
def test_transliteration_from_cached_pieces_equals_the_whole_word(word: str) -> None:
    from rigour.text import ascii_text

    from listwatch.screening.normalize import transliterate

    assert transliterate(word) == ascii_text(word).replace("?", "")
