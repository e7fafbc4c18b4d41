"""Engines and migrations. SQLite by default, PostgreSQL by URL; same code for both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ddq.errors import DDQError, ErrorCode

#: The newest migration; a unit test checks it matches the migrations folder.
HEAD_REVISION = "0007"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_engine(url: str, *, migrate_schema: bool = True,
                statement_timeout_s: float = 0) -> Engine:
    """Connect, and bring the schema to the newest migration unless told not to.

    ``statement_timeout_s`` (PostgreSQL) ends any statement that runs or waits on a lock for
    longer, so a request fails (503) instead of hanging; 0 is no limit."""
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        connect_args: dict[str, Any] = {}
        if url.startswith("postgresql") and statement_timeout_s > 0:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"),
                               connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        raise DDQError(ErrorCode.CONFIG, f"database URL is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate_schema:
        migrate(engine)
    return engine


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Upgrade to head; a no-op (one cheap query) when the schema is already current."""
    try:
        if current_revision(engine) == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # A migration may rewrite a large table: no statement timeout for it.
                conn.execute(text("SET LOCAL statement_timeout = 0"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise DDQError(
            ErrorCode.STORE_ERROR, f"cannot reach the database: {exc.orig or exc}"
        ) from exc
    except SQLAlchemyError as exc:
        raise DDQError(ErrorCode.STORE_ERROR, f"database migration failed: {exc}") from exc
