"""The pair scorer: legal forms, scripts, word order, persons, and its explanations."""

from __future__ import annotations

import pytest

from listwatch.screening.compare import compare_names, default_threshold


@pytest.mark.parametrize(
    ("name1", "name2", "schema"),
    [
        ("XIAOMI CORP.", "Xiaomi Corporation", "Company"),
        ("SZ DJI Technology Co., Ltd.", "Technology DJI SZ Co Ltd", "Company"),
        ("Intervesp-M Limited Liability Company", "Intervesp-M LLC", "Company"),
        ("Хуавей", "Huawei", "Company"),
        ("Газпром", "Gazprom", "Company"),
        ("SMIC", "Semiconductor Manufacturing International Corporation", "Company"),
        ("Daniil Vyacheslavovich EGOROV", "Даниил Вячеславович ЕГОРОВ", "Person"),
        ("Dmitry Evgenievich SHEVCHENKO", "Dmitriy Evgenievich SHEVCHENKO", "Person"),
        ("ADANOV, Munir", "Munir ADANOV", "Person"),
        ("Huawei Tech Co", "Huawei Technologies Co., Ltd.", "Company"),  # tech, written out
        ("Semiconductor Manufacturing Intl Corp", "SMIC", "Company"),
    ],
)
def test_variants_match(name1: str, name2: str, schema: str) -> None:
    assert compare_names(name1, name2, schema).score >= default_threshold()


@pytest.mark.parametrize(
    ("name1", "name2", "schema"),
    [
        ("Xiaomi Corporation", "Huawei Technologies Co., Ltd.", "Company"),
        ("SHAHID SHUSTARI INDUSTRIES", "SHAHID KHARRAZI INDUSTRIES", "Company"),
        (
            "China Shipbuilding Industry Group Co., Ltd. (CSIC) 712th Research Institute",
            "China Shipbuilding Industry Group Co., Ltd. (CSIC) 710th Research Institute",
            "Company",
        ),
        ("Stanislav Aleksandrovich MINKOV", "Salah MASHKAUTSAN", "Person"),
        ("BARNAWI, Khalid", "NAIK, Khalid", "Person"),
        # alike only at their start, by the initials of a word and its legal form, or run
        # together when spelt otherwise
        ("Dorzhikasa ApS", "DISDROGAS LTDA.", "Company"),
        ("Triyunmarsasazen ApS", "TRANSMIKE LTDA.", "Company"),
        ("Pradorkorroultekbel AG", "Prador K.K.", "Company"),
        ("Huaqiqiberber AB", "ООО Хуаки", "Company"),
        ("Lolongfengrahua AS", "LJ", "Company"),  # l + the legal form's code (jsc)
        ("Dorrasaan", "DORIS ADRIANA", "Person"),  # not "dorisadriana" run together
    ],
)
def test_different_names_do_not_match(name1: str, name2: str, schema: str) -> None:
    assert compare_names(name1, name2, schema).score < default_threshold()


def test_explanation_names_tokens_steps_and_parts() -> None:
    comparison = compare_names("Хуавей Технолоджис", "Huawei Technologies Co., Ltd.")
    text = comparison.explanation()
    assert "huavei~huawei" in text
    assert "transliterated Cyrl" in text
    assert "legal form 'co ltd' → llc" in text
    payload = comparison.to_dict()
    assert payload["parts"] and 0 <= payload["score"] <= 1
    assert sum(payload["parts"].values()) != 0


def test_number_conflict_and_unmatched_words_are_reported() -> None:
    comparison = compare_names("Research Institute 712", "Research Institute 710")
    assert comparison.features["number_conflict"] == 1.0
    assert comparison.unmatched_query == ["712"]


def test_the_same_name_after_normalisation_scores_one() -> None:
    comparison = compare_names("XIAOMI CORP.", "Xiaomi Corporation")
    assert comparison.score == 1.0 and comparison.identical
    assert "identical after normalisation" in comparison.explanation()
    # Two Han names read alike in pinyin are not the same name.
    homophones = compare_names("华为", "花为")
    assert homophones.query.tokens == homophones.candidate.tokens
    assert not homophones.identical and homophones.score < 1.0


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Ali", "Mohammed Ali Hassan Abdullah Al-Rashid"),
        ("Ivan", "Ivan Sergeyevich Petrov"),
        ("Muhammad", "Muhammad Yusuf Abd al Rahman Ahmad"),
    ],
)
def test_a_lone_given_name_does_not_match_a_longer_name(short: str, long: str) -> None:
    assert compare_names(short, long, "Person").score < default_threshold()


