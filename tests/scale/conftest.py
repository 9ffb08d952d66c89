"""Fixtures of the scale tests: one Spark session for the run (local mode, 2 cores)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session shared by every Spark test (starting one takes seconds)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("pyspark is not installed")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        if os.environ.get("CI"):
            raise RuntimeError("Java is missing: scripts/setup.sh dev installs it")
        pytest.skip("Java is not installed")
    from listwatch.scale.session import build_session

    session = build_session(
        "local[2]",
        "listwatch tests",
        {"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


# The news tests' registry (curated dataset and their test entities) and pipeline.
from tests.news.conftest import news_registry, pipeline  # noqa: E402, F401
