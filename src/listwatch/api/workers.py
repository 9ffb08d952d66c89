"""Several server processes on one port, each listening on a socket of its own.

With one listening socket shared by every worker, the worker that wakes first accepts
every connection waiting, so a burst of keep-alive connections (a proxy's pool, a client
opening eight at once) can all land on one worker while the others stay idle: a worker
uses one core, and the machine's other cores go unused. Here each worker binds its own
socket to the same port with ``SO_REUSEPORT`` and the kernel spreads new connections over
them. The supervising process holds the port (bound, never listening, so it is given no
connections), starts the workers, starts a worker again when one dies, and stops them all
on SIGINT or SIGTERM. A worker that crashes takes with it the connections the kernel had
queued on its socket (they are reset, and clients ask again), as well as those it had
accepted.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("listwatch.server")

#: Exit code of a worker whose application could not start (uvicorn's): not retried.
STARTUP_FAILURE = 3
#: Connections waiting to be accepted, per worker.
BACKLOG = 2048


def can_share_port() -> bool:
    """Whether this system lets several sockets listen on one port (Linux, BSDs)."""
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one) that workers can listen beside.

    It is never put in the listening state, so the kernel gives it no connections; it
    keeps the port for the workers for as long as the server runs.
    """
    sock = _socket(host)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def listener(host: str, port: int) -> socket.socket:
    """A worker's own listening socket on the reserved port."""
    sock = _socket(host)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to serve (picklable: workers are spawned)."""

    host: str
    port: int
    log_level: str


def run_worker(spec: WorkerSpec) -> None:
    """A worker's body: the application (settings from the environment) on its own socket."""
    import uvicorn

    sock = listener(spec.host, spec.port)
    config = uvicorn.Config(
        "listwatch.api.app:app_from_env",
        factory=True,
        log_level=spec.log_level,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Runs ``count`` workers until SIGINT or SIGTERM, replacing any that dies."""

    def __init__(self, spec: WorkerSpec, count: int, check_seconds: float = 0.5) -> None:
        self.spec = spec
        self.count = count
        self.check_seconds = check_seconds
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self.workers: list[Any] = []

    def _start(self) -> Any:
        process = self._context.Process(
            target=run_worker, args=(self.spec,), name="listwatch-worker", daemon=False
        )
        process.start()
        return process

    def request_stop(self, *_args: object) -> None:
        """Stop every worker and return from :meth:`run` (the signal handler)."""
        self._stop.set()

    def run(self) -> None:
        """Start the workers and keep them running until asked to stop."""
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.request_stop) for sig in stops}
        try:
            self.workers = [self._start() for _ in range(self.count)]
            while not self._stop.wait(self.check_seconds):
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace_dead(self) -> None:
        for number, process in enumerate(self.workers):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("a worker could not start its application; stopping the server")
                self._stop.set()
                return
            log.warning(
                "worker %s ended (exit code %s); starting another", process.pid, process.exitcode
            )
            self.workers[number] = self._start()

    def _stop_all(self, grace: float = 30.0) -> None:
        for process in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + grace
        for process in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
