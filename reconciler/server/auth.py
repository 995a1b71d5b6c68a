"""Bearer-key authentication and scope checks, as FastAPI dependencies.

``require("approve")`` resolves the ``Authorization: Bearer <key>`` header to the stored key (by its
SHA-256), refuses a missing, unknown or revoked key with 401 and a key without the scope with 403,
and hands the route the key: its name is the actor of approvals. Pull agents may add an
``X-Agent-Instance`` header; the claimant of a job is ``NAME`` or ``NAME/INSTANCE``.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reconciler.server import keys
from reconciler.server.context import ServerContext
from reconciler.server.errors import ApiError
from reconciler.state.sqlapi import ApiKey

bearer = HTTPBearer(auto_error=False, description="An API key from `reconciler api-key create`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency admitting keys that hold ``scope`` (or one that implies it)."""

    def check(request: Request, creds: HTTPAuthorizationCredentials | None = Security(bearer)) -> ApiKey:
        key = authenticate(context(request), creds)
        if not keys.allows(key.scope, scope):
            need = repr(scope) if scope == "admin" else f"{scope!r} (or admin)"
            raise ApiError(403, f"the API key {key.name!r} has scope {key.scope!r}; this needs {need}")
        return key

    return check


def authenticate(ctx: ServerContext, creds: HTTPAuthorizationCredentials | None) -> ApiKey:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiError(401, "send an API key as 'Authorization: Bearer <key>' (reconciler api-key create)",
                       headers=_CHALLENGE)
    key = ctx.store.api_key_by_hash(keys.digest(creds.credentials))
    if key is None:
        raise ApiError(401, "the API key is unknown or revoked", "invalid_key", headers=_CHALLENGE)
    return key


def claimant(key: ApiKey, instance: str | None) -> str:
    return f"{key.name}/{instance}" if instance else key.name


Ctx = Depends(context)
Read = Depends(require("read"))
AgentKey = Depends(require("agent"))
Approver = Depends(require("approve"))
Admin = Depends(require("admin"))
