"""Alembic environment: runs on the connection the Store hands over (or the URL)."""

from alembic import context
from sqlalchemy import create_engine

from claims.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _run_with(conn)
        return
    _run_with(conn)


def _run_with(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()


run()
