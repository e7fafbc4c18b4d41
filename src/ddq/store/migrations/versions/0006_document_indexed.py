"""Documents say whether their vectors are in the vector index: ``indexed`` is committed
false with the document and set once its vectors are flushed, so a crash in between is found
(and repaired) by the next ingest. Existing documents were indexed when they were stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("indexed", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("indexed")
