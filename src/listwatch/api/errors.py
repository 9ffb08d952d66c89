"""One error body for every failure: ``{"error": {"status", "code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("listwatch.api")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """What is wrong and where (``loc`` names the field, e.g. ``["query", "as_of"]``)."""

    loc: list[str | int] = []
    message: str


class ErrorInfo(BaseModel):
    """The error itself."""

    status: int
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


class ApiError(Exception):
    """An error the client can act on, with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers


def error_payload(
    status: int, message: str, code: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON body of an error."""
    return {
        "error": {
            "status": status,
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "details": details or [],
        }
    }


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_payload(status, message, code, details), status, headers=headers)


#: Error responses every operation may give, for the OpenAPI schema.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request cannot be carried out as asked"},
    401: {"model": ErrorBody, "description": "A token is missing or not valid"},
    403: {"model": ErrorBody, "description": "The token lacks the scope"},
    413: {"model": ErrorBody, "description": "The request body is too large"},
    422: {"model": ErrorBody, "description": "Invalid input"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such resource"}
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in exc.errors():
        loc = [part if isinstance(part, int) else str(part) for part in item.get("loc", ())]
        details.append({"loc": loc, "message": str(item.get("msg", "invalid"))})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including framework ones, use :class:`ErrorBody`."""
    from listwatch.registry.curated import CuratedError
    from listwatch.registry.db import RegistryError
    from listwatch.registry.domain import DateError

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first: dict[str, Any] = details[0] if details else {"loc": [], "message": "invalid"}
        where = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        message = f"{where}: {first['message']}" if where else str(first["message"])
        return error_response(422, message, "invalid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = (
            exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "error")
        )
        headers = getattr(exc, "headers", None)
        return error_response(exc.status_code, message, headers=headers)

    @app.exception_handler(DateError)
    async def _date(request: Request, exc: DateError) -> JSONResponse:
        return error_response(422, str(exc), "invalid")

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(CuratedError)
    async def _curated(request: Request, exc: CuratedError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error: the server logged the details")
