"""The Spark session of a listwatch job: local mode on this machine, or a cluster by ``--master``.

Executors run listwatch's own code, so their Python must have listwatch installed: in
local mode that is this interpreter (``PYSPARK_PYTHON`` is set to it unless already
set); on a cluster, ship an environment (see docs/operations.md).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from listwatch.registry.db import RegistryError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"


class SparkUnavailable(RegistryError):
    """pyspark or Java is missing, or the session cannot start (one clear line)."""


class SparkJobError(RegistryError):
    """A Spark job failed on its input (malformed file, missing column ...): one clear line."""


def parse_conf(pairs: list[str] | None) -> dict[str, str]:
    """``--conf key=value`` options as a mapping (a clear error for a pair without ``=``)."""
    conf: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SparkUnavailable(f"--conf {pair!r}: expected KEY=VALUE")
        conf[key.strip()] = value.strip()
    return conf


def _check_java() -> None:
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise SparkUnavailable(
        "Java is not installed (Spark needs a Java 17 runtime: install openjdk-17-jre-headless, "
        "or set JAVA_HOME)"
    )


def build_session(
    master: str = DEFAULT_MASTER,
    app_name: str = "listwatch",
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session on ``master`` (``local[N]``, ``spark://host:7077``, ``yarn`` ...)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "pyspark is not installed: pip install 'listwatch[spark]' (pyspark 4.3)"
        ) from None
    _check_java()
    if master.startswith("local"):
        # Local executors are Python processes started from this machine: make them this
        # interpreter, which has listwatch installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Python workers are reused across tasks, so each loads the broadcast index once.
        .config("spark.python.worker.reuse", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.ui.enabled", "false"
        )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    import warnings

    try:
        with warnings.catch_warnings():
            # pyspark's check of the installed pandas warns about a version it has no use
            # for here (listwatch's jobs do not use pandas on Spark).
            warnings.simplefilter("ignore", FutureWarning)
            session = builder.getOrCreate()
    except Exception as exc:  # the JVM's own errors come through py4j with long traces
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"cannot start Spark on {master}: {first}") from None
    # Task failures are reported as one line by the job; Spark's own stack traces would
    # bury it (`--conf spark.log.level=WARN` brings them back).
    session.sparkContext.setLogLevel((conf or {}).get("spark.log.level", "FATAL"))
    return session


@contextmanager
def spark_session(
    master: str = DEFAULT_MASTER,
    app_name: str = "listwatch",
    conf: Mapping[str, str] | None = None,
    existing: SparkSession | None = None,
) -> Iterator[SparkSession]:
    """A session for the duration of a job.

    A session already running in this process (``existing``, or the active one: a
    notebook's, a test suite's) is used as it is and left running.
    """
    if existing is None:
        existing = _active_session()
    if existing is not None:
        yield existing
        return
    session = build_session(master, app_name, conf)
    try:
        yield session
    finally:
        session.stop()


def _active_session() -> SparkSession | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


_CSV_RECORD = re.compile(r"Malformed CSV record: (.*?)(?:\s+SQLSTATE|$)", re.S)
_CODE = re.compile(r"^\[[A-Z_.]+\]\s*")
_STATE = re.compile(r"\s*SQLSTATE: \w+\s*$")


def job_error(exc: BaseException) -> str:
    """The useful line of an error raised inside a Spark job (Python or JVM side)."""
    text = str(exc)
    for marker in ("SparkJobError: ", "BatchError: ", "InputError: ", "RegistryError: "):
        if marker in text:
            return text.split(marker, 1)[1].splitlines()[0].strip()
    record = _CSV_RECORD.search(text)
    if record:
        found = record.group(1).strip()[:200]
        return f"malformed CSV record {found!r} (unbalanced quotes or a wrong number of fields)"
    # The JVM's root cause is the last "Caused by: <class>: <message>" line.
    causes = [line.split(":", 2)[-1] for line in text.splitlines() if line.startswith("Caused by:")]
    lines = causes[-1:] or [line for line in text.splitlines() if line.strip()][:1]
    if not lines:
        return type(exc).__name__
    return _STATE.sub("", _CODE.sub("", lines[0].strip()))[:500]


def default_parallelism(spark: Any) -> int:
    """How many tasks run at once on the session's executors."""
    return max(1, int(spark.sparkContext.defaultParallelism))


class RangePartitioner:
    """Partition of a record's position: consecutive ranges, so the input's order is kept."""

    def __init__(self, total: int, partitions: int) -> None:
        self.total = max(1, total)
        self.partitions = max(1, partitions)

    def __call__(self, position: int) -> int:
        return min(self.partitions - 1, position * self.partitions // self.total)


def check_output(spark: Any, path: str, overwrite: bool) -> None:
    """Refuse, before any work, an output that exists (unless it is to be replaced)."""
    if overwrite:
        return
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    filesystem = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if filesystem.exists(target):
        raise SparkJobError(f"{path}: already exists (--overwrite replaces it)")
