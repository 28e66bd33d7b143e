"""A real event-hook receiver on 127.0.0.1: records every request and answers as a test tells it to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

__all__ = ["Received", "Receiver", "wait_until"]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it never does (a hang guard only)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@dataclass
class Received:
    """One request as it arrived, and the status the receiver chose for it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    started: float
    finished: float = 0.0

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.body)
        return data

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.payload["data"]["events"]
        return events

    @property
    def uuids(self) -> list[str]:
        return [event["uuid"] for event in self.events]

    @property
    def accepted(self) -> bool:
        return self.method == "POST" and 200 <= self.status < 300


@dataclass
class Receiver:
    """Answers GETs with the verification echo and POSTs with ``script`` statuses, then ``default_status``."""

    default_status: int = 200
    script: list[int] = field(default_factory=list)
    delay: float = 0.0  # seconds each POST takes to answer
    # From the POST numbered ``hold_after`` (0-based) on, POSTs wait for ``release`` before answering.
    hold_after: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    # When set, every POST waits for one ``gate.release()`` before answering (one at a time, in any order).
    gate: threading.Semaphore | None = None
    max_body: int | None = None  # POSTs with a larger body are answered 413, as a body-capping proxy does
    in_flight: int = 0  # POSTs that arrived and are not answered yet
    max_in_flight: int = 0  # the most there ever were at once
    verification: Callable[[str | None], tuple[int, bytes]] | None = None
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                challenge = self.headers.get("x-okta-verification-challenge")
                answer = receiver.verification or _echo
                status, body = answer(challenge)
                receiver._record(self, b"", status)
                self._answer(status, body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                record, held = receiver._record_post(self, body)
                if held:
                    receiver.release.wait(60)
                if receiver.gate is not None:
                    receiver.gate.acquire(timeout=60)
                time.sleep(receiver.delay)
                record.finished = time.monotonic()
                with receiver._lock:
                    receiver.in_flight -= 1  # before the answer: the sender's next request comes after it
                self._answer(record.status, b"")

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender died while we answered (the crash tests do that on purpose)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def _record_post(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[Received, bool]:
        with self._lock:
            held = self.hold_after is not None and len(self.posts_unlocked()) >= self.hold_after
            if self.max_body is not None and len(body) > self.max_body:
                status = 413
            else:
                status = self.script.pop(0) if self.script else self.default_status
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self._record(handler, body, status), held

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes, status: int) -> Received:
        with self._lock:
            record = Received(
                method=handler.command,
                path=handler.path,
                headers={k.lower(): v for k, v in handler.headers.items()},
                body=body,
                status=status,
                started=time.monotonic(),
            )
            self.requests.append(record)
            return record

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def answer_next(self, *statuses: int, then: int | None = None) -> None:
        """Answer the next POSTs with ``statuses``, and the ones after with ``then`` (if given)."""
        with self._lock:
            self.script = list(statuses)
            if then is not None:
                self.default_status = then

    def posts_unlocked(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    def posts(self, path: str | None = None) -> list[Received]:
        """The POSTs so far (to ``path`` only, when given)."""
        with self._lock:
            return [r for r in self.posts_unlocked() if path is None or r.path == path]

    def gets(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def accepted(self, path: str | None = None) -> list[Received]:
        """The POSTs answered 2xx, in arrival order."""
        return [r for r in self.posts(path) if r.accepted]

    def accepted_uuids(self, path: str | None = None) -> list[str]:
        """The events of every accepted POST, in arrival order (duplicates kept)."""
        return [uuid for r in self.accepted(path) for uuid in r.uuids]

    def __iter__(self) -> Iterator[Received]:
        with self._lock:
            return iter(list(self.requests))


def _echo(challenge: str | None) -> tuple[int, bytes]:
    return 200, orjson.dumps({"verification": challenge})
