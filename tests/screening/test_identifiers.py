"""Identifiers: ISIN and LEI check digits, tickers in every spelling, registration numbers."""

from __future__ import annotations

import pytest

from listwatch.screening.identifiers import (
    IdentifierError,
    is_valid_isin,
    is_valid_lei,
    isin_check_digit,
    looks_like_identifier,
    parse_identifier,
    stored_identifier_keys,
)


@pytest.mark.parametrize("isin", ["US0378331005", "KYG9830T1067", "DE0007164600", "GB0002634946"])
def test_valid_isins(isin: str) -> None:
    assert is_valid_isin(isin)
    assert parse_identifier(isin).key == f"isin:{isin}"


def test_bad_isin_check_digit_is_a_clear_error() -> None:
    assert isin_check_digit("US037833100") == 5
    with pytest.raises(IdentifierError, match="check digit is 6, it should be 5"):
        parse_identifier("US0378331006")
    with pytest.raises(IdentifierError, match="not an ISIN"):
        parse_identifier("US03783", scheme="isin")


def test_lei_iso_17442() -> None:
    assert is_valid_lei("529900T8BM49AURSDO55")
    assert not is_valid_lei("529900T8BM49AURSDO56")
    with pytest.raises(IdentifierError, match="ISO 17442"):
        parse_identifier("529900T8BM49AURSDO56")


def test_tickers_in_every_spelling_share_one_key() -> None:
    keys = {parse_identifier(v).key for v in ("1810.HK", "HKG:1810", "01810.HK", "1810:HKEX")}
    assert keys == {"ticker:1810@XHKG"}
    assert parse_identifier("XIAOMI:HKEX").key == "ticker:XIAOMI@XHKG"
    assert "ticker:XIAOMI@XHKG" in stored_identifier_keys("ticker", "XIAOMI:HKEX")
    assert parse_identifier("688981.SS").key == parse_identifier("688981:SSE").key
    with pytest.raises(IdentifierError, match="known exchange"):
        parse_identifier("ABC.ZZZZ", scheme="ticker")


def test_registration_numbers_ignore_separators() -> None:
    a = parse_identifier("91440300 279 266 110Q", scheme="registration")
    b = parse_identifier("91440300279266110Q")
    assert a.key == b.key


def test_what_looks_like_an_identifier() -> None:
    assert looks_like_identifier("US0378331005")
    assert looks_like_identifier("1810.HK")
    assert not looks_like_identifier("Xiaomi Corporation")
    assert not looks_like_identifier("Xiaomi")
