"""referral_drafts: the public referral form between its steps, and its receipt's copy

Written by hand. The form's values live here (encrypted, for a few hours) between the form,
the review page and the receipt, so that every step is a redirect after POST.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import EncryptedText, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("payload", EncryptedText(), nullable=False),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_drafts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_referral_drafts_token_hash")),
    )
    op.create_index(
        op.f("ix_referral_drafts_expires_at"), "referral_drafts", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_drafts_expires_at"), table_name="referral_drafts")
    op.drop_table("referral_drafts")
