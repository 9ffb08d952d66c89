"""Opening a registry database: URL resolution, engine set-up, migrations and first load.

Any command pointed at an empty database migrates it to the current schema and loads
the bundled curated dataset, so a new user's first command already answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "LISTWATCH_DB"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The newest Alembic revision. Checking it with one query spares every command the cost of
#: loading Alembic; a test keeps it equal to the head of ``migrations/versions``.
SCHEMA_REVISION = "0002"
#: Key of the PostgreSQL advisory lock that serialises first-use set-up across processes.
_SETUP_LOCK_KEY = 0x6C697374  # "list"


class RegistryError(Exception):
    """A problem the user can fix (bad URL, unknown name, malformed input); one clear line."""


def default_data_dir() -> Path:
    """The user's data directory for listwatch (``$LISTWATCH_HOME`` overrides it)."""
    home = os.environ.get("LISTWATCH_HOME")
    if home:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("listwatch", appauthor=False))


def resolve_url(db: str | None = None) -> str:
    """Turn ``--db`` / ``$LISTWATCH_DB`` (a URL or a file path) into a SQLAlchemy URL."""
    value = db or os.environ.get(ENV_VAR)
    if not value:
        path = default_data_dir() / "listwatch.db"
        return f"sqlite:///{path}"
    if "://" in value:
        url = make_url(value)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite make sure the directory exists and set safe pragmas."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def needs_migration(engine: Engine) -> bool:
    """Whether the database is behind the latest migration (or empty)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return True
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return current != SCHEMA_REVISION


@contextmanager
def _setup_lock(engine: Engine, url: str) -> Iterator[None]:
    """Hold a lock while one process migrates and loads, so that two first uses do not race."""
    parsed = make_url(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SETUP_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _SETUP_LOCK_KEY}
                )
                connection.commit()
    elif parsed.database and parsed.database != ":memory:":
        import fcntl

        with open(f"{parsed.database}.setup-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def lock_writers(session: Session, name: str) -> None:
    """Serialise, across processes, the transactions that write ``name`` until this one ends.

    Writers that read before they write (a snapshot diff, clustering news, a review
    decision) would otherwise both act on the same state. PostgreSQL: a transaction-level
    advisory lock keyed on ``name``. SQLite has one writer at a time: its write lock is
    taken now, before the transaction reads anything.
    """
    if session.get_bind().dialect.name == "postgresql":
        import hashlib

        digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        session.execute(text("UPDATE meta SET value = value WHERE 1 = 0"))


class Registry:
    """A handle on one registry database: engine, sessions and first-use set-up."""

    def __init__(self, url: str | None = None, *, load_curated: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.prepare(load_curated=load_curated)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def prepare(self, *, load_curated: bool = True) -> None:
        """Migrate the schema and bring the bundled curated dataset up to date."""
        from listwatch.registry.curated import curated_is_current, sync_curated

        if not needs_migration(self.engine) and (
            not load_curated or curated_is_current(self.engine)
        ):
            return
        with _setup_lock(self.engine, self.url):
            if needs_migration(self.engine):
                migrate(self.engine)
            if load_curated:
                with self.transaction() as session:
                    sync_curated(session)

    def session(self) -> Session:
        """A new session (the caller commits or rolls back)."""
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
