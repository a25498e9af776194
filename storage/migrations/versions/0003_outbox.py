"""e-mail outbox

Written by hand. Operations queue their e-mail here in their own transaction; a job sends it
afterwards with retries, so a mail server that is down or slow loses nothing and delays no
page.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("recipients", storage.types.EncryptedText(), nullable=False),
        sa.Column("subject", storage.types.EncryptedText(), nullable=False),
        sa.Column("body", storage.types.EncryptedText(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("due_at", moment, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_until", moment, nullable=True),
        sa.Column("sent_at", moment, nullable=True),
        sa.Column("failed_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_due", "outbox", ["sent_at", "failed_at", "due_at"])
    op.create_index("ix_outbox_object", "outbox", ["object_type", "object_id"])
    op.create_index(op.f("ix_outbox_team_id"), "outbox", ["team_id"])


def downgrade() -> None:
    op.drop_table("outbox")
