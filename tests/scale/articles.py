"""Short articles written for the scale tests, as corpus records (``news ingest`` JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ARTICLES: list[dict[str, Any]] = [
    {
        "id": "wire-001",
        "published": "2021-01-16",
        "language": "en",
        "text": (
            "Pentagon adds Xiaomi to blacklist\n\n"
            "The US Department of Defense on Thursday added Xiaomi to its list of "
            "Communist Chinese military companies, together with eight other firms.\n\n"
            "Xiaomi said it would take appropriate action to protect its shareholders.\n"
        ),
    },
    {
        "url": "https://news.example.org/2021/03/xiaomi-court",
        "published": "2021-03-13",
        "text": (
            "Court suspends Xiaomi listing\n\n"
            "A federal judge in Washington on Friday suspended the Defense Department's "
            "designation of Xiaomi as a Chinese military company.\n\n"
            "Xiaomi sued the Pentagon in January, calling the listing unlawful.\n\n"
            "Read also: Markets rally on chip news\n"
        ),
    },
    {
        "id": "nl-2021-05",
        "published": "2021-05-26",
        "text": (
            "Xiaomi van zwarte lijst gehaald\n\n"
            "Het Amerikaanse ministerie van Defensie haalt Xiaomi definitief van de zwarte "
            "lijst met Chinese militaire bedrijven.\n\n"
            "Het aandeel van Xiaomi steeg dinsdag met 6,7 procent.\n"
        ),
    },
    {
        "id": "da-2022-04",
        "published": "2022-04-27",
        "text": (
            "DJI stopper salget i Rusland\n\n"
            "Den kinesiske droneproducent DJI har midlertidigt indstillet alle "
            "forretningsaktiviteter i Rusland og Ukraine.\n\n"
            "Læs også: Elbiler sælger som aldrig før\n"
        ),
    },
    {
        # The same story as wire-001, from another outlet: a second source for one event.
        "id": "wire-002",
        "published": "2021-01-15",
        "text": (
            "Xiaomi blacklisted by Pentagon\n\n"
            "The Pentagon on Thursday added Xiaomi to a list of companies it says are owned "
            "or controlled by the Chinese military.\n"
        ),
    },
    {
        "id": "html-001",
        "published": "2020-12-19",
        "html": (
            "<html><head><title>SMIC hit by export curbs</title></head><body>"
            "<nav>Home | World | Markets</nav><article><h1>SMIC hit by export curbs</h1>"
            "<p>The US Commerce Department on Friday added SMIC, China's largest chipmaker, "
            "to the Entity List, restricting its access to American technology.</p>"
            "<p>DJI was added to the Entity List on the same day.</p>"
            "</article><footer>Subscribe to our newsletter</footer></body></html>"
        ),
    },
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Records as JSON lines (UTF-8)."""
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path
