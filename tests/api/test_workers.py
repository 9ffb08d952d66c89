"""``listwatch serve --workers N``: connections spread over the workers, a worker that dies
is replaced, and stopping the server stops every worker."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from listwatch.api.workers import can_share_port
from tests.api.live import live_server

pytestmark = pytest.mark.skipif(
    not can_share_port() or not Path("/proc/net/tcp").exists(),
    reason="needs SO_REUSEPORT and /proc (Linux)",
)


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def connections_by_process(pids: set[int], port: int) -> dict[int, int]:
    """Established TCP connections on local ``port`` held by each of ``pids``."""
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes[fields[9]] = 0
    counts = {}
    for pid in pids:
        held = 0
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held += 1
        except OSError:
            continue
        counts[pid] = held
    return counts


def open_and_ask(port: int, count: int) -> list[socket.socket]:
    """``count`` keep-alive connections opened at once, each answered once."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n"
    for connection in connections:
        connection.sendall(request)
    for connection in connections:
        connection.settimeout(30)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
    return connections


def test_connections_spread_over_workers_and_a_dead_worker_is_replaced(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = {"LISTWATCH_HOME": str(tmp_path / "home")}
    with live_server(sqlite_url, env, ("--workers", "2", "--no-alerts")) as server:
        assert server.process is not None
        port = int(server.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            connections = open_and_ask(port, 24)
            workers = {
                pid
                for pid, n in connections_by_process(children(server.process.pid), port).items()
                if n
            }
            for connection in connections:
                connection.close()
            if len(workers) == 2:
                break
            time.sleep(0.5)  # a worker may still be starting
        # 24 connections opened at once, all answered: both workers hold some of them
        # (with one shared socket, one worker would usually take them all).
        assert len(workers) == 2, workers

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 90
        replaced: set[int] = set()
        while time.monotonic() < deadline and len(replaced) < 2:
            try:
                connections = open_and_ask(port, 24)
            except ConnectionResetError:
                # Connections the kernel handed to the dying worker's socket are reset
                # with it, as a crashed worker's connections are; clients ask again.
                time.sleep(0.2)
                continue
            counts = connections_by_process(children(server.process.pid), port)
            replaced = {pid for pid, n in counts.items() if n}
            for connection in connections:
                connection.close()
            time.sleep(0.5)
        assert victim not in replaced and len(replaced) == 2, replaced
        before = children(server.process.pid)
    still = {pid for pid in replaced if Path(f"/proc/{pid}").exists()}
    assert not still, f"workers left running after the server stopped: {still} of {before}"
