"""Shared by the benchmarks: machine description and writing figures into docs/benchmarks.md.

Each benchmark owns one section of docs/benchmarks.md, delimited by
``<!-- BEGIN name -->`` / ``<!-- END name -->`` markers, and rewrites only that section.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
SHARED = Path(os.environ.get("LISTWATCH_SHARED", REPO.parent / "shared"))


def machine() -> str:
    """One line describing the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        fields: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if not key.strip():
                break  # the first processor's fields only
            fields.setdefault(key.strip(), value.strip())
        cpu = fields.get("model name", cpu)
        # A virtual machine may name only the brand ("AMD EPYC"): the family and model tell
        # its generations apart, whose speeds differ by more than twofold.
        if "cpu family" in fields and "model" in fields:
            cpu += f" (family {fields['cpu family']}, model {fields['model']})"
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- BEGIN {name} -->\n{body.rstrip()}\n\n"
        f"_Measured {stamp} on {machine()}._\n<!-- END {name} -->"
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    marker = re.escape(name)
    pattern = re.compile(rf"<!-- BEGIN {marker} -->.*?<!-- END {marker} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """``with timer() as elapsed: ...; elapsed()`` gives seconds since entry."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


class TreeMemory:
    """The peak memory of a process and all its descendants together, sampled on a thread:
    the sum of their proportional set sizes (a page shared by n processes, as forked
    workers share their parent's, counts 1/n in each), read from /proc (Linux)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        import threading

        self.pid = pid
        self.interval = interval
        self.peak_mib = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            total = sum(_pss_kib(pid) for pid in self._tree())
            if total:
                self.samples += 1
                self.peak_mib = max(self.peak_mib, total / 1024)

    def _tree(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, ValueError, IndexError):
                # the process name may hold spaces: the parent id follows its closing ")"
                fields = stat.read_text().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        tree, waiting = [], [self.pid]
        while waiting:
            pid = waiting.pop()
            tree.append(pid)
            waiting.extend(parents.get(pid, []))
        return tree


def _pss_kib(pid: int) -> int:
    with suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, nearest-rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def wait_ready(url: str, seconds: float = 120.0) -> None:
    """Wait until a listwatch server at ``url`` answers its health check."""
    import asyncio

    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds * 10)):
            try:
                if (await client.get(f"{url}/api/v1/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server never answered")


class ServerProcess:
    """``listwatch serve --workers N`` in a child process on a free port of 127.0.0.1, its
    output in ``log``; ``url`` once it prints its address."""

    def __init__(self, db: str, workers: int, log: Path, env: dict[str, str] | None = None) -> None:
        import subprocess
        import sys

        command = [sys.executable, "-m", "listwatch.cli.main", "--db", db, "serve", "--port", "0"]
        command += ["--workers", str(workers), "--log-level", "error"]
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        self.url = ""
        deadline = time.monotonic() + 300
        while not self.url and time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", log.read_text())
            self.url = found.group(1) if found else ""
            time.sleep(0.1)
        if not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + log.read_text())

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s) and show what it printed."""
        import signal
        import subprocess

        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        output = self.log.read_text().strip()
        if output:
            print("server output:\n" + output[-3000:])


class HttpConnection:
    """One keep-alive HTTP/1.1 connection for load generation: GET requests written as
    prepared bytes, responses read by ``Content-Length`` (or chunks).

    A load generator on the same machine as the server takes CPU from it; a general
    client (httpx) spends about a millisecond of CPU per request on the client side,
    as much as the server's own HTTP stack, which made the client a large part of what
    was measured. This one spends about a tenth of that (the benchmarks print it).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: Any = None
        self._writer: Any = None

    @classmethod
    def to(cls, url: str) -> HttpConnection:
        """A connection to ``http://host:port``."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 80)

    async def get(self, path: str) -> tuple[int, bytes]:
        """Status and body of ``GET path``; reconnects when the server closed the connection."""
        import asyncio

        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)
        }
        if b"content-length" in headers:
            body = await self._reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunks()
        else:
            body = await self._reader.read()
            headers[b"connection"] = b"close"
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, body

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self._reader.readexactly(size + 2))
            if size == 0:
                return b"".join(p[:-2] for p in parts)

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            with suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
