"""A PostgreSQL database of a test's own, which it may rename away (the database "gone")
and back, on the server of DDQ_TEST_POSTGRES_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def own_database(prefix: str = "ddq_own") -> Iterator[str]:
    """A fresh database (its URL); dropped afterwards, under either name."""
    base = os.environ.get("DDQ_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("DDQ_TEST_POSTGRES_URL is not set")
    admin_url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            for candidate in (name, f"{name}_away"):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{candidate}" WITH (FORCE)'))
        admin.dispose()


def rename_database(database: str, old: str, new: str) -> None:
    """End every connection to ``old`` and rename it ``new``."""
    admin = create_engine(make_url(database).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"),
                               {"name": old})
            connection.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
    finally:
        admin.dispose()
