"""The records as they were before migrations: sessions, their events and effects.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("scene", sa.String(200), nullable=False),
        sa.Column("started", sa.String(40), nullable=False),
        sa.Column("ended", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("ladder", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("auto", sa.Boolean, nullable=False),
    )
    for name in ("events", "effects"):
        columns: list[sa.Column[Any]] = [
            sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id"), primary_key=True),
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        ]
        if name == "effects":
            columns.append(sa.Column("event_seq", sa.Integer, nullable=True))
        columns += [
            sa.Column("t", sa.Float, nullable=False),
            sa.Column("type", sa.String(32), nullable=False),
            sa.Column("json", sa.Text, nullable=False),
        ]
        op.create_table(name, *columns)
