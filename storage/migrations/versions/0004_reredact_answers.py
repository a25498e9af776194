"""re-redact stored free-text answers; a Swedish gloss for quotes

Written by hand. Redaction used to miss what people really type (an en dash or a dot in a
personnummer, fullwidth or Arabic-Indic digits, a phone number with dots or slashes, the first
half of an e-mail address with å/ä/ö, a surname after a first name). Every stored free-text
answer is decrypted, redacted again with :func:`core.redact.redact` (with the participant's own
name) and stored encrypted when that removed something; the answer is then marked redacted.
Also adds ``answers.gloss_sv``: a Swedish gloss staff may write for a quote in another language.
The re-redaction cannot be undone: downgrading only drops the gloss column.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types
from core.redact import redact

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ANSWERS = sa.text(
    "SELECT a.id, a.text, p.name FROM answers a"
    " JOIN responses r ON r.id = a.response_id"
    " JOIN participants p ON p.id = r.participant_id"
    " WHERE a.text IS NOT NULL ORDER BY a.id"
)
_UPDATE = sa.text("UPDATE answers SET text = :text, redacted = :redacted WHERE id = :id")


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("gloss_sv", storage.types.EncryptedText(), nullable=True))
    _reredact(op.get_bind())


def _reredact(connection: sa.Connection) -> None:
    """Redact every stored free-text answer again; store those where something was removed."""
    rows = connection.execute(_ANSWERS).all()
    if not rows:
        return  # a new database: no keyring is needed
    from storage.crypto import keyring_of  # attached by storage.migrate.upgrade(keyring=...)

    ring = keyring_of(connection.dialect)
    for answer_id, stored, stored_name in rows:
        text = ring.decrypt(stored)
        names = [ring.decrypt(stored_name)] if stored_name else []
        cleaned = redact(text, names=names)
        if cleaned.text != text:
            values = {"text": ring.encrypt(cleaned.text), "redacted": True, "id": answer_id}
            connection.execute(_UPDATE, values)


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("gloss_sv")
