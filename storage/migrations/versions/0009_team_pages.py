"""team pages: the booked visit's date, and forms kept across an expired session

Written by hand (issue 15). ``referrals.visit_date`` and ``referral_events.visit_date`` hold
the date of the introductory visit (*studiebesök*); ``form_drafts`` keeps what a member of
staff typed when their session had expired, encrypted, until they log in again.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = storage.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("visit_date", sa.Date(), nullable=True))
    with op.batch_alter_table("referral_events") as batch:
        batch.add_column(sa.Column("visit_date", sa.Date(), nullable=True))
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=300), nullable=False),
        sa.Column("fields", storage.types.EncryptedText(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_form_drafts_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_drafts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_form_drafts_token_hash")),
    )
    op.create_index(op.f("ix_form_drafts_user_id"), "form_drafts", ["user_id"])
    op.create_index(op.f("ix_form_drafts_created_at"), "form_drafts", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_form_drafts_created_at"), table_name="form_drafts")
    op.drop_index(op.f("ix_form_drafts_user_id"), table_name="form_drafts")
    op.drop_table("form_drafts")
    with op.batch_alter_table("referral_events") as batch:
        batch.drop_column("visit_date")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("visit_date")
