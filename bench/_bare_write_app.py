"""The write floor: a bare Starlette endpoint, one uvicorn worker (uvloop, httptools), one INSERT + commit.

    python bench/_bare_write_app.py sqlite PATH PORT [NORMAL|FULL]
    python bench/_bare_write_app.py postgresql URL PORT

``POST /write`` stores the request body padded to ~1.5 KB (the size of a stored audit event) in one row and
answers 201 with its id. SQLite: stdlib ``sqlite3``, WAL, ``synchronous`` as given, one connection used on
the event loop (no thread hop: the best this stack can do). PostgreSQL: psycopg 3 async connections, one
per concurrent request (up to 32), autocommit (the INSERT is its own transaction). No validation, no auth,
no routing layers: what the hardware and the stack can do at best (shared/reference/performance-floors.md).
"""

from __future__ import annotations

import sqlite3
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAD = "x" * 1400
DDL = "CREATE TABLE IF NOT EXISTS floor_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
DDL_PG = "CREATE TABLE IF NOT EXISTS floor_rows (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"


def sqlite_app(path: str, synchronous: str) -> Starlette:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(DDL)
    conn.commit()

    async def write(request: Request) -> Response:
        body = (await request.body()).decode()
        cursor = conn.execute("INSERT INTO floor_rows (body) VALUES (?)", (body + PAD,))
        conn.commit()
        return Response(b'{"id":%d}' % cursor.lastrowid, status_code=201, media_type="application/json")

    return Starlette(routes=[Route("/write", write, methods=["POST"])])


def postgres_app(url: str) -> Starlette:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL_PG)
    idle: list[psycopg.AsyncConnection] = []

    async def take() -> psycopg.AsyncConnection:
        if idle:
            return idle.pop()
        return await psycopg.AsyncConnection.connect(url, autocommit=True)

    async def write(request: Request) -> Response:
        body = (await request.body()).decode()
        conn = await take()
        try:
            cursor = await conn.execute(
                "INSERT INTO floor_rows (body) VALUES (%s) RETURNING id", (body + PAD,)
            )
            row = await cursor.fetchone()
        finally:
            if len(idle) < 32:
                idle.append(conn)
            else:
                await conn.close()
        assert row is not None
        return Response(b'{"id":%d}' % row[0], status_code=201, media_type="application/json")

    return Starlette(routes=[Route("/write", write, methods=["POST"])])


def main() -> None:
    kind, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "sqlite":
        app = sqlite_app(target, sys.argv[4] if len(sys.argv) > 4 else "NORMAL")
    else:
        app = postgres_app(target)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        date_header=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
