"""What OFAC's formats share: entry types, programme tags, remarks and labelled facts."""

from __future__ import annotations

import re

from listwatch.registry.domain import PartialDate
from listwatch.sources.normalize import (
    country_code,
    data_file,
    dates_in,
    english_date,
    ofac_labels,
)
from listwatch.sources.records import RecordData, clean

SDN_LIST = "us-ofac-sdn"

_SCHEMAS = {
    "individual": "Person",
    "entity": "LegalEntity",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "": "LegalEntity",
}
#: Identifier schemes that show an entity is a company rather than any organisation.
COMPANY_SCHEMES = frozenset({"isin", "ticker", "uscc", "lei", "registration", "tax_id", "vat"})

_ALIAS = re.compile(r"^(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s*['‘’\"](.+?)['‘’\"]?$", re.I)
_ALIAS_KINDS = {"a.k.a.": "weak", "f.k.a.": "former", "n.k.a.": "new"}
_ID_TAIL = re.compile(r"\s+(?:issued|expires|Issue Date|Expire Date|Expiration Date)\b.*$", re.I)
_ID_COUNTRY = re.compile(r"^(?P<value>.*?)\s*\((?P<country>[^()]+)\)\s*$")


def ofac_id(ent_num: str) -> str:
    """The registry id of an OFAC entry: its ent_num (uid) is OFAC's id across all its files."""
    return f"ofac-{ent_num.strip()}"


def schema_for(sdn_type: str) -> str:
    """The FollowTheMoney schema of an OFAC entry type (``individual`` → ``Person``)."""
    return _SCHEMAS.get(clean(sdn_type).lower(), "LegalEntity")


def refine_schema(record: RecordData) -> None:
    """An OFAC entity with company identifiers (ISIN, USCC, LEI ...) is a company."""
    if record.schema == "LegalEntity" and any(
        i.scheme in COMPANY_SCHEMES for i in record.identifiers
    ):
        record.schema = "Company"


def split_programs(text: str) -> list[str]:
    """``SDGT] [IFSR`` (the legacy CSV packing) → ``["SDGT", "IFSR"]``."""
    return [p.strip(" []") for p in clean(text).split("] [") if p.strip(" []")]


def cons_lists(programs: list[str]) -> list[str]:
    """The non-SDN lists an entry of the consolidated files is on, from its programme tags."""
    table = data_file("ofac_programs.yaml")
    found: list[str] = []
    for program in programs:
        list_id = table["cons_programs"].get(program)
        if list_id is None:
            for prefix, prefixed in (table.get("cons_program_prefixes") or {}).items():
                if program.startswith(prefix):
                    list_id = prefixed
        if list_id and list_id not in found:
            found.append(list_id)
    if not found:
        for program in programs:
            list_id = (table.get("weak_cons_programs") or {}).get(program)
            if list_id and list_id not in found:
                found.append(list_id)
    return found


def enhanced_list(name: str) -> str | None:
    """The list id of an Enhanced XML ``<sanctionsList>`` name (None for filters)."""
    table = data_file("ofac_programs.yaml")
    if name in (table.get("enhanced_filters") or []):
        return None
    return (table.get("enhanced_lists") or {}).get(name, "")


def country_or_text(value: str) -> str:
    """A country code when the name is known, else the text as written."""
    return country_code(value) or value


def identifier_value(text: str) -> tuple[str, str | None]:
    """``1084010 (Egypt) issued 1999`` → (``1084010``, ``eg``)."""
    value = _ID_TAIL.sub("", clean(text))
    country = None
    match = _ID_COUNTRY.match(value)
    if match:
        country = country_code(match.group("country")) or None
        if country is not None:
            value = match.group("value")
    return value.strip(" ,;"), country


def apply_label(
    record: RecordData,
    label: str,
    value: str,
    *,
    country: str | None = None,
    listing_dates: dict[str, PartialDate] | None = None,
) -> None:
    """Store a labelled OFAC value (``Passport``, ``SWIFT/BIC``, ``Gender`` ...) on a record."""
    labels = ofac_labels()
    label = clean(label)
    text = clean(value)
    if not text:
        return
    spec = labels["identifiers"].get(label)
    if spec is not None:
        number, found_country = identifier_value(text)
        if spec["scheme"] == "imo":
            number = re.sub(r"^IMO\s*", "", number, flags=re.I)
        number_country = country_code(country) if country else found_country
        record.add_identifier(spec["scheme"], number, number_country)
        record.add(spec["prop"], number)
        return
    fact = labels["facts"].get(label)
    if fact is None:
        record.add("notes", f"{label} {text}")
        return
    kind, prop = fact["kind"], fact["prop"]
    if kind == "date":
        parsed = dates_in(text)
        if label in labels["listing_dates"] and parsed and listing_dates is not None:
            listing_dates[label] = parsed[0]
        record.add(prop, *(str(d) for d in parsed) if parsed else [text])
    elif kind == "country":
        record.add(prop, country_or_text(text))
    elif kind == "name":
        record.add_name(text, "alias")
    else:
        record.add(prop, text)


def find_label(part: str) -> tuple[str, str] | None:
    """Split ``Passport 1084010 (Egypt)`` into a known label and its value."""
    first = part.split(" ", 1)[0].split(":", 1)[0]
    for label in ofac_labels()["by_word"].get(first, ()):
        if part.startswith(label):
            rest = part[len(label) :]
            if not rest or rest[0] in " :-#" or label.endswith((":", "-", "#")):
                return label, rest.strip(" :-#")
    return None


def apply_remarks(
    record: RecordData, remarks: str, listing_dates: dict[str, PartialDate] | None = None
) -> None:
    """Read the facts OFAC packs into an entry's Remarks (DOB, POB, IDs, weak a.k.a.s ...)."""
    text = clean(remarks)
    if not text:
        return
    for raw in re.split(r";\s+", text.rstrip(".")):
        part = raw.strip().rstrip(".").strip()
        if part.lower().startswith("alt. "):
            part = part[5:].strip()
        if not part:
            continue
        alias = _ALIAS.match(part)
        if alias:
            record.add_name(alias.group(2).strip(" '"), _ALIAS_KINDS[alias.group(1).lower()])
            continue
        head, _, rest = part.partition(" ")
        lowered = head.lower()
        if lowered == "dob":
            parsed = dates_in(rest)
            record.add("birthDate", *(str(d) for d in parsed) if parsed else [rest])
        elif lowered == "pob":
            record.add("birthPlace", rest)
        elif lowered == "nationality":
            record.add("nationality", country_or_text(rest))
        elif lowered == "citizen":
            record.add("citizenship", country_or_text(rest))
        elif part.startswith("Linked To:"):
            target = clean(part[len("Linked To:") :])
            if target:
                record.relations.append(("linked_to", target))
        else:
            labelled = find_label(part)
            if labelled:
                apply_label(record, labelled[0], labelled[1], listing_dates=listing_dates)
            else:
                record.add("notes", part)


def person_name_parts(record: RecordData, last: str, first: str) -> None:
    """Keep an individual's name parts as FollowTheMoney's ``firstName`` / ``lastName``."""
    record.add("lastName", last)
    record.add("firstName", first)


def listed_date(text: str) -> PartialDate | None:
    """A listing date as OFAC writes it (``03 Jun 2021`` or ISO)."""
    return english_date(text)
