"""Every error the API returns is JSON: ``{"error": {"code", "message", "details"?}}``.

``ApiError`` carries an HTTP status; the handlers map FastAPI's validation errors (malformed JSON is
400, a well-formed body that breaks the schema is 422) and reconciler's exception tree
(NotFoundError 404, UsageError 409, other StateErrors 503). ``BodyLimit`` refuses request bodies
over the cap with 413 before any route sees them, so an oversized request changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.errors import NotFoundError, StateError, UsageError
from reconciler.server.models import ErrorBody

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "body_too_large", 415: "unsupported_media_type", 422: "invalid_request",
         500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code or CODES.get(status, "error"), headers


def body(status: int, message: str, code: str | None = None, details: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code or CODES.get(status, "error"), "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def response(status: int, message: str, code: str | None = None, details: list[Any] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(status, message, code, details), status_code=status, headers=headers)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return."""
    return {code: {"model": ErrorBody, "description": CODES.get(code, "error")} for code in codes}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(NotFoundError, lambda r, e: response(404, str(e)))
    app.add_exception_handler(UsageError, lambda r, e: response(409, str(e)))
    app.add_exception_handler(StateError, lambda r, e: response(503, str(e)))


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return response(exc.status, exc.message, exc.code, headers=exc.headers)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:  # Starlette names only the first route's methods; list every route's
        headers = {"Allow": ", ".join(allowed_methods(request))}
    return response(exc.status_code, str(exc.detail), headers=headers)


def allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    details = [{"loc": [str(p) for p in e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
               for e in errors]
    if any(e.get("type") == "json_invalid" for e in errors):
        return response(400, "the request body is not valid JSON", "malformed_json", details)
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"][1:] or first["loc"]) or "request"
    return response(422, f"{where}: {first['message']}", details=details)


class BodyLimit:
    """ASGI middleware: answer 413 to any request whose body exceeds ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        reply = response(413, f"request bodies are limited to {self.limit} bytes")
        await reply(scope, _no_body, send)


def _replay(data: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return replay


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
