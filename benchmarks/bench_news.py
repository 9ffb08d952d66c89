# ruff: noqa: E501  (the generated corpus is written as whole sentences)
"""News extraction speed: articles per second per core, end to end.

    python -m benchmarks.bench_news [--articles N] [--baseline B]

A generated corpus of N (default 10,000) articles of realistic length (about 3,500
characters: a headline, a dozen paragraphs of general business news, one to three
paragraphs about listed companies, "read also" lines and an advert) in five languages is
read from plain text with a date header and run through the whole pipeline (cleaning,
language id, sentence splitting, gazetteer, extraction, dates, per-article merge) on one
core, over the registry with the curated dataset. Storing is measured separately on a
slice (ingest into SQLite, one transaction).

Baseline, in the same run, on a slice of B articles: the naive pipeline a first attempt
would write — ``dateparser.search_dates`` over the text and one regular expression per
registry name.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_section

FILLER = {
    "en": [
        "Shares in Asian technology companies moved within a narrow range as investors waited for inflation figures.",
        "Analysts expect the central bank to keep interest rates unchanged at its next meeting.",
        "The company reported higher revenue from its cloud services and a smaller loss on hardware.",
        "Supply chains in the region have recovered slowly after two difficult years for manufacturers.",
        "Several suppliers said that demand for consumer electronics remained weaker than a year earlier.",
        "The board proposed a dividend in line with last year's payment and announced a new chief financial officer.",
        "Regulators in several countries are reviewing how data collected by smart devices is stored.",
        "Trade volumes between the two economies grew modestly, according to customs statistics.",
    ],
    "nl": [
        "De aandelen van technologiebedrijven in Azië bewogen binnen een smalle bandbreedte.",
        "Analisten verwachten dat de centrale bank de rente bij de volgende vergadering ongewijzigd laat.",
        "Het bedrijf rapporteerde hogere omzet uit clouddiensten en een kleiner verlies op hardware.",
        "De toeleveringsketens in de regio herstellen langzaam na twee moeilijke jaren voor fabrikanten.",
        "Volgens leveranciers blijft de vraag naar consumentenelektronica zwakker dan een jaar eerder.",
        "Toezichthouders in verschillende landen onderzoeken hoe gegevens van slimme apparaten worden opgeslagen.",
    ],
    "da": [
        "Aktierne i asiatiske teknologiselskaber bevægede sig inden for et snævert interval.",
        "Analytikere venter, at centralbanken holder renten uændret på det næste møde.",
        "Selskabet rapporterede højere omsætning fra cloudtjenester og et mindre underskud på hardware.",
        "Forsyningskæderne i regionen er kommet sig langsomt efter to svære år for producenterne.",
        "Ifølge leverandørerne er efterspørgslen efter forbrugerelektronik stadig svagere end sidste år.",
        "Myndighederne i flere lande undersøger, hvordan data fra smarte enheder bliver opbevaret.",
    ],
    "de": [
        "Die Aktien asiatischer Technologiekonzerne bewegten sich in einer engen Spanne.",
        "Analysten erwarten, dass die Zentralbank die Zinsen bei der nächsten Sitzung unverändert lässt.",
        "Das Unternehmen meldete höhere Umsätze mit Clouddiensten und einen geringeren Verlust bei Hardware.",
        "Die Lieferketten in der Region erholen sich nach zwei schwierigen Jahren nur langsam.",
        "Nach Angaben der Zulieferer bleibt die Nachfrage nach Unterhaltungselektronik schwächer als im Vorjahr.",
        "Aufsichtsbehörden in mehreren Ländern prüfen, wie Daten von vernetzten Geräten gespeichert werden.",
    ],
    "fr": [
        "Les actions des groupes technologiques asiatiques ont évolué dans une fourchette étroite.",
        "Les analystes s'attendent à ce que la banque centrale laisse ses taux inchangés lors de sa prochaine réunion.",
        "Le groupe a publié un chiffre d'affaires en hausse dans le cloud et une perte réduite dans le matériel.",
        "Les chaînes d'approvisionnement de la région se remettent lentement après deux années difficiles.",
        "Selon les fournisseurs, la demande d'électronique grand public reste plus faible qu'il y a un an.",
        "Les régulateurs de plusieurs pays examinent la manière dont les données des appareils connectés sont stockées.",
    ],
}
EVENTS = {
    "en": [
        "The Commerce Department added {e} to the Entity List on Tuesday.",
        "A federal judge temporarily blocked the Pentagon's designation of {e} in March.",
        "{e} has been on the Entity List since last year.",
        "{e} sued the Defense Department last month.",
    ],
    "nl": [
        "{e} werd in januari dit jaar op de zwarte lijst van het Ministerie van Defensie gezet.",
        "De Amerikaanse overheid haalt {e} definitief van de zwarte lijst met Chinese militaire bedrijven.",
        "Volgens de krant staat {e} al op de Entity List.",
    ],
    "da": [
        "{e} bliver nu fjernet fra USA's sortliste over kinesiske militærvirksomheder.",
        "Her fik {e} i marts medhold, og placeringen på sortlisten blev suspenderet midlertidig.",
        "{e} valgte sidste år at sagsøge den amerikanske regering.",
    ],
    "de": [
        "Das US-Handelsministerium hat {e} am Donnerstag auf die Entity List gesetzt.",
        "{e} steht bereits seit zwei Jahren auf der Entity-Liste.",
        "{e} stellte vorübergehend sein Geschäft in Russland und Belarus ein.",
    ],
    "fr": [
        "Le département du Commerce a ajouté {e} à la liste des entités mardi.",
        "{e} figure déjà sur la liste noire du Pentagone.",
        "{e} a suspendu ses activités en Russie et en Ukraine la semaine dernière.",
    ],
}
NOISE = {
    "en": ["Read more: Markets close higher on Friday", "Advertisement"],
    "nl": ["Lees ook: Beurzen sluiten hoger", "Advertentie"],
    "da": ["Læs også: Aktierne stiger igen", "Annonceindlæg fra en bank"],
    "de": ["Lesen Sie auch: Börsen schließen fester", "Anzeige"],
    "fr": ["Lire aussi : les Bourses terminent en hausse", "Publicité"],
}
ENTITIES = [
    "Xiaomi",
    "Huawei",
    "DJI",
    "SMIC",
    "SenseTime",
    "China Mobile",
    "China Telecom",
    "Luokung",
]


def make_corpus(count: int, seed: int = 7) -> list[bytes]:
    """``count`` articles of about 3,500 characters, each with a date header."""
    rng = random.Random(seed)
    languages = list(FILLER)
    articles = []
    for index in range(count):
        lang = languages[index % len(languages)]
        entity = rng.choice(ENTITIES)
        paragraphs = []
        for _ in range(rng.randint(11, 14)):
            paragraphs.append(" ".join(rng.sample(FILLER[lang], 3)))
        for _ in range(rng.randint(1, 3)):
            sentence = rng.choice(EVENTS[lang]).format(e=entity)
            paragraphs.insert(
                rng.randrange(1, len(paragraphs)), sentence + " " + rng.choice(FILLER[lang])
            )
        read_also, advert = NOISE[lang]
        paragraphs.insert(rng.randrange(2, len(paragraphs)), read_also)
        paragraphs.append(advert)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        title = f"{entity}: {FILLER[lang][0][:60]}"
        text = f" date 2022-{month:02d}-{day:02d}\n{title}\n\n" + "\n\n".join(paragraphs) + "\n"
        articles.append(text.encode("utf-8"))
    return articles


def naive_baseline(articles: list[bytes], names: list[str]) -> float:
    """Seconds for the naive pipeline: search_dates plus one regex per registry name."""
    from dateparser.search import search_dates

    patterns = [re.compile(rf"\b{re.escape(n)}\b", re.IGNORECASE) for n in names if len(n) >= 3]
    start = time.process_time()
    for data in articles:
        text = data.decode("utf-8")
        search_dates(text, languages=["en", "nl", "da", "de", "fr"])
        for pattern in patterns:
            pattern.search(text)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--ingest", type=int, default=1_000)
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    args = parser.parse_args(argv)

    from sqlalchemy import select

    from listwatch.news.documents import text_document
    from listwatch.news.ingest import ingest
    from listwatch.news.pipeline import NewsPipeline
    from listwatch.registry.db import Registry
    from listwatch.registry.models import EntityName

    corpus = make_corpus(args.articles)
    size = sum(len(a) for a in corpus) / len(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        registry = Registry(str(Path(tmp) / "bench.db"))
        with registry.transaction() as session:
            pipeline = NewsPipeline.from_session(session)
            names = list(session.scalars(select(EntityName.name)))
        warm = [text_document(a, f"warm{i}.txt") for i, a in enumerate(make_corpus(20, seed=1))]
        for document in warm:
            pipeline.process(document)

        start, wall = time.process_time(), time.perf_counter()
        events = 0
        for index, data in enumerate(corpus):
            document = text_document(data, f"a{index}.txt")
            events += len(pipeline.process(document).events)
        elapsed = time.process_time() - start
        wall_elapsed = time.perf_counter() - wall
        rate = len(corpus) / elapsed

        slice_ = [text_document(a, f"i{i}.txt") for i, a in enumerate(corpus[: args.ingest])]
        start = time.process_time()
        with registry.transaction() as session:
            report = ingest(session, slice_, pipeline)
        ingest_rate = len(slice_) / (time.process_time() - start)
        registry.dispose()

    baseline_articles = corpus[: args.baseline]
    baseline_rate = len(baseline_articles) / naive_baseline(baseline_articles, names)
    result = {
        "articles": len(corpus),
        "chars_per_article": round(size),
        "events": events,
        "rate": rate,
        "wall_rate": len(corpus) / wall_elapsed,
        "ingest_rate": ingest_rate,
        "ingest_events": len(report.events_created),
        "baseline_rate": baseline_rate,
    }
    body = (
        "## News\n\n"
        "End-to-end extraction on one core (`python -m benchmarks.bench_news`): a generated "
        f"corpus of {len(corpus):,} articles (about {round(size):,} characters each; en, nl, da, "
        "de, fr; headline, general news, one to three paragraphs about listed companies, "
        '"read also" lines, adverts) read from text with a date header, cleaned, '
        "language-identified, split, matched against the registry, extracted, dated and "
        "merged per article.\n\n"
        "| pipeline | articles/s/core | ratio |\n|---|---|---|\n"
        f"| listwatch news extraction | {rate:,.0f} | {rate / baseline_rate:,.1f}× |\n"
        f"| listwatch news ingest into SQLite (extraction, storing, clustering, confirmation; "
        f"{len(slice_):,} articles) | {ingest_rate:,.0f} | {ingest_rate / baseline_rate:,.1f}× |\n"
        f"| naive baseline: `dateparser.search_dates` + one regex per registry name "
        f"({len(baseline_articles)} articles) | {baseline_rate:,.1f} | 1.0× |\n\n"
        f"Events found: {events:,} ({events / len(corpus):.2f} per article). Goal: at least "
        "100 articles/s per core. Rates are articles per CPU-second of the benchmark process "
        "(one core); wall-clock extraction rate in this run: "
        f"{len(corpus) / wall_elapsed:,.0f} articles/s (other work shares the machine).\n"
    )
    print(body)
    if not args.no_write:
        write_section("news", body)
    return result


if __name__ == "__main__":
    main()
