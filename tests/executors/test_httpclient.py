"""The shared HTTP client against a real local server: retries, error mapping, token hygiene."""

from __future__ import annotations

import time
from typing import ClassVar

import pytest

from reconciler.errors import TerminalError, TransientError
from reconciler.executors import httpclient
from tests.executors.conftest import TOKEN
from tests.fakes.service import FakeService, Recorded


class Echo(FakeService):
    routes: ClassVar[list[tuple[str, str, str]]] = [("GET", r"/things/(?P<name>[^/]+)", "thing"), ("POST", r"/things", "create")]

    def thing(self, request: Recorded, name: str):
        return (200, {"name": name}) if name != "missing" else (404, {"message": "Not Found"})

    def create(self, request: Recorded):
        return 422, {"message": f"token {TOKEN} is not allowed to create {request.json['name']}"}


@pytest.fixture
def echo():
    service = Echo(TOKEN).start()
    yield service
    service.stop()


def client(service: FakeService, token: str = TOKEN, **kwargs) -> httpclient.HttpClient:
    return httpclient.HttpClient(service.url, token=token, token_env="SVC_TOKEN", **kwargs)


def test_sends_the_bearer_token_and_decodes_json(echo):
    with client(echo) as c:
        assert c.json("GET", "/things/a", what="thing a") == {"name": "a"}
    assert echo.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_5xx_then_success_is_retried(echo):
    echo.fail(503, times=2)
    with client(echo) as c:
        assert c.json("GET", "/things/b", what="thing b") == {"name": "b"}
    assert len(echo.calls("GET")) == 3


def test_5xx_forever_is_transient_after_bounded_tries(echo):
    echo.fail(502, times=100)
    with client(echo) as c, pytest.raises(TransientError, match=r"HTTP 502 after 3 tries") as info:
        c.request("GET", "/things/c", what="thing c")
    assert len(echo.requests) == 3
    assert info.value.retry_after == httpclient.DEFAULT_RETRY_AFTER


def test_retry_after_header_is_passed_on(echo):
    echo.fail(429, times=100, headers={"Retry-After": "0"})
    with client(echo) as c, pytest.raises(TransientError) as info:
        c.request("GET", "/things/d", what="thing d")
    assert info.value.retry_after == 0.0


def test_a_stalled_server_times_out_as_transient(echo):
    echo.stall(1.5, times=2)
    started = time.monotonic()
    with client(echo, timeout=0.3, tries=2) as c, pytest.raises(TransientError, match="no response within 0.3s"):
        c.request("GET", "/things/e", what="thing e")
    assert time.monotonic() - started < 1.4


def test_connection_refused_is_transient(echo):
    url = echo.url
    echo.stop()
    with httpclient.HttpClient(url, tries=2) as c, pytest.raises(TransientError, match="connection failed"):
        c.request("GET", "/things/f", what="thing f")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_name_the_env_var_not_the_token(echo, status):
    echo.fail(status)
    with client(echo) as c, pytest.raises(TerminalError) as info:
        c.request("GET", "/things/g", what="thing g")
    assert "authentication failed: check SVC_TOKEN" in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(echo.requests) == 1  # never retried


def test_wrong_token_is_rejected_by_the_server(echo):
    with client(echo, token="nope") as c, pytest.raises(TerminalError, match="authentication failed"):
        c.request("GET", "/things/h", what="thing h")


def test_404_names_the_resource_or_returns_none_when_allowed(echo):
    with client(echo) as c:
        with pytest.raises(TerminalError, match="workflow missing not found"):
            c.request("GET", "/things/missing", what="workflow missing")
        assert c.request("GET", "/things/missing", what="thing", missing_ok=True) is None


def test_other_4xx_shows_the_server_message_without_the_token(echo):
    with client(echo) as c, pytest.raises(TerminalError) as info:
        c.request("POST", "/things", json={"name": "x"}, what="things")
    assert "HTTP 422" in str(info.value) and "not allowed to create x" in str(info.value)
    assert TOKEN not in str(info.value)


def test_env_secret_reads_the_variable_or_names_it(monkeypatch):
    monkeypatch.setenv("SOME_TOKEN", "abc")
    assert httpclient.env_secret("SOME_TOKEN", "token") == "abc"
    monkeypatch.delenv("SOME_TOKEN")
    with pytest.raises(TerminalError, match="SOME_TOKEN is not set"):
        httpclient.env_secret("SOME_TOKEN", "token")
