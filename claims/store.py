"""Opening the database: engine set-up, migrations, and transactions.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on, and
every write transaction begins IMMEDIATE: with pysqlite's default deferred BEGIN two
writer processes were seen here to lose updates silently. PostgreSQL works by URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from claims.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get("claims_readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """The database: `write()` and `read()` give transactional sessions."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = _make_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise DatabaseError(f"cannot open database {url!r}: {exc}") from exc
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(
            self.engine.execution_options(claims_readonly=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        db = self.engine.url.database
        return Path(db) if db and db != ":memory:" else None

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with self._writer() as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as exc:
                raise DatabaseError(f"database write failed: {exc.orig}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (no write lock taken on SQLite)."""
        with self._reader() as session:
            with session.begin():
                yield session

    def init(self) -> str:
        """Migrate the database to the newest schema; returns the revision now in force."""
        from alembic import command

        cfg = alembic_config(self.url)
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot migrate database {self.url!r}: {exc}") from exc
        return self.revision() or "none"

    def revision(self) -> str | None:
        """The schema revision recorded in the database (None when uninitialised)."""
        if "alembic_version" not in inspect(self.engine).get_table_names():
            return None
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def open_store(url: str, migrate: bool = True) -> Store:
    """Open (and by default migrate) the database at `url`."""
    store = Store(url)
    if migrate:
        store.init()
    return store
