"""Fixtures of the API tests: a registry per test and the real application in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from listwatch.registry.db import Registry
from tests.api.helpers import make_app


@pytest.fixture
def api_registry(sqlite_url: str) -> Iterator[Registry]:
    """A fresh SQLite registry with the curated dataset."""
    registry = Registry(sqlite_url)
    yield registry
    registry.dispose()


@pytest.fixture
def client(api_registry: Registry) -> Iterator[Any]:
    """An HTTP client on the application (requests go through the whole ASGI stack)."""
    with TestClient(make_app(api_registry)) as test_client:
        yield test_client
