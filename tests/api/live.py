"""A real ``listwatch serve`` process on a free port of 127.0.0.1, for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

_ADDRESS = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")


class LiveServer:
    """``python -m listwatch.cli.main --db DB serve --port 0``, stopped with SIGTERM."""

    def __init__(
        self, db: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.db = db
        self.env = {**os.environ, **(env or {})}
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 60.0) -> LiveServer:
        command = [sys.executable, "-m", "listwatch.cli.main", "--db", self.db, "serve"]
        self.process = subprocess.Popen(
            [*command, "--port", "0", "--log-level", "warning", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.output.append(line)
            match = _ADDRESS.search(line)
            if match:
                self.url = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.output))
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server never answered:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def live_server(
    db: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[LiveServer]:
    """A running server for the duration of the block (``args``: more ``serve`` options)."""
    server = LiveServer(db, env, args).start()
    try:
        yield server
    finally:
        server.stop()
