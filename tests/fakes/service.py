"""A real HTTP server on 127.0.0.1 for testing the API agents against: subclasses declare routes,
every request is recorded, and faults (an HTTP status, or a stall longer than the client's
timeout) can be queued for the next requests."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Fault:
    status: int | None  # None with stall > 0: answer late
    times: int
    path: str | None = None
    stall: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]


class FakeService:
    """Subclasses list ``routes`` as (method, regex, handler name); handlers get (request, **groups)
    and return (status, body) or (status, body, headers). ``token`` makes Bearer auth required."""

    routes: ClassVar[list[tuple[str, str, str]]] = []

    def __init__(self, token: str | None = None):
        self.token = token
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, status: int, times: int = 1, path: str | None = None, headers: dict[str, str] | None = None):
        """The next ``times`` requests (whose path contains ``path``) get ``status``."""
        self.faults.append(Fault(status, times, path, headers=headers or {}))

    def stall(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        """The next ``times`` requests wait ``seconds`` before being answered normally."""
        self.faults.append(Fault(None, times, path, stall=seconds))

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and contains in r.path]

    def dispatch(self, request: Recorded) -> Reply:
        with self.lock:
            self.requests.append(request)
            fault = self._take_fault(request.path)
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
        elif fault is not None:
            return fault.status or 500, {"message": "injected fault"}, fault.headers
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        for method, pattern, name in self.routes:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                with self.lock:
                    return getattr(self, name)(request, **match.groupdict())
        return 404, {"message": "Not Found"}

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and (fault.path is None or fault.path in path):
                fault.times -= 1
                return fault
        return None


def _handler(service: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes; avoid the 40 ms delayed-ACK stall

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = service.dispatch(Recorded(self.command, parts.path, query, headers, raw))
            status, body, extra = (*reply, {})[:3]
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            try:
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **extra}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
