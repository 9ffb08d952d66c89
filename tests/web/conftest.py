"""The server fixtures of tests/api (a registry per test, the application in process)."""

from tests.api.conftest import api_registry, client

__all__ = ["api_registry", "client"]
