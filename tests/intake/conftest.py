"""Fixtures of the web tests: a survey link of an enrolled participant."""

from __future__ import annotations

import pytest

from storage import invitations
from storage.db import Database
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import make_team


@pytest.fixture
async def token(db: Database) -> str:
    """The token of a web survey invitation for an enrolled participant of team norr."""
    await make_team(db)
    participant = await make_enrolled_participant(db)
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(session, [participant], channel="web", days=30)
    return new.token
