"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` in a temp dir,
a free port on 127.0.0.1, stopped and deleted at the end."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed on this machine."""


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (Debian keeps them off the PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.insert(0, str(Path(os.path.realpath(which)).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (install the Debian package `postgresql`; "
        "scripts/setup.sh dev does)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A private PostgreSQL server; ``url(db)`` gives SQLAlchemy URLs for its databases."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="listwatch-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.user = "listwatch"
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the postgres system user.
            account = "postgres" if _user_exists("postgres") else "nobody"
            self._run_as = ["runuser", "-u", account, "--"]
            shutil.chown(self.root, user=account)
        self.started = False

    def _run(self, *args: str) -> None:
        subprocess.run([*self._run_as, *args], check=True, capture_output=True, cwd=self.root)

    def start(self) -> PostgresCluster:
        """initdb and start the server; wait until it accepts connections."""
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        return self

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of one database of the cluster."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement in autocommit mode (CREATE DATABASE and the like)."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally copied from a template); returns its URL."""
        suffix = f" TEMPLATE {template}" if template else ""
        self.execute(f"CREATE DATABASE {name}{suffix}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its files."""
        if self.started:
            for _ in range(3):
                try:
                    self._run(
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.datadir),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    )
                    break
                except subprocess.CalledProcessError:
                    time.sleep(0.5)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
