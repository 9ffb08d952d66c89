"""Identifiers in screening queries: ISIN, LEI, exchange tickers and registration numbers.

Each identifier is validated (check digits for ISIN and LEI) and reduced to a lookup key,
so "1810.HK", "XIAOMI:HKEX" and "HKG:1810" find the entity the registry lists under any
of them. An identifier that has the shape of an ISIN or LEI but a wrong check digit is an
error, never a silent non-match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from listwatch.registry.db import RegistryError

EXCHANGES_FILE = Path(__file__).with_name("data") / "exchanges.yaml"

_ISIN_SHAPE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_LEI_SHAPE = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_TICKER_SUFFIX = re.compile(r"^([A-Z0-9][A-Z0-9\-]{0,11})\.([A-Z]{1,4})$")
_TICKER_COLON = re.compile(r"^([A-Z0-9][A-Z0-9_]{0,12}):([A-Z0-9][A-Z0-9\-.]{0,14})$")
_REGISTRATION = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9\-./ ]{4,38}[A-Z0-9]$")
_SEPARATORS = re.compile(r"[\s\-./]")

ISIN = "isin"
LEI = "lei"
TICKER = "ticker"
REGISTRATION = "registration"


class IdentifierError(RegistryError):
    """An identifier that cannot be right (wrong check digit, unknown scheme ...)."""


@dataclass(frozen=True)
class ParsedIdentifier:
    """A validated identifier and the key under which the index finds it."""

    scheme: str
    value: str
    key: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"scheme": self.scheme, "value": self.value}


def _letters_to_digits(text: str) -> str:
    return "".join(str(int(c, 36)) for c in text)


def isin_check_digit(body: str) -> int:
    """The check digit of the first 11 characters of an ISIN (Luhn over expanded letters)."""
    digits = _letters_to_digits(body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def is_valid_isin(value: str) -> bool:
    """Whether ``value`` is a well-formed ISIN with a correct check digit."""
    value = value.strip().upper()
    return bool(_ISIN_SHAPE.match(value)) and isin_check_digit(value[:11]) == int(value[11])


def is_valid_lei(value: str) -> bool:
    """Whether ``value`` is a well-formed LEI whose ISO 17442 (ISO 7064 mod 97-10) check holds."""
    value = value.strip().upper()
    return bool(_LEI_SHAPE.match(value)) and int(_letters_to_digits(value)) % 97 == 1


@cache
def _exchange_codes() -> dict[str, str]:
    raw = yaml.safe_load(EXCHANGES_FILE.read_text(encoding="utf-8"))
    codes: dict[str, str] = {}
    for mic, aliases in raw["exchanges"].items():
        codes[mic] = mic
        for alias in aliases:
            codes.setdefault(str(alias).upper(), mic)
    return codes


def _ticker_key(symbol: str, exchange: str) -> str | None:
    mic = _exchange_codes().get(exchange.upper())
    if mic is None:
        return None
    symbol = symbol.upper()
    if symbol.isdigit():
        symbol = symbol.lstrip("0") or "0"  # "0981.HK" and "981.HK" are one listing
    return f"ticker:{symbol}@{mic}"


def parse_ticker(value: str) -> ParsedIdentifier | None:
    """``1810.HK``, ``XIAOMI:HKEX`` or ``HKG:1810``; None when it is not a known exchange."""
    text = value.strip().upper()
    match = _TICKER_SUFFIX.match(text)
    if match:
        key = _ticker_key(match.group(1), match.group(2))
        if key:
            return ParsedIdentifier(TICKER, text, key)
    match = _TICKER_COLON.match(text)
    if match:
        first, second = match.group(1), match.group(2)
        # Both orders are in use: SYMBOL:EXCHANGE and EXCHANGE:SYMBOL.
        key = _ticker_key(first, second) if second in _exchange_codes() else None
        if key is None and first in _exchange_codes():
            key = _ticker_key(second, first)
        if key:
            return ParsedIdentifier(TICKER, text, key)
    return None


def registration_key(value: str) -> str:
    """The lookup key of a registration number: upper case, no spaces, dashes, dots, slashes."""
    return "reg:" + _SEPARATORS.sub("", value.strip().upper())


def parse_identifier(value: str, scheme: str | None = None) -> ParsedIdentifier:
    """Validate one identifier of a known or guessed scheme; a clear error when it is wrong.

    Without ``scheme`` the shape decides: 12 characters starting with a country code are an
    ISIN, 20 characters ending in two digits an LEI, ``SYMBOL.EX`` / ``SYMBOL:EXCHANGE`` a
    ticker, and anything else with digits a registration number.
    """
    text = value.strip()
    if not text:
        raise IdentifierError("empty identifier")
    upper = _SEPARATORS.sub("", text.upper()) if scheme in (ISIN, LEI) else text.upper()
    scheme = scheme.lower() if scheme else None
    if scheme == ISIN or (scheme is None and _ISIN_SHAPE.match(upper)):
        if not _ISIN_SHAPE.match(upper):
            raise IdentifierError(
                f"{text!r} is not an ISIN: 2 letters, 9 letters or digits, 1 digit"
            )
        expected = isin_check_digit(upper[:11])
        if expected != int(upper[11]):
            raise IdentifierError(
                f"invalid ISIN {text!r}: the check digit is {upper[11]}, it should be {expected}"
            )
        return ParsedIdentifier(ISIN, upper, f"isin:{upper}")
    if scheme == LEI or (scheme is None and _LEI_SHAPE.match(upper)):
        if not _LEI_SHAPE.match(upper):
            raise IdentifierError(f"{text!r} is not an LEI: 18 letters or digits and 2 digits")
        if not is_valid_lei(upper):
            raise IdentifierError(f"invalid LEI {text!r}: the ISO 17442 check digits do not match")
        return ParsedIdentifier(LEI, upper, f"lei:{upper}")
    if scheme in (TICKER, None):
        ticker = parse_ticker(text)
        if ticker is not None:
            return ticker
        if scheme == TICKER:
            raise IdentifierError(
                f"{text!r} is not a ticker of a known exchange (use SYMBOL.HK or SYMBOL:HKEX)"
            )
    if scheme is None and not _REGISTRATION.match(upper):
        raise IdentifierError(f"{text!r} does not look like an identifier")
    return ParsedIdentifier(scheme or REGISTRATION, text, registration_key(text))


def looks_like_identifier(text: str) -> bool:
    """Whether a screening query is an identifier rather than a name (no spaces, digits in it,
    or the shape of an ISIN, LEI or ticker)."""
    stripped = text.strip().upper()
    if not stripped or " " in stripped:
        return False
    if _ISIN_SHAPE.match(stripped) or _LEI_SHAPE.match(stripped):
        return True
    if parse_ticker(stripped) is not None:
        return True
    return bool(_REGISTRATION.match(stripped)) and sum(c.isdigit() for c in stripped) >= 4


def stored_identifier_keys(scheme: str, value: str) -> list[str]:
    """Lookup keys of an identifier stored in the registry (its scheme as recorded there)."""
    scheme = scheme.strip().lower()
    keys = [registration_key(value)]
    upper = value.strip().upper()
    if scheme == ISIN or _ISIN_SHAPE.match(upper):
        keys.append(f"isin:{upper}")
    if scheme == LEI or (_LEI_SHAPE.match(upper) and scheme != ISIN):
        keys.append(f"lei:{upper}")
    if scheme == TICKER or scheme.endswith("ticker"):
        ticker = parse_ticker(value)
        if ticker is not None:
            keys.append(ticker.key)
        else:
            keys.append(f"ticker:{upper}")
    return keys


def query_identifier_keys(parsed: ParsedIdentifier) -> list[str]:
    """Keys to look up for a parsed query identifier (a bare ticker symbol included)."""
    keys = [parsed.key]
    if parsed.scheme != REGISTRATION:
        keys.append(registration_key(parsed.value))
    return keys
