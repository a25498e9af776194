"""outbox carries SMS too; participants may have an e-mail address

Written by hand. The outbox gets a ``channel`` (``email`` or ``sms``; every existing row is
e-mail) and what the SMS provider said: its id for the message, the delivery status it
reported and when it was delivered. A participant may have an e-mail address (encrypted like
the phone number) for survey invitations by e-mail.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = storage.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=10), server_default="email", nullable=False)
        )
        batch.add_column(sa.Column("provider_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("delivered_at", moment, nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("email", storage.types.EncryptedText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("delivered_at")
        batch.drop_column("delivery_status")
        batch.drop_column("provider_id")
        batch.drop_column("channel")
