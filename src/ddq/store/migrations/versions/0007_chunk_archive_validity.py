"""Old passages kept as chunks are deleted (a trigger), and validity set by hand.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = (
    "chunk_id, document_id, workspace, ordinal, kind, text, location, text_hash, "
    "source_path, archived_at"
)
_VALUES = (
    "OLD.id, OLD.document_id, OLD.workspace, OLD.ordinal, OLD.kind, OLD.text, "
    "OLD.location, OLD.text_hash, "
    "(SELECT source_path FROM documents WHERE id = OLD.document_id)"
)

SQLITE_TRIGGER = f"""
CREATE TRIGGER ddq_chunks_archive BEFORE DELETE ON chunks
BEGIN
    INSERT OR REPLACE INTO chunk_archive ({_COLUMNS})
    VALUES ({_VALUES}, (julianday('now') - 2440587.5) * 86400.0);
END
"""

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ddq_archive_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chunk_archive ({_COLUMNS})
    VALUES ({_VALUES}, extract(epoch from clock_timestamp()))
    ON CONFLICT (chunk_id) DO UPDATE SET
        document_id = EXCLUDED.document_id, workspace = EXCLUDED.workspace,
        ordinal = EXCLUDED.ordinal, kind = EXCLUDED.kind, text = EXCLUDED.text,
        location = EXCLUDED.location, text_hash = EXCLUDED.text_hash,
        source_path = EXCLUDED.source_path, archived_at = EXCLUDED.archived_at;
    RETURN OLD;
END
$$
"""

POSTGRES_TRIGGER = (
    "CREATE TRIGGER ddq_chunks_archive BEFORE DELETE ON chunks "
    "FOR EACH ROW EXECUTE FUNCTION ddq_archive_chunk()"
)


def upgrade() -> None:
    op.create_table(
        "chunk_archive",
        sa.Column("chunk_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("source_path", sa.String(1024), nullable=True),
        sa.Column("archived_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_chunk_archive_source", "chunk_archive", ["workspace", "source_path"])
    op.create_table(
        "evidence_validity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("source_path", sa.String(1024), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workspace", "source_path", name="uq_validity_source"),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute("DROP TRIGGER IF EXISTS ddq_chunks_archive ON chunks")
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute("DROP TRIGGER IF EXISTS ddq_chunks_archive")
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ddq_chunks_archive ON chunks")
        op.execute("DROP FUNCTION IF EXISTS ddq_archive_chunk()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ddq_chunks_archive")
    op.drop_table("evidence_validity")
    op.drop_index("ix_chunk_archive_source", table_name="chunk_archive")
    op.drop_table("chunk_archive")