def test_more_words_in_one_name_never_raise_a_persons_score() -> None:
    fuller = compare_names("Ivan Petrov", "Ivan Sergeyevich Petrov", "Person").score
    fullest = compare_names("Ivan Petrov", "Ivan Sergeyevich Nikolai Petrov", "Person").score
    assert fuller >= default_threshold() and fullest <= fuller


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("xiaomi", "sham"),  # XM and XM: the CJK "x" and the English "sh" sound alike
        ("fawzi", "voice"),
        ("diego", "tekh"),
        ("gaza", "kus"),
        ("design", "tsniii"),
    ],
)
def test_words_that_only_sound_alike_are_not_aligned(a: str, b: str) -> None:
    from listwatch.screening.compare import token_similarity
    from listwatch.screening.normalize import phonetic_key

    assert phonetic_key(a) == phonetic_key(b)  # the metaphone alone would call them one word
    assert token_similarity(a, b, person=False) == (0.0, "spelling")
    assert token_similarity(a, b, person=True)[0] == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("rzwqy", "razuki"),  # Arabic script without short vowels
        ("hossein", "husayn"),
        ("volodymyr", "vladimir"),
        ("tkryty", "tikriti"),
        ("aleksey", "alexei"),
    ],
)
def test_transliterations_of_one_word_still_sound_alike(a: str, b: str) -> None:
    from listwatch.screening.compare import token_similarity

    assert token_similarity(a, b, person=True) == (0.85, "phonetic")


@pytest.mark.parametrize(
    ("name1", "name2", "schema"),
    [
        ("Xiaomi Corporation", "SHAM HOLDING", "Company"),
        ("Fawzi Trading LLC", "Voice Trading LLC", "Company"),
        ("Diego Marin", "Tekh Marin", "Person"),
    ],
)
def test_a_phonetic_collision_is_no_match(name1: str, name2: str, schema: str) -> None:
    comparison = compare_names(name1, name2, schema)
    assert comparison.score < default_threshold()
    assert all(m.how != "phonetic" for m in comparison.matches)


@pytest.mark.parametrize(
    ("name1", "name2"),
    [
        ("Ivan BUGROV", "Ivan BUHROV"),
        ("Hossein SALEHI", "Husayn SALEHI"),
        ("Volodymyr KUZMENKO", "Vladimir KUZMENKO"),
        ("Abd al-Razzaq RAZUKI", "Abd al-Razzaq RZWQY"),
    ],
)
def test_transliterated_persons_still_match(name1: str, name2: str) -> None:
    assert compare_names(name1, name2, "Person").score >= default_threshold()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("pradorkorroultekbel", "prador"),  # a short word at the start of a long one
        ("huaqiqiberber", "huaqi"),
        ("dorzhikasa", "disdrogas"),  # a shared first letter and little else
        ("gorqirazendo", "gorge"),
    ],
)
def test_words_that_only_start_alike_are_not_aligned(a: str, b: str) -> None:
    from listwatch.screening.compare import _jaro_winkler, token_similarity

    assert _jaro_winkler(a, b) - 0.08 >= 0.62  # Jaro-Winkler alone would align them
    assert token_similarity(a, b, person=False)[0] == 0.0


@pytest.mark.parametrize(("a", "b"), [("xioami", "xiaomi"), ("huawei", "huawie")])
def test_transposed_letters_are_still_forgiven(a: str, b: str) -> None:
    from listwatch.screening.compare import _lev, token_similarity

    similarity, how = token_similarity(a, b, person=False)
    assert how == "spelling" and similarity > _lev(a, b) and similarity >= 0.8


@pytest.mark.parametrize(
    ("name1", "name2", "schema"),
    [
        ("Abdul Rahman Khalil", "Abdulrahman Khalil", "Person"),
        ("Hua Wei Technologies", "Huawei Technologies", "Company"),
        # "xiao" is near "xiaomi" by itself: the words run together still align first
        ("Xiao Mi Corp", "Xiaomi Corp", "Company"),
        ("Xiaomi Technolgy", "Xiao Mi Technology", "Company"),
    ],
)
def test_two_words_run_together_are_one(name1: str, name2: str, schema: str) -> None:
    comparison = compare_names(name1, name2, schema)
    assert any(m.how == "joined" for m in comparison.matches)
    assert comparison.score >= default_threshold()
