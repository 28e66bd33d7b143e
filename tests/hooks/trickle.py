"""A receiver on 127.0.0.1 that answers one byte at a time, forever: no per-read timeout ever trips.

GETs carrying a verification challenge are echoed at once (so a hook can be verified), unless ``verify``
is ``"trickle"``; every other request gets a status line and then an endless header (``in_headers``) or
headers and then an endless body (``in_body``), a byte every ``interval`` seconds, until the client hangs up.
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

import orjson

__all__ = ["Trickler"]

Where = Literal["in_headers", "in_body"]


class Trickler:
    """Counts the connections it got and the ones the client cut while it was still trickling."""

    def __init__(self, where: Where, *, verify: Literal["echo", "trickle"] = "echo", interval: float = 0.1):
        self.where = where
        self.verify = verify
        self.interval = interval
        self.connections = 0
        self.cut = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Trickler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = _read_head(conn)
            challenge = _header(head, b"x-okta-verification-challenge")
            if head.startswith(b"GET") and challenge is not None and self.verify == "echo":
                body = orjson.dumps({"verification": challenge.decode()})
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                return
            if self.where == "in_headers":
                start = b"HTTP/1.1 200 OK\r\nX-Slow: "
            else:
                start = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
            try:
                conn.sendall(start)
                while not self._stop.wait(self.interval):
                    conn.sendall(b"a")
            except OSError:
                with self._lock:
                    self.cut += 1


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = _header(head, b"content-length")
    remaining = int(length) - len(rest) if length is not None else 0
    while remaining > 0:
        chunk = conn.recv(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)
    return head


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None
