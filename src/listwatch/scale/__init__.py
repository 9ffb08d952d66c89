"""Work that outgrows one machine, on Apache Spark.

- :mod:`.screen`: screening very many names (``listwatch spark screen``), the screening
  index broadcast to the executors, every name scored by :mod:`listwatch.screening`;
- :mod:`.news`: bulk news extraction over JSON-lines or Parquet corpora
  (``listwatch spark news``) with :mod:`listwatch.news`'s pipeline, and loading its output
  into the registry, transactionally and idempotently;
- :mod:`.session`: the Spark session (local mode or any cluster by its master URL).

The registry is read on the driver only: executors get what they need (the index, the
gazetteer's names, the statuses of matched entities) by broadcast, so a cluster never
needs to reach the database.
"""
