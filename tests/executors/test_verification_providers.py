"""Verification providers against real local peers: an HTTP server, a TCP listener, a
Prometheus-API-shaped server, a command and a sleep; and the measurement/phase decisions."""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from reconciler.executors.verification import measure
from reconciler.planning import verification as decide


@pytest.fixture
def server():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            seen.append((url.path, params, self.headers.get("Authorization")))
            if url.path == "/health":
                body, code = {"status": "ok", "version": "v2"}, 200
            elif url.path == "/api/v1/query":
                body, code = {"status": "success", "data": {"resultType": "vector", "result": [
                    {"metric": {"job": "api"}, "value": [1700000000, "0.02"]}]}}, 200
            elif url.path == "/api/v1/query_range":
                body, code = {"status": "success", "data": {"resultType": "matrix", "result": [
                    {"metric": {}, "values": [[1, "1"], [2, "3.5"]]}]}}, 200
            else:
                body, code = {"status": "error", "errorType": "bad_data", "error": "unknown"}, 400
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def test_http_provider_gives_status_body_and_json(server):
    base, _ = server
    result = measure({"type": "http", "url": f"{base}/health"}, ".")
    assert result["ok"] and result["statusCode"] == 200 and result["json"]["version"] == "v2"
    metric = {"name": "health", "successCondition": 'result.json.version == "v2"', "count": 1}
    assert decide.measurement_status(metric, result) == decide.PASSED
    missing = measure({"type": "http", "url": f"{base}/nope"}, ".")
    assert missing["statusCode"] == 400 and not missing["ok"]


def test_http_provider_error_is_a_failed_measurement():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = measure({"type": "http", "url": f"http://127.0.0.1:{port}/", "timeout": "1s"}, ".")
    assert result["ok"] is False and "error" in result
    assert decide.measurement_status({"successCondition": "result.ok"}, result) == decide.FAILED


def test_tcp_provider():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert measure({"type": "tcp", "host": "127.0.0.1", "port": port}, ".")["ok"] is True
    listener.close()
    assert measure({"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": "1s"}, ".")["ok"] is False


def test_prometheus_instant_and_range_queries(server):
    base, seen = server
    instant = measure({"type": "prometheus", "address": base, "query": "rate(errors[5m])",
                       "authentication": {"bearerToken": "t0ken"}}, ".")
    assert instant["ok"] and instant["value"] == 0.02 and instant["results"][0]["metric"] == {"job": "api"}
    assert seen[-1][0] == "/api/v1/query" and seen[-1][1]["query"] == "rate(errors[5m])"
    assert seen[-1][2] == "Bearer t0ken"
    ranged = measure({"type": "prometheus", "address": base, "query": "up",
                      "rangeQuery": {"step": "30s", "start": "5m"}}, ".")
    assert ranged["ok"] and ranged["value"] == 3.5
    path, params, _ = seen[-1]
    assert path == "/api/v1/query_range" and float(params["step"]) == 30.0
    assert float(params["end"]) - float(params["start"]) == pytest.approx(300, abs=1)
    metric = {"successCondition": "result.value < 0.05", "failureCondition": "result.value > 0.1"}
    assert decide.measurement_status(metric, instant) == decide.PASSED


def test_command_and_sleep_providers(tmp_path):
    ok = measure({"type": "command", "command": [sys.executable, "-c", "print('{\"errors\": 0}')"]}, str(tmp_path))
    assert ok["ok"] and ok["exitCode"] == 0 and ok["json"] == {"errors": 0}
    bad = measure({"type": "command", "command": [sys.executable, "-c", "import sys; sys.exit(3)"]}, str(tmp_path))
    assert bad["ok"] is False and bad["exitCode"] == 3
    assert measure({"type": "sleep", "duration": "0.05s"}, ".") == {"ok": True}


@pytest.mark.parametrize("metric, statuses, expected", [
    ({"count": 3}, ["passed", "passed", "passed"], "passed"),
    ({"count": 3}, ["passed", "failed"], "failed"),  # failureThreshold 0: any failure fails
    ({"count": 3, "failureThreshold": 1}, ["failed", "passed"], "running"),
    ({"count": 3, "failureThreshold": 1}, ["failed", "passed", "failed"], "failed"),  # total, not consecutive
    ({"count": 3, "failureThreshold": 1}, ["failed", "passed", "passed"], "passed"),
    ({"count": 10, "successThreshold": 2}, ["inconclusive", "passed", "passed"], "passed"),
    ({"count": 10, "successThreshold": 2}, ["passed", "inconclusive", "passed"], "running"),
])
def test_metric_phase(metric, statuses, expected):
    assert decide.phase(metric, statuses) == expected
