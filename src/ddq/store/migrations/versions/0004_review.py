"""Service jobs and review: a questionnaire's job state and claim, a question's review state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questionnaires") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False,
                                   server_default="idle"))
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
    with op.batch_alter_table("questionnaire_questions") as batch:
        batch.add_column(sa.Column("review_status", sa.String(16), nullable=False,
                                   server_default="pending"))
        batch.add_column(sa.Column("assignee", sa.String(128), nullable=True))
        batch.add_column(sa.Column("row_version", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("reviewed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_questionnaires_state", "questionnaires", ["state"])


def downgrade() -> None:
    op.drop_index("ix_questionnaires_state", table_name="questionnaires")
    with op.batch_alter_table("questionnaire_questions") as batch:
        for column in ("reviewed_at", "reviewed_by", "row_version", "assignee",
                       "review_status"):
            batch.drop_column(column)
    with op.batch_alter_table("questionnaires") as batch:
        for column in ("error", "heartbeat_at", "claimed_by", "state"):
            batch.drop_column(column)
