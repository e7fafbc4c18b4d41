"""Questionnaires, their questions, and drafted answers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaires",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("job_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("source_path", sa.String(1024), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("question_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("workspace", "job_key", name="uq_questionnaires_job"),
    )
    op.create_index("ix_questionnaires_workspace", "questionnaires", ["workspace"])
    op.create_table(
        "questionnaire_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("questionnaire_id", sa.Integer(),
                  sa.ForeignKey("questionnaires.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("qid", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("section", sa.JSON(), nullable=False),
        sa.Column("location", sa.String(512), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.UniqueConstraint("questionnaire_id", "key", name="uq_questions_key"),
    )
    op.create_index("ix_questions_questionnaire_ordinal", "questionnaire_questions",
                    ["questionnaire_id", "ordinal"])
    op.create_table(
        "answer_drafts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer(),
                  sa.ForeignKey("questionnaire_questions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("stance", sa.String(8), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("fill", sa.JSON(), nullable=False),
        sa.Column("answerer", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("question_id", "version", name="uq_drafts_version"),
    )
    op.create_index("ix_answer_drafts_question_id", "answer_drafts", ["question_id"])


def downgrade() -> None:
    op.drop_table("answer_drafts")
    op.drop_table("questionnaire_questions")
    op.drop_table("questionnaires")
