"""teams.contact_phone, teams.contact_email: how participants reach the team

Written by hand. Optional public contact details a team gives its participants: the survey's
thank-you page and a link that no longer works show them, with how to get a new link.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("contact_phone", sa.String(40), nullable=True))
        batch.add_column(sa.Column("contact_email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("contact_email")
        batch.drop_column("contact_phone")
