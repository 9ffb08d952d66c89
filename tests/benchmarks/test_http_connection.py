"""The benchmarks' load-generating HTTP client against a real local server: bodies by
length and by chunks, kept-alive and closed connections."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from benchmarks.common import HttpConnection


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = f"path {self.path}".encode()
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_bodies_by_length_and_by_chunks_on_one_connection(url: str) -> None:
    async def run() -> list[tuple[int, bytes]]:
        connection = HttpConnection.to(url)
        answers = [
            await connection.get("/a?q=x%20y"),
            await connection.get("/chunked"),
            await connection.get("/missing"),
            await connection.get("/close"),
            await connection.get("/after-close"),  # a new connection is opened
        ]
        await connection.close()
        return answers

    assert asyncio.run(run()) == [
        (200, b"path /a?q=x%20y"),
        (200, b"hello chunked world"),
        (404, b"path /missing"),
        (200, b"path /close"),
        (200, b"path /after-close"),
    ]
