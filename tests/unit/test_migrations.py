"""The schema revision the code expects is the head of the shipped Alembic scripts."""

from __future__ import annotations

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from ddq.store import db

pytestmark = pytest.mark.unit


def test_head_revision_matches_the_migration_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    heads = scripts.get_heads()
    assert heads == [db.HEAD_REVISION], "one head, and HEAD_REVISION must name it"
