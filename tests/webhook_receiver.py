"""A webhook receiver on loopback for tests and the bench: it can fail (500), answer slowly,
refuse connections (stopped) and come back on the same port; it keeps what it accepted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    @property
    def message(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    """`mode`: "ok", "fail" (500) or "slow" (keeps the message, then waits `slow_seconds` to
    answer 200: the sender times out, and sends it again); `fails_for`:
    a predicate on a message answered 500 whatever the mode."""

    mode: str = "ok"
    slow_seconds: float = 2.0
    fails_for: Callable[[dict[str, Any]], bool] | None = None
    accepted: list[Received] = field(default_factory=list)
    hits: int = 0
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.hits += 1
                    mode = receiver.mode
                failing = receiver.fails_for is not None and receiver.fails_for(json.loads(body))
                status = 500 if mode == "fail" or failing else 200
                if status == 200:  # kept at once: a slow answer still means it was taken
                    with receiver._lock:
                        receiver.accepted.append(Received(dict(self.headers.items()), body))
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                """What was accepted, for a receiver in another process (the bench)."""
                with receiver._lock:
                    kept = [
                        {"id": r.headers.get("webhook-id"), "at": r.at, "message": r.message}
                        for r in receiver.accepted
                    ]
                body = json.dumps(kept).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the socket: connections are refused until `start()` again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
