"""API contract: schemathesis generates requests from the OpenAPI schema; no server errors,
and every response matches its declared schema, status codes and content type.

Bounded for CI: a few hundred examples in all (``LISTWATCH_CONTRACT_EXAMPLES`` per operation).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

# Imported here, while one thread runs, rather than by ``from_asgi`` once the application's
# background threads (index loading) may be importing too: CPython 3.11 keeps the AST
# constructor's recursion depth in state shared by threads, and two compilations at once
# can fail with "SystemError: AST constructor recursion depth mismatch".
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from listwatch.registry.db import Registry
from tests.api.helpers import make_app, token

EXAMPLES = int(os.environ.get("LISTWATCH_CONTRACT_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def contract_registry(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    import shutil

    db = tmp_path_factory.mktemp("contract") / "registry.db"
    shutil.copy(sqlite_template, db)
    registry = Registry(str(db))
    # Writes are exercised too: every request carries an admin token.
    _state["token"] = token(registry, "admin", name="contract")
    yield registry
    registry.dispose()


@pytest.mark.slow
def test_api_contract(contract_registry: Registry) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", make_app(contract_registry))
    headers = {"Authorization": f"Bearer {_state['token']}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
