"""Surveys: enrolled participants, started and answered surveys, responses, queries counted."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

from sqlalchemy import Engine, event, select

from core import surveys as core
from core.clock import utcnow
from storage import invitations, surveys
from storage.db import Database
from storage.models import (
    Answer,
    AnswerTheme,
    Invitation,
    Participant,
    Referral,
    Response,
    SurveyVersion,
    Team,
)
from tests.common.web import csrf_from


async def make_enrolled_participant(
    db: Database,
    person_ref: str = "N-001",
    *,
    team: str = "norr",
    ended: bool = False,
    name: str | None = None,
    language: str | None = None,
) -> Participant:
    """A participant of ``team`` with an enrolment (ended when ``ended``), for survey tests.

    The referral's reference is ``R-{team}-{person_ref}``; ``name`` and ``language`` (free
    text, as the referral form takes it) are stored encrypted.
    """
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == team))
        participant = Participant(
            team_id=team_id, person_ref=person_ref, gender="kvinna", name=name, language=language
        )
        session.add(participant)
        await session.flush()
        session.add(
            Referral(
                reference=f"R-{team}-{person_ref}",
                team_id=team_id,
                participant_id=participant.id,
                status="ended" if ended else "enrolled",
                received_date=date(2026, 1, 5),
                referrer_code="af",
                start_date=date(2026, 2, 1),
                end_date=date(2026, 9, 1) if ended else None,
                end_reason="arbete" if ended else None,
            )
        )
    return participant


async def started(
    db: Database, person_ref: str = "N-001", language: str = "sv", surveys_dir: Path | None = None
) -> str:
    """An invitation claimed on the web and started in ``language``; its token.

    ``surveys_dir``: the förbund's own survey folder (None: the built-in surveys only).
    """
    participant = await make_enrolled_participant(db, person_ref)
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(session, [participant], channel="web", days=30)
        state = await invitations.claim_invitation(session, new.token)
        await surveys.start_response(session, state, language, surveys_dir=surveys_dir)
    return new.token


async def state_for(db: Database, token: str):  # type: ignore[no-untyped-def]
    """The state read afresh, as the next page or message would."""
    async with db.sessions() as session:
        return await invitations.load_token_state(session, token)


async def answer(db: Database, token: str, qid: str, raw: str | list[str]) -> None:
    async with db.transaction() as session:
        state = await invitations.load_token_state(session, token)
        assert state.survey is not None
        question = state.survey.question(qid)
        await surveys.record_answer(session, state, question, core.parse_answer(question, raw))


async def answer_rows(db: Database) -> list[tuple[str, object, str | None, bool, bool]]:
    async with db.sessions() as session:
        rows = await session.scalars(select(Answer).order_by(Answer.question_id))
        return [(a.question_id, a.value, a.text, a.redacted, a.skipped) for a in rows]


async def make_survey_response(
    db: Database,
    participant_id: int,
    *,
    completed: datetime | None,
    invited: datetime | None = None,
    choices: Mapping[str, object] | None = None,
    useful: str | None = None,
    auto_themes: Sequence[str] = (),
    staff_themes: Sequence[str] | None = None,
    quote_allowed: bool | None = None,
) -> int:
    """An invitation and a response of the participant (completed when ``completed``).

    ``choices`` are stored choice answers by question id, ``useful`` the text of ``nytta``
    with its automatic themes; ``staff_themes`` (possibly empty) is a staff correction of them.
    Returns the id of the ``nytta`` answer (0 when there is none).
    """
    async with db.transaction() as session:
        team_id = await session.scalar(
            select(Participant.team_id).where(Participant.id == participant_id)
        )
        version = SurveyVersion(
            code="default",
            version="1",
            content_hash=secrets.token_hex(32),
            definition={"questions": []},
        )
        invitation = Invitation(
            participant_id=participant_id,
            team_id=team_id,
            token_hash=secrets.token_hex(32),
            channel="web",
            created_at=invited or completed or utcnow(),
            expires_at=(invited or completed or utcnow()) + timedelta(days=30),
        )
        session.add_all([version, invitation])
        await session.flush()
        response = Response(
            invitation_id=invitation.id,
            participant_id=participant_id,
            team_id=team_id,
            survey_version_id=version.id,
            channel="web",
            completed_at=completed,
            quote_allowed=quote_allowed,
        )
        session.add(response)
        await session.flush()
        for question, value in (choices or {}).items():
            session.add(Answer(response_id=response.id, question_id=question, value=value))
        if useful is None:
            return 0
        answer = Answer(response_id=response.id, question_id="nytta", text=useful)
        session.add(answer)
        await session.flush()
        session.add_all(
            AnswerTheme(answer_id=answer.id, theme=t, source="auto") for t in auto_themes
        )
        if staff_themes is not None:
            answer.themes_corrected_at = utcnow()
            session.add_all(
                AnswerTheme(answer_id=answer.id, theme=t, source="staff") for t in staff_themes
            )
        return answer.id


@contextlib.contextmanager
def statements_run(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` runs in the block, first words only (``INSERT answers``).

    A statement with data-modifying CTEs (PostgreSQL) is ``WITH`` and the writes in it, in
    order: ``WITH UPDATE responses, INSERT answers``.
    """
    seen: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        words = statement.split()
        if words[0] == "WITH":
            writes = re.findall(r"\b(INSERT INTO|(?<!DO )UPDATE|DELETE FROM) (\w+)", statement)
            seen.append("WITH " + ", ".join(f"{verb.split()[0]} {table}" for verb, table in writes))
        elif words[0] in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            where = {"DELETE": 2, "INSERT": 2, "UPDATE": 1}.get(words[0])
            table = words[words.index("FROM") + 1 if where is None else where]
            seen.append(f"{words[0]} {table}")

    # Every engine: on SQLite Database.run_transaction writes through a synchronous engine of its
    # own on the same file.
    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def heading(html: str) -> str:
    """The text of the page's h1, tags removed."""
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, "page has no h1"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


class SurveyPage:
    """A participant's browser on one survey link."""

    def __init__(self, client, token: str) -> None:  # type: ignore[no-untyped-def]
        self.client, self.page = client, f"/enkat/{token}"
        self.html = ""
        self.status = 0

    async def open(self, query: str = "") -> str:
        response = await self.client.get(self.page + query)
        self.status, self.html = response.status, await response.text()
        return self.html

    async def submit(self, action: str = "answer", *answers: str, path: str = "") -> str:
        """Post the form on the current page with ``answers`` and follow the redirect."""
        data = [("_csrf", csrf_from(self.html)), ("action", action)]
        question = re.search(r'name="question" value="([^"]+)"', self.html)
        data += [("question", question.group(1))] if question else []
        data += [("answer", answer) for answer in answers]
        response = await self.client.post(self.page + path, data=data)
        self.status, self.html = response.status, await response.text()
        return self.html
