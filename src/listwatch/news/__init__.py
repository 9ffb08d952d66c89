"""News intelligence: multilingual articles in, proposed events with evidence out.

Articles are cleaned (:mod:`.clean`), their language identified (:mod:`.langid`), split
into sentences (:mod:`.sentences`); registry names are found with a gazetteer
(:mod:`.gazetteer`); events are extracted per sentence with the phrases of the language's
data file (:mod:`.extract`, ``lang/<code>.yaml``), dated (:mod:`.dates`), merged per
article (:mod:`.pipeline`) and stored, clustered across articles and checked against the
official record (:mod:`.ingest`) for review (:mod:`.review`).
"""
