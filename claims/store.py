"""Opening the database: engine set-up, migrations, and transactions.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on, and
every write transaction begins IMMEDIATE: with pysqlite's default deferred BEGIN two
writer processes were seen here to lose updates silently. PostgreSQL works by URL.

Errors of the driver are translated here, at the boundary, into one-line
`DatabaseError`s (exit 3) that never show the URL's password: a file that is not a
claims database, a schema newer than this package, a server that cannot be reached.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from claims.errors import DatabaseError
from claims.redaction import redact_url, scrub

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
OUR_TABLES = frozenset({"alembic_version", "inquiries", "claims"})  # what marks a file as a claims database


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder of the database {path}: {exc.strerror or exc}; "
                                    "set CLAIMS_HOME (or CLAIMS_DATABASE_URL) to a writable place") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            tables = {row[0] for row in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables or OUR_TABLES <= tables:  # never switch another application's file to WAL
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
            raise DatabaseError(f"cannot open database {redact_url(url)}: {_reason(exc, url)}") from exc
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(
            self.engine.execution_options(claims_readonly=True), expire_on_commit=False
        )

    @property
    def where(self) -> str:
        """The database as shown to people: the SQLite file's path, else the URL without its password."""
        return str(self.sqlite_path) if self.sqlite_path else redact_url(self.url)

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """Turn driver errors raised in the block into one-line DatabaseErrors (exit 3)."""
        try:
            yield
        except OperationalError as exc:
            raise DatabaseError(f"cannot use the database {self.where}: {_reason(exc, self.url)}") from exc
        except SADatabaseError as exc:
            if type(exc) is not SADatabaseError:  # integrity, programming errors: bugs or races, not a bad file
                raise
            raise DatabaseError(f"{self.where} is not a claims database ({_reason(exc, self.url)})") from exc

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
                raise DatabaseError(f"database write failed: {_reason(exc, self.url)}") from exc
            except SADatabaseError as exc:
                if type(exc) is not SADatabaseError:
                    raise
                raise DatabaseError(f"{self.where} is not a claims database ({_reason(exc, self.url)})") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (no write lock taken on SQLite)."""
        with self._reader() as session, self.translated():
            with session.begin():
                yield session

    def init(self) -> str:
        """Migrate the database to the newest schema; returns the revision now in force.

        Refuses (DatabaseError) a file that is not a claims database and a schema newer
        than this package, before alembic touches anything.
        """
        self.revision()
        self.migrate("head")
        return self.revision() or "none"

    def migrate(self, target: str, down: bool = False) -> None:
        """Upgrade (or with `down`, downgrade) the schema to revision `target` in one transaction.

        On SQLite, foreign keys are off while it runs: batch migrations copy a table and
        drop the original, which rows of other tables refer to. The references are
        checked before it commits.
        """
        from alembic import command
        from alembic.util import CommandError

        cfg = alembic_config(self.url)
        try:
            with self.engine.connect() as conn:
                raw = conn.connection.driver_connection if self.is_sqlite else None
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or SQLite ignores it
                try:
                    with conn.begin():
                        cfg.attributes["connection"] = conn
                        (command.downgrade if down else command.upgrade)(cfg, target)
                        if raw is not None and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                            raise DatabaseError(f"migrating {self.where} to {target} would break references between rows; "
                                                "nothing was changed")
                finally:
                    if raw is not None:
                        raw.execute("PRAGMA foreign_keys=ON")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot migrate the database {self.where}: {_reason(exc, self.url)}") from exc
        except CommandError as exc:
            raise DatabaseError(f"cannot migrate the database {self.where}: {scrub(str(exc), self.url)}") from exc

    def revision(self) -> str | None:
        """The schema revision recorded in the database (None when it is empty).

        DatabaseError when the file is not a claims database (not SQLite, damaged, or
        another application's tables) or is at a revision this package does not know.
        """
        with self.translated():
            names = set(inspect(self.engine).get_table_names())
            row = None
            if "alembic_version" in names:
                with self.engine.connect() as conn:
                    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        if row is None:
            foreign = sorted(names - {"alembic_version"})
            if foreign:
                raise DatabaseError(f"{self.where} is not a claims database (it holds other tables: "
                                    f"{', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''})")
            return None
        revision = row[0]
        known, head = script_revisions()
        if revision not in known:
            if not OUR_TABLES <= names:
                raise DatabaseError(f"{self.where} is not a claims database (schema revision {revision!r} "
                                    "belongs to another application)")
            raise DatabaseError(f"this database is at revision {revision}, newer than this version of "
                                f"claims-tracker ({head}); upgrade the package")
        return revision

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.lru_cache(maxsize=1)
def script_revisions() -> tuple[frozenset[str], str]:
    """The migration revisions this package ships, and the newest (head)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(r.revision for r in script.walk_revisions()), script.get_current_head() or "none"


def _reason(exc: BaseException, url: str) -> str:
    """The driver's own message, first line only, without the URL's password."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()
    return scrub(text[0] if text else type(orig).__name__, url)


def open_store(url: str, migrate: bool = True) -> Store:
    """Open (and by default migrate) the database at `url`.

    An existing SQLite file of 0 bytes (a truncated copy, a failed write) is refused
    rather than silently turned into a new, empty claims database; `claims init`
    (`migrate=False`, then `Store.init`) is the explicit way to create one there.
    """
    store = Store(url)
    if migrate:
        path = store.sqlite_path
        if path is not None and path.is_file() and path.stat().st_size == 0:
            store.dispose()
            raise DatabaseError(f"the database file {path} is empty (0 bytes), not a claims database; if it should "
                                "be a new one, run `claims init` (or remove the file), else restore it from a backup")
        store.init()
    return store
