"""The HTTP client shared by the agents that call a service's API (GitHub Actions, Argo CD,
Terraform Cloud, http).

It applies the agent error contract to HTTP:

- 5xx, 429, connection errors and timeouts are retried a bounded number of times with exponential
  backoff, then raised as ``TransientError`` (``retry_after`` from the server when it gives one);
- 401/403 → ``TerminalError("authentication failed: check <tokenEnv>")``; the token never appears;
- 404 → ``TerminalError`` naming the resource (or ``None`` when the caller expects absence);
- any other 4xx → ``TerminalError`` with the server's short message, the token scrubbed from it.

It never logs. Credentials come from environment variables through :func:`env_secret`.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import time
from typing import Any, Self

import httpx

from reconciler.errors import TerminalError, TransientError

TRIES = 3
BACKOFF_SECONDS = 0.5  # the first wait; it doubles on each retry
MAX_WAIT_SECONDS = 30.0  # a server's Retry-After is honoured up to this between tries
DEFAULT_RETRY_AFTER = 60.0


def env_secret(name: str, purpose: str) -> str:
    """The value of environment variable ``name``; TerminalError naming it when unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise TerminalError(f"environment variable {name} is not set; it must hold the {purpose}")
    return value


class HttpClient:
    """One service's API: a base URL, a credential and the retry rule. Use as a context manager."""

    def __init__(self, base_url: str, *, token: str | None = None, token_env: str = "", auth_scheme: str = "Bearer",
                 headers: dict[str, str] | None = None, timeout: float = 30.0, verify: bool = True,
                 tries: int = TRIES, backoff: float | None = None):
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"{auth_scheme} {token}"
        self._client = httpx.Client(base_url=base_url, headers=all_headers, timeout=timeout,
                                    verify=_ssl_context(verify), follow_redirects=True)
        self._token = token
        self._token_env = token_env
        self._timeout = timeout
        self._tries = max(1, tries)
        self._backoff = BACKOFF_SECONDS if backoff is None else backoff

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, what: str, missing_ok: bool = False,
                **kwargs: Any) -> httpx.Response | None:
        """Send one request with retries. ``what`` names the resource in every error message.

        Returns the response for 1xx–3xx (after redirects) and ``None`` for a 404 when ``missing_ok``.
        """
        problem, retry_after = "", None
        for attempt in range(1, self._tries + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                problem, retry_after = f"no response within {self._timeout:g}s", None
            except httpx.TransportError as exc:
                problem, retry_after = f"connection failed ({type(exc).__name__})", None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 404 and missing_ok:
                    return None
                if not _transient(response.status_code):
                    raise self._terminal(method, response, what)
                problem, retry_after = f"HTTP {response.status_code}", _retry_after(response)
            if attempt < self._tries:
                time.sleep(min(retry_after if retry_after is not None else self._backoff * 2 ** (attempt - 1),
                               MAX_WAIT_SECONDS))
        raise TransientError(f"{method} {what}: {problem} after {self._tries} tries",
                             retry_after=retry_after if retry_after is not None else DEFAULT_RETRY_AFTER)

    def json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        """``request`` and decode a JSON body (``None`` when the body is empty or a 404 was allowed)."""
        response = self.request(method, path, what=what, **kwargs)
        if response is None or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TerminalError(f"{method} {what}: the response is not JSON") from exc

    def _terminal(self, method: str, response: httpx.Response, what: str) -> TerminalError:
        status = response.status_code
        if status in (401, 403):
            hint = f": check {self._token_env}" if self._token_env else ""
            return TerminalError(f"authentication failed{hint} (HTTP {status} from {method} {what})")
        if status == 404:
            return TerminalError(f"{what} not found (HTTP 404 from {method})")
        detail = self.scrub(server_message(response))
        return TerminalError(f"{method} {what}: HTTP {status}" + (f": {detail}" if detail else ""))

    def scrub(self, text: str) -> str:
        """``text`` without the credential in it."""
        return text.replace(self._token, "[redacted]") if self._token else text


def server_message(response: httpx.Response, limit: int = 300) -> str:
    """The short error text a service put in its body (GitHub ``message``, Argo ``error``, JSON:API
    ``errors[].detail``), or the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:limit]
    if isinstance(body, dict):
        for key in ("message", "error"):
            text = body.get(key)
            if isinstance(text, str):
                return text[:limit]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            text = first.get("detail") or first.get("title") if isinstance(first, dict) else first
            return str(text)[:limit]
    return json.dumps(body)[:limit]


@functools.lru_cache(maxsize=2)
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per verify flag: building one loads the CA bundle, which takes ~25 ms."""
    return httpx.create_ssl_context(verify=verify)


def _transient(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
