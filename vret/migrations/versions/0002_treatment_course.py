"""Treatment course: clients, their fear hierarchies and measures, the audit, and the
hierarchy version each session used.

Revision ID: 0002
Revises: 0001
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
        "clients",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("phobia", sa.String(40), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("therapist", sa.String(64), nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
    )
    op.create_table(
        "hierarchies",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("scene", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("saved", sa.String(40), nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
    )
    op.create_table(
        "client_measures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("taken", sa.String(10), nullable=False),
        sa.Column("instrument", sa.String(40), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(400), nullable=False),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("hierarchy_version", sa.Integer, nullable=True))
    op.create_index("sessions_client", "sessions", ["client"])
