"""Alembic environment: runs on the connection handed over by ``listwatch.registry.db``."""

from alembic import context
from sqlalchemy import create_engine

from listwatch.registry.models import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        engine = create_engine(url or "sqlite://")
        with engine.begin() as own:
            context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
